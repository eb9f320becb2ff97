"""The MLIR cost model: source-level pairs labelled by the real tools, MLIR features, the shipped MLIR
model's predictions, ranking and out-of-distribution check (mlir-opt-22, mlir-translate-22, llc-22)."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import need_tool

from irtoolkit import costmodel
from irtoolkit.costmodel import mlirfeatures as MF
from irtoolkit.costmodel import mlirmodel
from irtoolkit.costmodel.dataset import mlirpairs

TOOLS = ("mlir-opt-22", "mlir-translate-22", "llc-22", "llvm-nm-22")

MATMUL = """module {
  func.func @mm(%A: memref<32x48xf32>, %B: memref<48x16xf32>, %C: memref<32x16xf32>) {
    linalg.matmul ins(%A, %B : memref<32x48xf32>, memref<48x16xf32>) outs(%C : memref<32x16xf32>)
    return
  }
}
"""

HW = """hw.module @counter(in %clk : !seq.clock, in %a : i8, out o : i8) {
  %0 = comb.add %a, %a : i8
  %r = seq.compreg %0, %clk : i8
  hw.output %r : i8
}
"""

BASE = mlirpairs.pipeline({"tile": 0, "vector": 0, "unroll": 1})
UNROLL8 = mlirpairs.pipeline({"tile": 0, "vector": 0, "unroll": 8})


def _tools():
    for t in TOOLS:
        need_tool(t)


def test_generator_is_deterministic_and_covers_tensors_dynamic_shapes_and_chains():
    assert mlirpairs.generate(11).source == mlirpairs.generate(11).source
    srcs = [mlirpairs.generate(s).source for s in range(60)]
    fams = {k.family for s in range(60) for k in mlirpairs.generate(s).kernels}
    assert {"chain", "tensor_elementwise", "dynamic_elementwise", "matmul", "conv", "scf_loops"} <= fams
    assert any("tensor<" in s for s in srcs) and any("memref<?x?x" in s for s in srcs)
    assert mlirpairs.STANDARD_PIPELINE.startswith("builtin.module(one-shot-bufferize")


def test_a_pair_row_carries_the_labels_llc_gives_its_lowering(tmp_path):
    _tools()
    out = tmp_path / "ds"
    s = mlirpairs.build(out, programs=2, configs=2, first_seed=40, per_shard=2, progress=False)
    rows = mlirpairs.load_rows(out)
    assert s["rows"] == len(rows) > 0
    r = rows[0]
    assert r["pipeline"] == mlirpairs.pipeline(r["config"]) and r["function"] in r["source"]
    # lower the row's own source with its own pipeline, by hand, and read llc-22's object with llvm-nm-22
    d = tmp_path / "check"
    d.mkdir()
    (d / "p.mlir").write_text(r["source"])
    subprocess.run(["mlir-opt-22", str(d / "p.mlir"), f"--pass-pipeline={r['pipeline']}", "-o", str(d / "p.l.mlir")],
                   check=True)
    subprocess.run(["mlir-translate-22", "--mlir-to-llvmir", str(d / "p.l.mlir"), "-o", str(d / "p.ll")], check=True)
    subprocess.run(["llc-22", "-O2", "-filetype=obj", str(d / "p.ll"), "-o", str(d / "p.o")], check=True)
    nm = subprocess.run(["llvm-nm-22", "--print-size", str(d / "p.o")], capture_output=True, text=True, check=True)
    sizes = {p[3]: int(p[1], 16) for p in (ln.split() for ln in nm.stdout.splitlines()) if len(p) == 4}
    assert r["labels"]["text_bytes"] == sizes[r["function"]]
    asm = subprocess.run(["llc-22", "-O2", str(d / "p.ll"), "-o", "-"], capture_output=True, text=True,
                         check=True).stdout
    assert f"{r['function']}:" in asm and r["labels"]["machine_instructions"] > 0


def test_features_are_deterministic_and_differ_between_pipelines():
    a = MF.module_features(MATMUL, BASE)["mm"]
    assert a == MF.module_features(MATMUL, BASE)["mm"]
    assert set(a) == set(MF.FEATURE_NAMES)
    assert a["la.points"] == 32 * 16 * 48 and a["op.linalg.matmul"] == 1 and a["la.red_iters"] == 1
    b = MF.module_features(MATMUL, UNROLL8)["mm"]
    assert b["pipe.unroll"] == 8 and a["pipe.unroll"] == 1
    diff = {k for k in a if a[k] != b[k]}
    assert diff and all(k.startswith(("pipe.", "sim.")) for k in diff)
    # the function's own text is the same: the language view does not depend on the pipeline
    assert all(a[f"ng.{k}"] == b[f"ng.{k}"] for k in range(MF.NGRAM_BUCKETS))


def test_pipeline_features_read_options_of_any_pipeline_string():
    p = "builtin.module(func.func(affine-loop-tile{tile-size=16},affine-loop-unroll{unroll-factor=4}),lower-affine)"
    f = MF.pipeline_features(p)
    assert (f["pipe.tile"], f["pipe.vector"], f["pipe.unroll"]) == (16, 0, 4)
    assert MF.pass_names(p) == ["builtin.module", "func.func", "affine-loop-tile", "affine-loop-unroll",
                                "lower-affine"]


@pytest.fixture(scope="module")
def model():
    try:
        return mlirmodel.load()
    except Exception as e:        # noqa: BLE001
        pytest.skip(f"no shipped MLIR model: {e}")


def test_ood_flags_an_unfamiliar_dialect_and_not_linalg(model):
    lin = model.predict(MATMUL)
    assert [p.function for p in lin] == ["mm"] and not lin[0].ood
    hw = model.predict(HW)
    assert hw and hw[0].ood and "comb" in hw[0].ood_reasons[0]


def test_rank_puts_the_plain_lowering_before_the_unrolled_one(model):
    ranked = model.rank(MATMUL, [UNROLL8, BASE])
    assert [r.pipeline for r in ranked] == [BASE, UNROLL8]
    assert ranked[0].value < ranked[1].value


def test_the_default_model_dispatches_mlir_text_to_the_mlir_model(model):
    m = costmodel.load()
    a = m.predict(MATMUL, pipeline=UNROLL8)
    b = model.predict(MATMUL, UNROLL8)
    assert [p.to_json() for p in a] == [p.to_json() for p in b]
    assert m.predict(MATMUL)[0].values["machine_instructions"].value == \
        model.predict(MATMUL, mlirpairs.STANDARD_PIPELINE)[0].values["machine_instructions"].value
    assert [r.pipeline for r in m.rank(MATMUL, [UNROLL8, BASE])] == [BASE, UNROLL8]
    json.dumps([p.to_json() for p in a])


def test_a_saved_mlir_model_predicts_the_same_after_loading(model, tmp_path):
    model.save(tmp_path / "m")
    again = mlirmodel.load(tmp_path / "m")
    assert [p.to_json() for p in again.predict(MATMUL, UNROLL8)] == [p.to_json() for p in model.predict(MATMUL, UNROLL8)]


def test_instructions_executed_come_from_a_harness_calling_the_lowered_function(tmp_path):
    _tools()
    need_tool("valgrind")
    need_tool("clang-22")
    counts = {}
    for n in (8, 16):
        src = MATMUL.replace("32x48", f"{n}x{n}").replace("48x16", f"{n}x{n}").replace("32x16", f"{n}x{n}")
        d = tmp_path / str(n)
        mlirpairs.lower_and_label(src, BASE, d)
        counts[n] = mlirpairs.dynamic_labels(src, d)["mm"]
    # a matmul does n^3 multiply-adds: doubling n multiplies the count by about 8
    assert counts[8] > 8 ** 3 and 6 < counts[16] / counts[8] < 9


def test_cli_cost_takes_a_pipeline_for_mlir_and_refuses_one_for_llvm_ir(tmp_path, model):
    import sys

    src = tmp_path / "k.mlir"
    src.write_text("func.func @scale(%a: memref<64xf32>, %s: f32) {\n  affine.for %i = 0 to 64 {\n"
                   "    %v = affine.load %a[%i] : memref<64xf32>\n    %w = arith.mulf %v, %s : f32\n"
                   "    affine.store %w, %a[%i] : memref<64xf32>\n  }\n  return\n}\n")
    unroll = ("builtin.module(func.func(affine-loop-unroll{unroll-factor=8}),lower-affine,convert-scf-to-cf,"
              "convert-to-llvm)")

    def cost(*extra):
        return subprocess.run([sys.executable, "-m", "irtools", "cost", "--json", *extra], capture_output=True,
                              text=True)

    plain, unrolled = cost(str(src)), cost(str(src), "--pipeline", unroll)
    assert plain.returncode == 0 and unrolled.returncode == 0, plain.stderr + unrolled.stderr
    a, b = json.loads(plain.stdout), json.loads(unrolled.stdout)
    assert a["function"] == b["function"] == "scale"
    # unrolling by 8 makes the code larger: the model reads the pipeline, not only the function
    assert b["machine_instructions"]["value"] > a["machine_instructions"]["value"]
    ll = tmp_path / "f.ll"
    ll.write_text("define i32 @f(i32 %x) {\n  ret i32 %x\n}\n")
    bad = cost(str(ll), "--pipeline", unroll)
    assert bad.returncode != 0 and bad.stdout == "" and "pipeline applies to MLIR" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
