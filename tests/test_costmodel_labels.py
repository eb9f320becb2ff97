"""Labellers on real clang-22-compiled C: llc remarks, symbol sizes, llvm-mca loops, callgrind counts, ptxas."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import need_tool

from irtoolkit.costmodel.dataset import cgen
from irtoolkit.costmodel.dataset.labellers import (
    CallgrindLabeller,
    LlcStaticLabeller,
    McaLoopLabeller,
    PtxasLabeller,
    asm_innermost_loops,
    occupancy,
    parse_ptxas,
    parse_remarks,
    remarks_to_labels,
)

SPILLY = """
void ext(void);
double spilly(double *a) {
  double v0=a[0],v1=a[1],v2=a[2],v3=a[3],v4=a[4],v5=a[5],v6=a[6],v7=a[7],v8=a[8],v9=a[9],v10=a[10],
         v11=a[11],v12=a[12],v13=a[13],v14=a[14],v15=a[15],v16=a[16],v17=a[17],v18=a[18],v19=a[19];
  ext();   /* every double is caller-saved on x86-64: all of them live across the call */
  return v0*v1+v2*v3+v4*v5+v6*v7+v8*v9+v10*v11+v12*v13+v14*v15+v16*v17+v18*v19;
}
int small(int x) { return x + 1; }
"""


def _compile(tmp: Path, src: str, *flags: str) -> Path:
    clang = need_tool("clang-22")
    c = tmp / "k.c"
    c.write_text(src)
    ll = tmp / "k.ll"
    subprocess.run([clang, "-O2", *flags, "-S", "-emit-llvm", str(c), "-o", str(ll)], check=True)
    return ll


def test_forced_spills_are_labelled(tmp_path):
    need_tool("llc-22")
    ll = _compile(tmp_path, SPILLY)
    labels, obj = LlcStaticLabeller().label(ll, tmp_path / "w")
    sp, sm = labels.values["spilly"], labels.values["small"]
    assert sp["spills"] > 0 and sp["reloads"] > 0 and sp["stack_bytes"] > 0
    assert sm["spills"] == 0 and sm["stack_bytes"] == 0
    assert sp["machine_instructions"] > sm["machine_instructions"] > 0
    # .text bytes come from the object's symbol table and agree with llvm-nm
    nm = subprocess.run([need_tool("llvm-nm-22"), "--print-size", str(obj)], capture_output=True, text=True).stdout
    size = next(int(ln.split()[1], 16) for ln in nm.splitlines() if ln.endswith(" small"))
    assert sm["text_bytes"] == size
    prov = labels.provenance["spills"]
    assert prov.tool == "llc-22" and "22." in prov.version and "x86_64" in prov.target


def test_remarks_parser_reads_quoted_names():
    text = """--- !Analysis
Pass:            asm-printer
Name:            InstructionCount
Function:        'weird.name$1'
Args:
  - NumInstructions: '7'
  - String:          ' instructions in function'
...
"""
    assert remarks_to_labels(parse_remarks(text))["weird.name$1"]["machine_instructions"] == 7


LOOPS = """
void saxpy(float *restrict y, const float *restrict x, float a, int n) {
  UNROLL
  for (int i = 0; i < n; i++) y[i] += a * x[i];
}
int noloop(int x) { return x * 3 + 1; }
"""

MCA = "mca_inner_loop_rthroughput"


def _mca(tmp: Path, unroll: str, *flags: str):
    need_tool("llc-22")
    need_tool("llvm-mca-22")
    tmp.mkdir()
    ll = _compile(tmp, LOOPS.replace("UNROLL", unroll), *flags)
    return McaLoopLabeller().label(ll, tmp / "w")


def test_mca_loop_label_on_a_known_loop(tmp_path):
    plain = _mca(tmp_path / "plain", "#pragma clang loop unroll(disable)", "-fno-vectorize")
    x4 = _mca(tmp_path / "x4", "#pragma clang loop unroll_count(4)", "-fno-vectorize")
    vec = _mca(tmp_path / "vec", "#pragma clang loop unroll(disable) vectorize_width(4)", "-march=x86-64-v3")
    base = plain.values["saxpy"][MCA]
    assert base > 0
    # four bodies per iteration: more cycles per iteration, but not more than four times as many
    assert base < x4.values["saxpy"][MCA] <= 4 * base + 1
    # the vectorised function has the vector loop and its scalar remainder loop, both innermost
    assert vec.values["saxpy"][MCA] > 0 and vec.values["saxpy"][MCA] != base
    # no loops: no label (not zero), and the row says why
    assert MCA not in plain.values.get("noloop", {})
    assert plain.missing["noloop"][MCA] == "no loops"
    prov = plain.provenance[MCA]
    assert prov.tool == "llvm-mca-22" and "22." in prov.version and "-mcpu=x86-64" in prov.options
    assert "-mcpu=x86-64-v3" in vec.provenance[MCA].options


def test_mca_rejected_region_leaves_only_its_function_unlabelled(tmp_path):
    need_tool("llvm-mca-22")
    # llc checks inline asm itself, so a region llvm-mca rejects is written out by hand here (as a
    # newer llc could emit an instruction this llvm-mca does not know)
    asm = NESTED_ASM + (NESTED_ASM.replace("function mm", "function bad")
                        .replace("mulss\t(%rbx), %xmm1", "bogus_insn %xmm1"))
    loops = asm_innermost_loops(asm)
    labels = McaLoopLabeller().measure(loops, ("-mcpu=x86-64",), tmp_path / "r.s")
    assert "bad" not in labels.values and "bogus_insn" in labels.missing["bad"][MCA]
    assert labels.values["mm"][MCA] > 0 and "mm" not in labels.missing


NESTED_ASM = """\t.globl\tmm                              # -- Begin function mm
mm:                                     # @mm
# %bb.0:
\ttestl\t%ecx, %ecx
.LBB1_2:                                # =>This Loop Header: Depth=1
                                        #     Child Loop BB1_3 Depth 2
                                        #       Child Loop BB1_4 Depth 3
\tmovq\t%r8, %r9
.LBB1_3:                                #   Parent Loop BB1_2 Depth=1
                                        # =>  This Loop Header: Depth=2
                                        #       Child Loop BB1_4 Depth 3
\txorps\t%xmm0, %xmm0
.LBB1_4:                                #   Parent Loop BB1_2 Depth=1
                                        #     Parent Loop BB1_3 Depth=2
                                        # =>    This Inner Loop Header: Depth=3
\tmulss\t(%rbx), %xmm1
\tjne\t.LBB1_4
# %bb.5:                                #   in Loop: Header=BB1_3 Depth=2
\tincq\t%r11
\tjne\t.LBB1_3
# %bb.6:                                #   in Loop: Header=BB1_2 Depth=1
\tincq\t%r8
\tjne\t.LBB1_2
# %bb.7:
\tretq
.LBB1_9:                                #   in Loop: Header=BB1_4 Depth=3
\taddq\t$4, %r14
\tjmp\t.LBB1_4
.Lfunc_end1:
\t.size\tmm, .Lfunc_end1-mm
                                        # -- End function
"""


def test_asm_loop_comments_nested_picks_innermost():
    loops = asm_innermost_loops(NESTED_ASM)
    (inner,) = loops["mm"]
    assert inner.header == "BB1_4" and inner.depth == 3 and inner.parents == ("BB1_2", "BB1_3")
    # its out-of-line block is part of it; the outer loops' blocks and the exit are not
    assert [ln.split()[0] for ln in inner.lines] == ["mulss", "jne", "addq", "jmp"]


def test_mca_nested_loops_label_only_the_innermost(tmp_path):
    need_tool("llc-22")
    need_tool("llvm-mca-22")
    src = """void mm(float *restrict c, const float *a, const float *b, int n) {
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
          float s = 0;
          for (int k = 0; k < n; k++) s += a[i*n+k] * b[k*n+j];
          c[i*n+j] = s;
        }
    }"""
    ll = _compile(tmp_path, src, "-fno-vectorize", "-fno-unroll-loops")
    labels = McaLoopLabeller().label(ll, tmp_path / "w")
    asm = (tmp_path / "w" / "k.s").read_text()
    (inner,) = asm_innermost_loops(asm)["mm"]
    assert inner.depth == 3 and len(inner.parents) == 2
    assert 0 < labels.values["mm"][MCA] < 20


def test_callgrind_counts_are_deterministic_and_scale(tmp_path):
    need_tool("valgrind")
    need_tool("llc-22")
    prog = cgen.generate_program(3)
    (tmp_path / "p.c").write_text(prog.source)
    (tmp_path / "h.c").write_text(prog.harness())
    ll = tmp_path / "p.ll"
    subprocess.run([need_tool("clang-22"), "-O2", "-S", "-emit-llvm", str(tmp_path / "p.c"), "-o", str(ll)],
                   check=True)
    _, obj = LlcStaticLabeller().label(ll, tmp_path / "w")
    a = CallgrindLabeller().label(obj, tmp_path / "h.c", tmp_path / "w")
    b = CallgrindLabeller().label(obj, tmp_path / "h.c", tmp_path / "w")
    assert set(a.values) == {k.name for k in prog.kernels}
    assert a.values == b.values
    assert all(v["instructions_executed"] > 0 for v in a.values.values())
    assert a.provenance["instructions_executed"].tool == "valgrind"


def test_occupancy_matches_calculator():
    assert occupancy("sm_80", 256, 32, 0) == 1.0
    # 128 regs/thread: 4096 regs per warp, 16 warps fit, i.e. two 256-thread blocks of 8 warps
    assert occupancy("sm_90", 256, 128, 0) == 0.25
    # shared memory bound: 100 KiB per block leaves room for two blocks on sm_90, one on sm_80
    assert occupancy("sm_90", 128, 32, 100 * 1024) == 2 * 4 / 64
    assert occupancy("sm_80", 128, 32, 100 * 1024) == 1 * 4 / 64


def test_occupancy_register_file_is_split_in_four():
    # What cuOccupancyMaxActiveBlocksPerMultiprocessor answered on an H200 (driver 580.159.04) for
    # TVM kernels of the GPU dataset (benchmarks/gpu_label_check.py): a whole-SM register pool would
    # give 21, 21, 25 blocks.  (block, registers) → active blocks
    for block, regs, blocks in ((64, 47, 20), (32, 94, 20), (64, 40, 24), (1024, 30, 2)):
        assert occupancy("sm_90", block, regs, 0) == blocks * -(-block // 32) / 64


def test_ptxas_output_parser():
    text = """ptxas info    : Compiling entry function 'k' for 'sm_90'
ptxas info    : Function properties for k
    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
ptxas info    : Used 40 registers, 2048 bytes smem, 368 bytes cmem[0]
"""
    r = parse_ptxas(text)["k"]["sm_90"]
    assert r == {"registers": 40.0, "spill_bytes": 8.0, "shared_bytes": 2048.0}


NVPTX_IR = r"""
target triple = "nvptx64-nvidia-cuda"
@tile = internal addrspace(3) global [256 x float] undef, align 4
declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
define ptx_kernel void @saxpy(ptr addrspace(1) %x, ptr addrspace(1) %y, float %a) {
entry:
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %i = zext i32 %t to i64
  %px = getelementptr float, ptr addrspace(1) %x, i64 %i
  %vx = load float, ptr addrspace(1) %px
  %ps = getelementptr [256 x float], ptr addrspace(3) @tile, i64 0, i64 %i
  store float %vx, ptr addrspace(3) %ps
  %py = getelementptr float, ptr addrspace(1) %y, i64 %i
  %vy = load float, ptr addrspace(1) %py
  %m = fmul float %a, %vx
  %s = fadd float %m, %vy
  store float %s, ptr addrspace(1) %py
  ret void
}
"""


def test_ptxas_labels_real_kernel(tmp_path):
    from irtoolkit.costmodel import tools

    need_tool("llc-22")
    if tools.find("ptxas") is None:
        pytest.skip("ptxas not installed (pip install nvidia-cuda-nvcc-cu12)")
    ll = tmp_path / "k.ll"
    ll.write_text(NVPTX_IR)
    labels = PtxasLabeller().label(ll, tmp_path / "w", {"saxpy": 256})
    v = labels.values["saxpy"]
    assert 0 < v["gpu_registers_sm80"] <= 255 and 0 < v["gpu_registers_sm90"] <= 255
    assert v["gpu_shared_bytes_sm90"] == 1024
    assert 0 < v["gpu_occupancy_sm90"] <= 1
    assert labels.provenance["gpu_registers_sm90"].tool == "ptxas"
