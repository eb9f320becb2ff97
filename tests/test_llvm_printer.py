"""LLVM IR printer: output accepted by llvm-as-22 with the same meaning; edits print correctly."""

from __future__ import annotations

import subprocess

import pytest
from conftest import need_tool
from test_llvm_parser import KITCHEN_SINK

from irtools import parse_llvm


def canonical(text: str) -> str:
    """llvm-as-22 | llvm-dis-22 of the text: the meaning, in LLVM's own spelling."""
    as_ = need_tool("llvm-as-22")
    dis = need_tool("llvm-dis-22")
    a = subprocess.run([as_, "-", "-o", "-"], input=text.encode(), capture_output=True, timeout=60)
    assert a.returncode == 0, a.stderr.decode()
    d = subprocess.run([dis, "-", "-o", "-"], input=a.stdout, capture_output=True, timeout=60)
    assert d.returncode == 0, d.stderr.decode()
    return d.stdout.decode()


SMALL = """
define i32 @sum(i32 %n, ptr %p) {
entry:
  %0 = icmp sgt i32 %n, 0
  br i1 %0, label %loop, label %done

loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %acc = phi i32 [ 0, %entry ], [ %2, %loop ]
  %1 = getelementptr inbounds i32, ptr %p, i32 %i
  %v = load i32, ptr %1, align 4
  %2 = add nsw i32 %acc, %v
  %unused = mul i32 %v, 3
  %next = add nuw nsw i32 %i, 1
  %c = icmp slt i32 %next, %n
  br i1 %c, label %loop, label %done

done:
  %r = phi i32 [ 0, %entry ], [ %2, %loop ]
  ret i32 %r
}
"""


def test_kitchen_sink_round_trips():
    m = parse_llvm(KITCHEN_SINK)
    assert canonical(str(m)) == canonical(KITCHEN_SINK)


def test_small_round_trips_and_is_a_fixed_point():
    once = str(parse_llvm(SMALL))
    assert canonical(once) == canonical(SMALL)
    assert str(parse_llvm(once)) == once


def test_rename_reaches_every_use():
    m = parse_llvm(SMALL)
    f = m.functions[0]
    loop = f.blocks[1]
    acc2 = loop.instructions[4]
    assert acc2.opcode == "add" and acc2.name == ""
    acc2.name = "acc.next"
    loop.name = "body"
    f.arguments[0].name = "count"
    out = str(m)
    assert "%acc.next = add nsw i32 %acc, %v" in out
    assert "[ %acc.next, %body ]" in out and "icmp slt i32 %next, %count" in out
    assert "body:" in out and "label %body" in out
    canonical(out)  # accepted by llvm-as-22
    # the same program: parse the printed text, undo the renames, compare meanings
    m2 = parse_llvm(out)
    f2 = m2.functions[0]
    assert [u.opcode for u in f2.blocks[1].instructions[4].users] == ["phi", "phi"]
    f2.blocks[1].instructions[4].name = ""
    f2.blocks[1].name = "loop"
    f2.arguments[0].name = "n"
    assert canonical(str(m2)) == canonical(SMALL)


def test_removed_and_reordered_instructions_renumber():
    m = parse_llvm(SMALL)
    f = m.functions[0]
    loop = f.blocks[1]
    unused = loop.instructions[5]
    assert unused.name == "unused" and not unused.users
    loop.instructions.remove(unused)
    out = str(m)
    assert "%unused" not in out
    assert canonical(out) == canonical(SMALL.replace("  %unused = mul i32 %v, 3\n", ""))
    # swapping the two non-entry blocks keeps the meaning
    f.blocks[1], f.blocks[2] = f.blocks[2], f.blocks[1]
    out2 = str(m)
    assert out2.index("done:") < out2.index("loop:")
    canonical(out2)  # accepted by llvm-as-22
    # naming the first unnamed value renumbers the ones after it
    m2 = parse_llvm(SMALL)
    m2.functions[0].blocks[0].instructions[0].name = "cmp"
    out3 = str(m2)
    assert "%cmp = icmp sgt i32 %n, 0" in out3 and "%0 = getelementptr" in out3 and "%1 = add nsw" in out3
    assert canonical(out3) == canonical(SMALL.replace("%0 =", "%cmp =").replace("i1 %0", "i1 %cmp"))


def test_quoted_and_global_renames():
    text = '@"a b" = global i32 1\ndefine ptr @f() {\n  ret ptr @"a b"\n}\n'
    m = parse_llvm(text)
    g = m.globals[0]
    assert g.name == "a b" and g.ref == '@"a b"'
    g.name = "c\"d"
    out = str(m)
    assert '@"c\\22d" = global i32 1' in out and 'ret ptr @"c\\22d"' in out
    canonical(out)
    m.functions[0].name = "plain"
    assert "define ptr @plain()" in str(m)


def test_str_of_pieces():
    m = parse_llvm(SMALL)
    f = m.functions[0]
    assert str(f).startswith("define i32 @sum(i32 %n, ptr %p) {\nentry:\n  %0 = icmp sgt i32 %n, 0")
    assert str(f.blocks[1].instructions[4]) == "%2 = add nsw i32 %acc, %v"
    g = parse_llvm("@g = private unnamed_addr constant [2 x i8] c\"a\\00\", align 1\n").globals[0]
    assert str(g) == '@g = private unnamed_addr constant [2 x i8] c"a\\00", align 1'


@pytest.mark.parametrize("text", [
    "define void @f() {\n  #dbg_label(!0)\n  ret void\n}\n!0 = !{}\n",
    "declare !dbg !0 void @d()\n!0 = !{}\n",
    "define void @f() {\n  ret void\n}\nuselistorder ptr @f, { 0 }\n",
])
def test_verbatim_parts_survive(text):
    out = str(parse_llvm(text))
    assert str(parse_llvm(out)) == out
