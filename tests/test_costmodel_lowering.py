"""The lo.* features (csrc/llfeatures.c lowering()) against llc-22, which does the lowering they predict.

Each rule is checked on a small function where llc's x86-64 assembly shows it (a tail call is a jmp, the
values live across calls are callee-saved pushes, a 5-case switch is a jump table...), and the whole on
real clang-22 output: the tail calls agree with llc's ``# TAILCALL`` marks, and a constant times
``lo.est`` (``lo.bytes``) predicts llc's machine-instruction count (the function's .text bytes) better
than a constant times the IR instruction count, both constants fitted on the same functions."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from conftest import need_tool

from irtoolkit.costmodel import features as F

MODULE = """\
target triple = "x86_64-pc-linux-gnu"
declare i32 @g(i32)
declare void @h()
declare void @k(ptr)
declare void @llvm.va_start.p0(ptr)
declare void @llvm.va_end.p0(ptr)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)

define i32 @tail(i32 %x) {
  %r = tail call i32 @g(i32 %x)
  ret i32 %r
}

define i32 @tail_via_block(i32 %x, i1 %c) {
entry:
  br i1 %c, label %a, label %done
a:
  %r = tail call i32 @g(i32 %x)
  br label %done
done:
  %p = phi i32 [ %r, %a ], [ 0, %entry ]
  ret i32 %p
}

define i32 @not_tail(i32 %x) {
  %r = call i32 @g(i32 %x)
  %s = add i32 %r, 1
  ret i32 %s
}

define void @mem_tail(ptr %d, ptr %s, i64 %n) {
  tail call void @llvm.memcpy.p0.p0.i64(ptr align 1 %d, ptr align 1 %s, i64 %n, i1 false)
  ret void
}

define void @set_tail(ptr %d, i32 %v, i64 %n) {
  %t = trunc i32 %v to i8
  tail call void @llvm.memset.p0.i64(ptr align 1 %d, i8 %t, i64 %n, i1 false)
  ret void
}

define void @mem_not_tail(ptr %d, ptr %s, i64 %n) {
  call void @llvm.memcpy.p0.p0.i64(ptr align 1 %d, ptr align 1 %s, i64 %n, i1 false)
  ret void
}

define i32 @live(i32 %x, i32 %y) {
  %a = add i32 %x, 7
  %b = mul i32 %y, 3
  call void @h()
  call void @h()
  %s = add i32 %a, %b
  ret i32 %s
}

define i32 @sw(i32 %x) {
entry:
  switch i32 %x, label %d [ i32 0, label %a
                            i32 1, label %b
                            i32 2, label %c
                            i32 3, label %e
                            i32 4, label %f ]
a:
  ret i32 10
b:
  ret i32 22
c:
  ret i32 31
e:
  ret i32 47
f:
  ret i32 53
d:
  ret i32 0
}

define i64 @div(i64 %x, i64 %y) #0 {
  %q = udiv i64 %x, %y
  ret i64 %q
}

define void @protected(i32 %n) sspstrong {
  %buf = alloca [64 x i8], align 16
  call void @k(ptr %buf)
  ret void
}

define i32 @va(i32 %n, ...) {
  %ap = alloca [24 x i8], align 16
  call void @llvm.va_start.p0(ptr %ap)
  call void @k(ptr %ap)
  call void @llvm.va_end.p0(ptr %ap)
  ret i32 %n
}

define i64 @folds(ptr %p, i32 %x) {
  %v = load i32, ptr %p
  %s = add i32 %v, %x
  %z = zext i32 %s to i64
  ret i64 %z
}

define i32 @one_arm(i32 %x, i1 %c) {
entry:
  %p = mul i32 %x, 3
  br i1 %c, label %b, label %a
b:
  call void @h()
  ret i32 0
a:
  %q = add i32 %p, 1
  ret i32 %q
}

define i64 @sunk(ptr %p, i64 %x, i32 %n) {
entry:
  %a = getelementptr inbounds i8, ptr %p, i64 16
  %c = icmp sgt i32 %n, 0
  %t = trunc i64 %x to i32
  call void @h()
  br i1 %c, label %yes, label %no
yes:
  %v = load i32, ptr %a
  %s = add i32 %v, %t
  store i32 %s, ptr %p
  call void @h()
  br i1 %c, label %no, label %done
no:
  %r = add i64 %x, 1
  ret i64 %r
done:
  ret i64 %x
}

%struct.S = type { i32, [40 x i32], i64 }
@gv = dso_local global i32 0

define i64 @enc(ptr %p) {
  %q = getelementptr inbounds i8, ptr %p, i64 24
  %x = load i64, ptr %q
  %r = getelementptr inbounds %struct.S, ptr %p, i64 0, i32 2
  %y = load i64, ptr %r
  %z = load i32, ptr @gv
  %zz = zext i32 %z to i64
  %t = add i64 %y, 5
  %u = xor i64 %t, 1000
  %v = add i64 %u, %x
  %w = add i64 %v, %zz
  store i32 7, ptr %p
  ret i64 %w
}

attributes #0 = { "target-cpu"="x86-64" "tune-cpu"="generic" }
"""


def _counted_loop(name: str, body: str) -> str:
    return f"""
define void @{name}(ptr %p, i32 %n) {{
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %j, %body ]
  %c = icmp slt i32 %i, %n
  br i1 %c, label %body, label %exit
body:
{body}  %j = add i32 %i, 1
  br label %loop
exit:
  ret void
}}
"""


# a loop whose body is past a rel8's reach (its guard and back edge take rel32 jumps), and a short one
MODULE += _counted_loop("far", "".join(f"  %a{k} = getelementptr inbounds i8, ptr %p, i64 {8 * k + 8}\n"
                                       f"  %v{k} = load volatile i64, ptr %a{k}\n"
                                       f"  store volatile i64 %v{k}, ptr %a{k}\n" for k in range(40)))
MODULE += _counted_loop("near", "  %v = load volatile i64, ptr %p\n  store volatile i64 %v, ptr %p\n")

_BEGIN = re.compile(r"^(\S+):\s+# @")


def asm_by_function(asm: str) -> dict[str, list[str]]:
    """llc's instructions (no directives, labels or comment lines) of each function."""
    out: dict[str, list[str]] = {}
    cur = None
    for line in asm.splitlines():
        m = _BEGIN.match(line)
        if m:
            cur = out.setdefault(m.group(1), [])
        elif "-- End function" in line:
            cur = None
        elif cur is not None and line.startswith("\t") and not line.strip().startswith((".", "#")):
            cur.append(line.strip())
    return out


@pytest.fixture(scope="module")
def small():
    need_tool("llc-22")
    asm = subprocess.run(["llc-22", "-O2", "-o", "-"], input=MODULE, capture_output=True, text=True, check=True)
    names, X, exact = F.c_feature_rows(MODULE.encode())
    assert exact.all()
    cols = F.c_columns()
    rows = {n: {c[3:]: float(x[j]) for j, c in enumerate(cols) if c.startswith("lo.")} for n, x in zip(names, X, strict=True)}
    return rows, asm_by_function(asm.stdout), asm.stdout


def test_tail_calls_are_jumps(small):
    lo, asm, _ = small
    for fn in ("tail", "tail_via_block"):
        assert lo[fn]["tail_calls"] == 1 and lo[fn]["calls"] == 0, fn
        assert any(i.startswith("jmp") or i.startswith("jne") for i in asm[fn]) and \
            not any(i.startswith("call") for i in asm[fn]), asm[fn]
    assert lo["not_tail"]["tail_calls"] == 0 and lo["not_tail"]["calls"] == 1
    assert any(i.startswith("callq") for i in asm["not_tail"])
    # a memcpy / memset the code generator leaves to the library is a call like any other: in tail
    # position a jmp with nothing else (no frame: lo.mem_tail), without the tail marker a call in a frame
    for fn in ("mem_tail", "set_tail"):
        lib = {"mem_tail": "memcpy", "set_tail": "memset"}[fn]
        assert [i.split("#")[0].split() for i in asm[fn]] == [["jmp", f"{lib}@PLT"]], asm[fn]
        assert lo[fn]["mem_tail"] == 1, (fn, lo[fn])
    assert any(i.startswith("callq\tmemcpy") for i in asm["mem_not_tail"]) and lo["mem_not_tail"]["mem_tail"] == 0


def test_values_live_across_calls_take_callee_saved_registers(small):
    lo, asm, _ = small
    # %a and %b live across both calls: two callee-saved registers, and one more push to keep the stack
    # 16-byte aligned at the calls
    assert lo["live"]["live_across_max"] == 2 and lo["live"]["csr"] == 4 and lo["live"]["frame"] == 2
    pushes = [i for i in asm["live"] if i.startswith("push")]
    assert 2 * len(pushes) == lo["live"]["csr"] + lo["live"]["frame"], asm["live"]
    # the estimate is within two instructions of llc's whole function
    assert abs(lo["live"]["est"] - len(asm["live"])) <= 2, (lo["live"]["est"], asm["live"])


def test_liveness_follows_the_cfg_not_the_layout(small):
    lo, asm, _ = small
    # %p is laid out before the call but lives only on the other arm: no callee-saved register
    assert lo["one_arm"]["live_across_max"] == 0 and lo["one_arm"]["csr"] == 0
    saved = ("%rbx", "%rbp", "%r12", "%r13", "%r14", "%r15")
    assert not any(i.startswith("push") and i.split()[-1] in saved for i in asm["one_arm"]), asm["one_arm"]
    assert lo["live"]["pressure"] == 2 and lo["one_arm"]["pressure"] == 2


def test_addresses_compares_and_casts_are_sunk_not_kept(small):
    lo, asm, _ = small
    # %a (an address only a load uses), %c (a compare only branches use) and %t (a trunc) are live
    # across the first call in the IR, but llc folds %a into 16(%p), re-tests %n at each branch and
    # renames %x: the registers it keeps across the calls are %p, %x and %n
    assert lo["sunk"]["live_across_max"] == 3 and lo["sunk"]["csr"] == 6
    pushes = [i for i in asm["sunk"] if i.startswith("push")]
    assert 2 * len(pushes) == lo["sunk"]["csr"] + lo["sunk"]["frame"], asm["sunk"]
    assert sum(i.startswith("test") for i in asm["sunk"]) == 2, asm["sunk"]


def test_switch_division_stack_protector_and_varargs(small):
    lo, asm, text = small
    assert lo["sw"]["switch_cases"] == 5 and ".LJTI" in text          # a jump table
    assert lo["div"]["div_var64"] == 1
    assert {"divq", "divl"} <= {i.split()[0] for i in asm["div"]}     # both halves of the 32-bit bypass
    assert lo["protected"]["ssp"] == 6 and any("__stack_chk_fail" in i for i in asm["protected"])
    assert lo["not_tail"]["ssp"] == 0 and not any("%fs:40" in i for i in asm["not_tail"])
    assert lo["va"]["vararg"] == 15 and any("%xmm7" in i for i in asm["va"])   # the register save area
    # the va_list is a frame slot, not a register kept across the call: only %n is
    assert lo["va"]["live_across_max"] == 1


def test_folded_loads_and_free_extensions(small):
    lo, asm, _ = small
    assert lo["folds"]["load_folded"] == 1 and lo["folds"]["zext_free"] == 1
    assert any(re.match(r"addl\s+\(%rdi\)", i) for i in asm["folds"]), asm["folds"]
    assert lo["folds"]["est"] == len(asm["folds"]) - 1   # movl %esi, %eax: a register move not modelled


def test_displacements_immediates_and_symbols_by_encoding_size(small):
    lo, asm, _ = small
    e = lo["enc"]
    # 24(%rdi) takes a 1-byte displacement, the struct's third field 168(%rdi) a 4-byte one (164 to
    # us: struct sizes leave padding out), @gv is gv(%rip); $5 is an 8-bit immediate of the add,
    # $1000 a 32-bit one of the xor, and $7 a store's
    assert (e["disp8"], e["disp32"], e["rip"], e["imm8"], e["imm32"], e["imm_mov"]) == (1, 1, 1, 1, 1, 1)
    text = "\n".join(asm["enc"])
    for operand in ("24(%rdi)", "168(%rdi)", "gv(%rip)", "$5,", "$1000,", "$7, (%rdi)"):
        assert operand in text, (operand, text)


def test_long_branches_are_the_ones_past_a_byte_of_reach(tmp_path):
    need_tool("llc-22")
    need_tool("llvm-objdump-22")
    (tmp_path / "m.ll").write_text(MODULE)
    subprocess.run(["llc-22", "-O2", "-filetype=obj", str(tmp_path / "m.ll"), "-o", str(tmp_path / "m.o")],
                   check=True)
    dis = subprocess.run(["llvm-objdump-22", "-d", str(tmp_path / "m.o")], capture_output=True, text=True,
                         check=True).stdout
    long_jumps: dict[str, int] = {}
    fn = None
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(\S+)>:$", line)
        if m:
            fn = m.group(1)
            continue
        m = re.match(r"^\s*[0-9a-f]+:\s+((?:[0-9a-f]{2} )+)\s*(j\w+)\s", line)
        if m and fn:   # rel32: jcc is 0f 8x and 6 bytes, jmp e9 and 5
            long_jumps[fn] = long_jumps.get(fn, 0) + (len(m.group(1).split()) >= 5)
    names, X, _ = F.c_feature_rows(MODULE.encode())
    ours = {n: x[F.c_columns().index("lo.long_branches")] for n, x in zip(names, X, strict=True)}
    assert long_jumps["far"] >= 1 and long_jumps.get("near", 0) == 0
    assert ours["far"] == long_jumps["far"] and ours["near"] == 0, (ours, long_jumps)


GOT_MODULE = """\
target triple = "x86_64-pc-linux-gnu"
@ext = external global i32
@loc = dso_local global i32 0
@stat = internal global i32 0
@hid = hidden global [4 x i32] zeroinitializer
@arr = global [8 x i32] zeroinitializer
declare i32 @other(i32)
declare void @take(ptr)
define i32 @f(i32 %x) {
  %a = load i32, ptr @ext
  %b = load i32, ptr @loc
  %c = load i32, ptr getelementptr inbounds ([4 x i32], ptr @hid, i64 0, i64 2)
  %d = load i32, ptr getelementptr inbounds ([8 x i32], ptr @arr, i64 0, i64 3)
  %e = load i32, ptr @ext
  %g = load i32, ptr @stat
  call void @take(ptr @other)
  %r = call i32 @other(i32 %x)
  %s1 = add i32 %a, %b
  %s2 = add i32 %s1, %c
  %s3 = add i32 %s2, %d
  %s4 = add i32 %s3, %e
  %s5 = add i32 %s4, %g
  %s6 = add i32 %s5, %r
  ret i32 %s6
}
!llvm.module.flags = !{!0}
!0 = !{i32 8, !"PIC Level", i32 2}
"""


DUP_BLOCKS = """\
target triple = "x86_64-pc-linux-gnu"
declare void @free1(i64, ptr)
define void @dup(i32 %k, ptr %p) {
entry:
  switch i32 %k, label %done [ i32 4, label %a  i32 9, label %b  i32 17, label %c  i32 33, label %d ]
a:
  %a1 = load i64, ptr %p
  %a2 = getelementptr inbounds i8, ptr %p, i64 8
  %a3 = load ptr, ptr %a2
  call void @free1(i64 %a1, ptr %a3)
  br label %done
b:
  %b1 = load i64, ptr %p
  %b2 = getelementptr inbounds i8, ptr %p, i64 8
  %b3 = load ptr, ptr %b2
  call void @free1(i64 %b1, ptr %b3)
  br label %done
c:
  %c1 = load i64, ptr %p
  %c2 = getelementptr inbounds i8, ptr %p, i64 8
  %c3 = load ptr, ptr %c2
  call void @free1(i64 %c1, ptr %c3)
  br label %done
d:
  %d1 = load i64, ptr %p
  %d2 = getelementptr inbounds i8, ptr %p, i64 16
  %d3 = load ptr, ptr %d2
  call void @free1(i64 %d1, ptr %d3)
  br label %done
done:
  ret void
}
define i32 @preds(i32 %x, i32 %y, i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  %a1 = icmp eq i32 %x, %y
  %a2 = zext i1 %a1 to i32
  br label %done
b:
  %b1 = icmp ne i32 %x, %y
  %b2 = zext i1 %b1 to i32
  br label %done
done:
  %r = phi i32 [ %a2, %a ], [ %b2, %b ]
  ret i32 %r
}
"""


def test_blocks_repeating_an_earlier_one_are_merged_by_llc():
    """Three switch cases with one body (up to their value names): llc's tail merging emits one call for
    them; the fourth reads another offset and counts apart; a compare's predicate tells blocks apart."""
    need_tool("llc-22")
    asm = subprocess.run(["llc-22", "-O2", "-o", "-"], input=DUP_BLOCKS, capture_output=True, text=True, check=True)
    calls = [i for i in asm_by_function(asm.stdout)["dup"] if "free1" in i]
    assert len(calls) == 1, calls
    names, X, _ = F.c_feature_rows(DUP_BLOCKS.encode())
    j = F.c_columns().index("lo.dup_blocks")
    assert dict(zip(names, X[:, j].tolist(), strict=True)) == {"dup": 2.0, "preds": 0.0}


def test_preemptible_symbols_are_loaded_from_the_got():
    need_tool("llc-22")
    got = F.c_columns().index("lo.got")
    # the relocation model does not matter to llc-22: what clang marked dso_local is reached directly
    for model in ("pic", "static"):
        asm = subprocess.run(["llc-22", "-O2", f"-relocation-model={model}", "-o", "-"], input=GOT_MODULE,
                             capture_output=True, text=True, check=True).stdout
        # @ext (read twice), @arr (through a GEP) and @other's address; not dso_local, internal or hidden
        # symbols, nor @other as a callee (that goes through the PLT)
        assert sorted(set(re.findall(r"(\w+)@GOTPCREL", asm))) == ["arr", "ext", "other"], asm
    _, X, _ = F.c_feature_rows(GOT_MODULE.encode())
    assert X[0, got] == 3
    marked = GOT_MODULE.replace("@ext = external global", "@ext = external dso_local global")
    _, X, _ = F.c_feature_rows(marked.encode())
    assert X[0, got] == 2


def test_on_clang_output_the_estimate_beats_the_instruction_count(clang_corpus, tmp_path):
    from irtoolkit.costmodel.dataset.labellers import LlcStaticLabeller
    from irtoolkit.costmodel.dataset.realcode.evaluate import best_constant

    need_tool("llc-22")
    y, est, ir, tail_ours, tail_llc, size, lo_bytes = [], [], [], [], [], [], []
    for ll in clang_corpus:
        labels, _ = LlcStaticLabeller().label(ll, tmp_path / ll.stem)
        asm = subprocess.run(["llc-22", "-O2", str(ll), "-o", "-"], capture_output=True, text=True,
                             check=True).stdout
        marks = {fn: sum("# TAILCALL" in i for i in insts) for fn, insts in asm_by_function(asm).items()}
        _, names, X = F.feature_matrix(ll)
        for n, x in zip(names, X, strict=True):
            mi = labels.values.get(n, {}).get("machine_instructions")
            if mi is None or n not in marks:
                continue
            y.append(mi)
            est.append(x[F.FEATURE_NAMES.index("lo.est")])
            ir.append(x[F.FEATURE_NAMES.index("ir.fp.TotalInstructionCount")])
            tail_ours.append(x[F.FEATURE_NAMES.index("lo.tail_calls")])
            tail_llc.append(marks[n])
            size.append(labels.values[n].get("text_bytes", np.nan))
            lo_bytes.append(x[F.FEATURE_NAMES.index("lo.bytes")])
    y, est, ir = np.array(y), np.array(est), np.array(ir)
    assert len(y) > 150

    def mape(x, y=y):
        p = best_constant(x, y) * x
        return float(np.mean(np.abs(p - y) / y))

    size, lo_bytes = np.array(size), np.array(lo_bytes)
    s = size > 0

    agree = float(np.mean(np.array(tail_ours) == np.array(tail_llc)))
    print(f"{len(y)} functions: const x lo.est MAPE {mape(est):.3f}, const x IR count {mape(ir):.3f}; "
          f"tail calls agree on {agree:.1%} ({sum(t > 0 for t in tail_llc)} functions with llc tail calls); "
          f".text: const x lo.bytes {mape(lo_bytes[s], size[s]):.3f}, const x IR count {mape(ir[s], size[s]):.3f}")
    assert mape(est) < 0.9 * mape(ir)
    assert mape(lo_bytes[s], size[s]) < 0.9 * mape(ir[s], size[s])
    assert agree >= 0.9 and sum(tail_ours) > 5
