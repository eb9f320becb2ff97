"""The MLIR model's simulation of the affine passes (costmodel/mlirlowering.py) against mlir-opt-22 itself:
the loops, vectorised loops and innermost body copies that tile / super-vectorise / unroll leave."""

from __future__ import annotations

import subprocess

import pytest
from conftest import need_tool

import irtools
from irtoolkit.costmodel import mlirfeatures as MF
from irtoolkit.costmodel.dataset import mlirgen, mlirpairs
from irtoolkit.costmodel.mlirlowering import Nest, op_cost, simulate, vectorizable

REDUCTION = """func.func @colsum(%A: memref<8x32xf32>, %O: memref<32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%A : memref<8x32xf32>) outs(%O : memref<32xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  return
}
"""


def _affine_part(cfg: dict) -> str:
    """The pipeline up to the affine passes' output (before lower-affine)."""
    return mlirpairs.pipeline(cfg).split(",lower-affine")[0] + ")"


def _after(source: str, cfg: dict) -> dict[str, dict[str, int]]:
    out = subprocess.run(["mlir-opt-22", f"--pass-pipeline={_affine_part(cfg)}"], input=source,
                         capture_output=True, text=True, timeout=60)
    if out.returncode:
        return {}
    mod = irtools.parse_mlir(out.stdout)
    res = {}
    for op in mod.walk():
        if op.name == "func.func":
            names = [o.name for o in op.walk()]
            res[op.sym_name] = {"loops": names.count("affine.for") + names.count("scf.for"),
                                "vectorized": int(any(n.startswith("vector.transfer") for n in names))}
    return res


def test_rules_read_off_mlir_opt():
    # the column sum: the parallel inner loop is the vector loop; 32/4 = 8 iterations, unrolled 8 times
    # is a full unroll, so one loop stays
    need_tool("mlir-opt-22")
    cfg = {"tile": 0, "vector": 4, "unroll": 8}
    f = MF.module_features(REDUCTION, mlirpairs.pipeline(cfg))["colsum"]
    assert (f["sim.loops"], f["sim.copies"], f["sim.vectorized"], f["sim.full_unrolled"]) == (1, 8, 1, 1)
    assert _after(REDUCTION, cfg)["colsum"] == {"loops": 1, "vectorized": 1}
    # an unroll factor above the trip count leaves the loop alone
    assert simulate(Nest([8, 32], [False, True], [[{0}, {1}], [{1}]], 1, 3), 0, 0, 64)["sim.copies"] == 1
    # a row reduction has no vectorisable loop (the inner one carries the sum, the outer one strides)
    assert vectorizable(Nest([16, 64], [True, False], [[{0}, {1}], [{0}]])) is None
    # matmul: j, the middle loop, is the one (A is invariant along it, B and C contiguous)
    assert vectorizable(Nest([8, 8, 8], [True, True, False], [[{0}, {2}], [{2}, {1}], [{0}, {1}]])) == 1


def test_simulated_shape_agrees_with_mlir_opt_on_generated_programs():
    """Loops left and whether anything was vectorised, per function, for 12 programs × 6 pipelines."""
    need_tool("mlir-opt-22")
    rows = agree_loops = agree_vec = 0
    misses = []
    for seed in range(12):
        prog = mlirpairs.generate(seed, families=mlirpairs.LINALG_FAMILIES + ("stencil", "scf_loops"))
        src = prog.source
        for cfg in mlirgen.lowerings(seed, 6):
            got = _after(src, cfg)
            if not got:
                continue
            feats = MF.module_features(src, mlirpairs.pipeline(cfg))
            for name, f in feats.items():
                if name not in got:
                    continue
                rows += 1
                ok_l = int(f["sim.loops"]) == got[name]["loops"]
                ok_v = int(f["sim.vectorized"] > 0) == got[name]["vectorized"]
                agree_loops += ok_l
                agree_vec += ok_v
                if not (ok_l and ok_v):
                    misses.append((name, cfg, f["sim.loops"], f["sim.vectorized"], got[name]))
    assert rows >= 100
    # the rules are the passes' for the nests the generator writes; a miss is shown, not hidden
    assert agree_vec / rows >= 0.95, misses[:10]
    assert agree_loops / rows >= 0.9, misses[:10]


@pytest.mark.parametrize("cfg", [{"tile": 16, "vector": 0, "unroll": 4}, {"tile": 0, "vector": 8, "unroll": 2}])
def test_the_simulation_changes_with_the_pipeline(cfg):
    base = MF.module_features(REDUCTION, mlirpairs.pipeline(mlirgen.BASELINE))["colsum"]
    f = MF.module_features(REDUCTION, mlirpairs.pipeline(cfg))["colsum"]
    assert f["sim.code_est"] != base["sim.code_est"]


@pytest.mark.parametrize("op,t", [("arith.maximumf", "f32"), ("arith.divsi", "i64"), ("arith.mulf", "f64")])
def test_op_costs_are_what_llc_makes_of_one_op(op, t, tmp_path):
    """OP_COST against the real lowering: one op on two arguments, minus returning the first."""
    for tool in ("mlir-opt-22", "mlir-translate-22", "llc-22", "llvm-nm-22"):
        need_tool(tool)

    def count(body: str) -> float:
        src = f"func.func @f(%a: {t}, %b: {t}) -> {t} {{\n{body}\n}}\n"
        return mlirpairs.lower_and_label(src, mlirpairs.STANDARD_PIPELINE, tmp_path)["f"]["machine_instructions"]

    measured = count(f"  %r = {op} %a, %b : {t}\n  return %r : {t}") - count(f"  return %a : {t}")
    assert measured == op_cost(op)


FOLDS = """func.func @folds(%a: i64, %b: i64) -> i64 {
  %v = arith.andi %a, %a : i64
  %c = arith.cmpi slt, %a, %v : i64
  %r = scf.if %c -> (i64) {
    %x = arith.divsi %v, %b : i64
    scf.yield %x : i64
  } else {
    scf.yield %a : i64
  }
  %dead = arith.muli %a, %b : i64
  return %r : i64
}
"""


def test_folded_and_dead_scalar_ops_cost_what_llc_leaves_of_them(tmp_path):
    """x & x is x, x < x is false, the scf.if runs its else branch, the multiply feeds nothing: llc
    makes the function a move and a return, and the features price no op."""
    for tool in ("mlir-opt-22", "mlir-translate-22", "llc-22", "llvm-nm-22"):
        need_tool(tool)
    f = MF.module_features(FOLDS, mlirpairs.STANDARD_PIPELINE)["folds"]
    assert f["sim.flat_cost"] == 0 and f["sim.dead_ops"] >= 2
    n = mlirpairs.lower_and_label(FOLDS, mlirpairs.STANDARD_PIPELINE, tmp_path)["folds"]["machine_instructions"]
    assert n <= 2
    # without the folds the same ops cost: the divide is real once the condition is not constant
    g = MF.module_features(FOLDS.replace("arith.andi %a, %a", "arith.andi %a, %b"), mlirpairs.STANDARD_PIPELINE)
    assert g["folds"]["sim.flat_cost"] > 2
