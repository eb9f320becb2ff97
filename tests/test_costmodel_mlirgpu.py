"""GPU pairs for the MLIR model: linalg lowered by MLIR's own NVVM pipeline, registers from real ptxas."""

from __future__ import annotations

import pytest
from conftest import need_tool

from irtoolkit.costmodel import mlirfeatures as MF
from irtoolkit.costmodel import tools
from irtoolkit.costmodel.dataset import mlirgpu

CHAIN = """func.func @chain(%A: memref<16x24xf32>, %B: memref<24x8xf32>, %C: memref<16x8xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%C : memref<16x8xf32>)
  linalg.matmul ins(%A, %B : memref<16x24xf32>, memref<24x8xf32>) outs(%C : memref<16x8xf32>)
  return
}
func.func @scalar(%a: i32) -> i32 {
  %r = arith.muli %a, %a : i32
  return %r : i32
}
"""


@pytest.fixture
def ptxas():
    need_tool("mlir-opt-22")
    if tools.find("ptxas") is None:
        pytest.skip("ptxas not installed (pip install nvidia-cuda-nvcc-cu12)")


@pytest.mark.parametrize("arch", mlirgpu.ARCHS)
def test_a_function_gets_its_heaviest_kernels_registers(ptxas, arch, tmp_path):
    # fill and matmul are two launches; the matmul, with its k loop in each thread, needs more
    regs = mlirgpu.registers(CHAIN, 8, arch, tmp_path)
    assert set(regs) == {"chain"}            # a scalar function makes no kernel
    assert 8 <= regs["chain"] <= 255
    fill_only = CHAIN.replace("  linalg.matmul", "  // linalg.matmul")
    assert mlirgpu.registers(fill_only, 8, arch, tmp_path)["chain"] < regs["chain"]


def test_gpu_rows_and_features(ptxas, tmp_path):
    from irtoolkit.costmodel.dataset.mlirpairs import generate

    rows, errors = mlirgpu.program_rows(generate(300001, families=("matmul", "elementwise")), [0, 16], tmp_path)
    assert rows and not errors
    assert all(set(r["labels"]) == set(mlirgpu.TARGETS) for r in rows)
    f = MF.pipeline_features(rows[-1]["pipeline"])
    assert f["pipe.gpu"] == 1 and f["pipe.gpu_tile"] in (0, 16)
    assert MF.pipeline_features(mlirgpu.gpu_pipeline(16))["pipe.gpu_tile"] == 16


def test_the_model_gives_registers_for_a_gpu_pipeline_and_instructions_for_a_cpu_one():
    from irtoolkit.costmodel import mlirmodel

    m = mlirmodel.load()
    gpu = m.predict(CHAIN, mlirgpu.gpu_pipeline(8))[0].values
    cpu = m.predict(CHAIN)[0].values
    assert set(gpu) == {"gpu_registers_sm80", "gpu_registers_sm90"}
    assert "machine_instructions" in cpu and "gpu_registers_sm80" not in cpu
    with pytest.raises(Exception, match="not a figure of a GPU pipeline"):
        m.rank(CHAIN, [mlirgpu.gpu_pipeline(8)], "machine_instructions")
