"""MLIR analyses and summaries: histograms, nesting, loop nests and trip counts, shapes, features."""

from __future__ import annotations

import subprocess

import pytest
from conftest import need_tool

from irtools import parse_mlir
from irtools.ir.mlir import analysis as an
from irtools.ir.mlir import attrs as A
from irtools.ir.mlir.stats import summarize

KERNEL = """\
module {
  func.func @mm(%a: memref<64x32xf32>, %b: memref<32x?xf32>, %c: memref<64x?xf32>, %t: tensor<8x?xi8>) {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %n = memref.dim %b, %c0 : memref<32x?xf32>
    scf.for %i = %c0 to %c64 step %c4 {
      scf.for %j = %c0 to %n step %c4 {
        affine.for %k = 0 to 32 step 2 {
          %x = memref.load %a[%i, %k] : memref<64x32xf32>
          %y = memref.load %b[%k, %j] : memref<32x?xf32>
          %p = arith.mulf %x, %y : f32
          memref.store %p, %c[%i, %j] : memref<64x?xf32>
        }
      }
    }
    scf.parallel (%u, %v) = (%c0, %c0) to (%c64, %c4) step (%c4, %c4) {
    }
    affine.parallel (%q) = (0) to (10) {
    }
    return
  }
  func.func private @ext(i32) -> i32
}
"""


@pytest.fixture(scope="module")
def mod():
    return parse_mlir(KERNEL)


def test_histograms_and_depth(mod):
    hist = an.op_histogram(mod)
    assert hist["scf.for"] == 2 and hist["memref.load"] == 2 and hist["scf.yield"] == 2
    assert hist["affine.yield"] == 2 and hist["scf.reduce"] == 1
    assert an.dialect_histogram(mod)["arith"] == 4
    assert an.nesting_depth(mod) == 5  # module > func > for > for > affine.for > load


def test_loops_and_trip_counts(mod):
    ls = an.loops(mod)
    assert [(lp.op.name, lp.depth, lp.trip_counts) for lp in ls] == [
        ("scf.for", 1, (16,)), ("scf.for", 2, (None,)), ("affine.for", 3, (16,)),
        ("scf.parallel", 1, (16, 1)), ("affine.parallel", 1, (10,))]
    nests = an.loop_nests(mod)
    assert [[lp.op.name for lp in n] for n in nests] == [["scf.for", "scf.for", "affine.for"], ["scf.parallel"],
                                                         ["affine.parallel"]]
    assert nests[1][0].trip_count == 16


def test_generic_affine_for_trip_count():
    opt = need_tool("mlir-opt-22")
    generic = subprocess.run([opt, "--allow-unregistered-dialect", "--mlir-print-op-generic", "-"],
                             input=KERNEL.encode(), capture_output=True, check=True).stdout
    g = parse_mlir(generic)
    assert [lp.trip_counts for lp in an.loops(g)] == [lp.trip_counts for lp in an.loops(parse_mlir(KERNEL))]


def test_shapes(mod):
    sh = an.shapes(mod)
    kinds = {(s.kind, s.shape, str(s.element_type)) for s in sh}
    assert ("memref", (64, 32), "f32") in kinds and ("memref", (32, None), "f32") in kinds
    assert ("tensor", (8, None), "i8") in kinds
    assert next(s for s in sh if s.shape == (64, 32)).static_elements == 2048


def test_feature_vector_keys_are_stable(mod):
    f = an.feature_vector(mod)
    assert tuple(f) == an.FEATURE_KEYS
    assert all(isinstance(v, float) for v in f.values())
    assert f["ops"] == sum(an.op_histogram(mod).values())
    assert f["loops"] == 5 and f["loop_depth"] == 3
    assert f["loop_trip_product"] == 0.0  # the deepest nest has a dynamic bound
    assert f["kind.memory"] == 3 and f["kind.float"] == 1
    assert f["dialect.scf"] == 6 and f["max_rank"] == 2 and f["dynamic_dims"] >= 3
    inner = an.loops(mod)[2].op
    fi = an.feature_vector(inner)
    assert fi["loop_trip_product"] == 16.0 and fi["ops"] == 6


def test_summarize(mod):
    s = summarize(mod)
    assert s["operations"] == sum(an.op_histogram(mod).values())
    assert s["functions"] == 1 and s["declarations"] == 1
    assert s["dialects"]["scf"] == 6 and s["ops"]["func.func"] == 2
    assert s["bytes"] == len(KERNEL.encode())
    assert s["regions"] == 8 and s["blocks"] == 7  # the declaration's region is empty
    chunks = parse_mlir(KERNEL + "// -----\n" + '"x.y"() : () -> ()\n', split_input_file=True)
    s2 = summarize(chunks)
    assert s2["chunks"] == 2 and s2["operations"] == s["operations"] + 2


def test_types_on_values(mod):
    f = mod.lookup_symbol("mm")
    a, b, c, t = f.regions[0].blocks[0].arguments
    assert a.type == A.MemRefType((64, 32), A.FloatType("f32"))
    assert t.type == A.RankedTensorType((8, None), A.IntegerType(8))
