"""Analyses over parsed LLVM IR: hand-written functions with known answers, and opt-22 on real files."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from conftest import corpus_dir, need_tool

from irtools import parse_llvm
from irtools.analysis.callgraph import UNKNOWN, CallGraph
from irtools.analysis.cfg import CFG, block_names
from irtools.analysis.defuse import DefUse, global_uses
from irtools.analysis.dominators import DominatorTree
from irtools.analysis.features import (
    FEATURE_VECTOR_KEYS,
    feature_vector,
    function_properties,
    module_properties,
    opcode_histogram,
    type_histogram,
)
from irtools.analysis.llvm_reference import func_properties, parse_domtree, parse_loops, run_opt
from irtools.analysis.loops import LoopInfo

SHAPES = r"""
@table = global [2 x ptr] [ptr @leaf, ptr @rec]
@g = global i32 0

declare void @ext(ptr)
declare i32 @llvm.umax.i32(i32, i32)

define i32 @diamond(i1 %c, i32 %x) {
entry:
  br i1 %c, label %then, label %else
then:
  %a = add i32 %x, 1
  br label %join
else:
  %b = mul i32 %x, 3
  br label %join
join:
  %r = phi i32 [ %a, %then ], [ %b, %else ]
  ret i32 %r
}

define void @nested(i32 %n, ptr %p) {
entry:
  br label %outer
outer:
  %i = phi i32 [ 0, %entry ], [ %i.next, %outer.latch ]
  br label %inner
inner:
  %j = phi i32 [ 0, %outer ], [ %j.next, %inner ], [ 5, %dead ]
  %v = load float, ptr %p
  %w = fmul float %v, 2.0
  store float %w, ptr %p
  %j.next = add i32 %j, 1
  %jc = icmp slt i32 %j.next, %n
  br i1 %jc, label %inner, label %outer.latch
outer.latch:
  %i.next = add i32 %i, 1
  %ic = icmp slt i32 %i.next, %n
  br i1 %ic, label %outer, label %exit
exit:
  ret void
dead:
  br label %inner
}

define void @irreducible(i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  br i1 %c, label %b, label %exit
b:
  br label %a
exit:
  ret void
}

define void @selfloop(i1 %c) {
entry:
  br label %0
0:
  br i1 %c, label %0, label %1
1:
  ret void
}

define i32 @rec(i32 %n) {
  %c = icmp eq i32 %n, 0
  br i1 %c, label %done, label %more
more:
  %m = sub i32 %n, 1
  %r = call i32 @rec(i32 %m)
  %s = call i32 @leaf(i32 %r)
  ret i32 %s
done:
  ret i32 0
}

define internal i32 @leaf(i32 %x) {
  %y = call i32 @llvm.umax.i32(i32 %x, i32 7)
  ret i32 %y
}

define i32 @indirect(i32 %i) {
  %slot = getelementptr [2 x ptr], ptr @table, i32 0, i32 %i
  %f = load ptr, ptr %slot
  %r = call i32 %f(i32 %i)
  call void @ext(ptr getelementptr (i8, ptr @g, i64 4))
  call void asm sideeffect "nop", ""()
  ret i32 %r
}
"""


@pytest.fixture(scope="module")
def shapes():
    return parse_llvm(SHAPES)


def _fn(mod, name):
    fn = mod.get_function(name)
    assert fn is not None
    return fn


def test_cfg_and_dominators_of_diamond(shapes):
    fn = _fn(shapes, "diamond")
    cfg = CFG.from_function(fn)
    assert cfg.names == ["entry", "then", "else", "join"]
    assert cfg.succs == [[1, 2], [3], [3], []]
    assert cfg.preds[3] == [1, 2]
    dt = DominatorTree(cfg)
    assert dt.idom == [None, 0, 0, 0]
    assert dt.dominance_frontier() == [[], [3], [3], []]
    assert LoopInfo(cfg, dt).top_level == []


def test_nested_loops_and_unreachable_block(shapes):
    fn = _fn(shapes, "nested")
    cfg = CFG.from_function(fn)
    names = cfg.names
    assert cfg.unreachable_blocks() == [names.index("dead")]
    li = LoopInfo(cfg)
    (outer,) = li.top_level
    (inner,) = outer.children
    assert [names[b] for b in outer.blocks] == ["outer", "inner", "outer.latch"]
    assert [names[b] for b in inner.blocks] == ["inner"]
    assert [names[b] for b in outer.latches] == ["outer.latch"]
    assert [names[b] for b in outer.exit_blocks] == ["exit"]
    assert inner.depth == 2 and li.max_depth == 2
    # the unreachable block's edge into the inner loop makes no loop and no dominance
    assert li.loop_for(names.index("dead")) is None


def test_irreducible_and_self_loop(shapes):
    cfg = CFG.from_function(_fn(shapes, "irreducible"))
    assert LoopInfo(cfg).top_level == []
    assert cfg.back_edges_dfs()  # the cycle a <-> b is still a cycle
    fn = _fn(shapes, "selfloop")
    assert block_names(fn) == ["entry", "0", "1"]  # unnamed blocks get slot numbers
    (loop,) = LoopInfo.from_function(fn).top_level
    assert loop.blocks == [1] and loop.latches == [1]


def test_call_graph(shapes):
    cg = CallGraph(shapes)
    assert cg.callees("rec") == ["rec", "leaf"]
    assert cg.callees("leaf") == ["llvm.umax.i32"]
    assert cg.callees("indirect") == [UNKNOWN, "ext"]
    assert cg.inline_asm_calls["indirect"] == 1
    assert cg.indirect_call_count("indirect") == 1
    assert {"ext", "llvm.umax.i32"} <= cg.external
    assert cg.recursive_functions() == {"rec"}
    assert cg.callers("leaf") == ["rec"]
    order = [n for comp in cg.sccs() for n in comp]
    assert order.index("leaf") < order.index("rec")  # callees first


def test_def_use(shapes):
    fn = _fn(shapes, "diamond")
    du = DefUse(fn)
    a = next(i for i in fn.instructions() if i.name == "a")
    phi = next(i for i in fn.instructions() if i.opcode == "phi")
    assert du.users(a) == [phi]
    x = fn.arguments[1]
    assert du.num_uses(x) == 2
    assert du.unused_definitions() == []
    uses = global_uses(shapes)
    # @g is used only inside a constant expression, @rec by a call and the table initializer
    assert [u.user.opcode for u in uses["g"]] == ["call"] and uses["g"][0].via is not None
    assert len(uses["rec"]) == 2 and any(u.index == -1 for u in uses["rec"])


def test_histograms_and_feature_vector(shapes):
    fn = _fn(shapes, "nested")
    hist = opcode_histogram(fn)
    assert hist["phi"] == 2 and hist["br"] == 5 and hist["load"] == 1 and hist["fmul"] == 1
    types = type_histogram(fn)
    assert types["float"] == 2 and types["i1"] == 2 and types["i32"] == 4 and types["void"] == 7
    vec = feature_vector(fn)
    assert tuple(vec) == FEATURE_VECTOR_KEYS
    assert all(isinstance(v, float) for v in vec.values())
    assert vec["fp.MaxLoopDepth"] == 2.0 and vec["cfg.unreachable_blocks"] == 1.0
    assert vec["op.phi"] == 2.0 and vec["fn.memory_ops_in_loops"] == 2.0 and vec["cfg.loops"] == 2.0


def test_hand_written_properties_match_opt(tmp_path, shapes):
    need_tool("opt-22")
    path = tmp_path / "shapes.ll"
    path.write_text(SHAPES)
    ref = func_properties(path)
    ours = module_properties(shapes)
    assert ours == ref
    # spot checks of LLVM's own quirks
    assert ours["nested"]["FloatingPointInstructionCount"] == 2
    # inner: preds outer, inner and the unreachable dead block, all three counted as LLVM does
    assert ours["nested"]["BasicBlocksWithMoreThanTwoPredecessors"] == 1
    assert ours["leaf"]["Uses"] == 2  # internal: the call in @rec plus the table initializer
    assert ours["rec"]["Uses"] == 3
    with pytest.raises(ValueError):
        function_properties(shapes.get_function("ext"))


# ---- LLVM as the oracle on real files -------------------------------------------------

def _sample_files(root, n):
    files = sorted(root.rglob("*.ll"), key=lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).digest())
    return files[:n]


def _compare_dom_and_loops(path):
    mod = parse_llvm(path.read_bytes(), path=path)
    text = run_opt(path, "print<domtree>,print<loops>")
    doms, loops = parse_domtree(text), parse_loops(text)
    checked = 0
    for fn in mod.functions:
        if fn.is_declaration:
            continue
        cfg = CFG.from_function(fn)
        dt = DominatorTree(cfg)
        spell = [cfg.spelling(b) for b in range(len(cfg))]
        ours = {spell[b]: (spell[d] if d is not None else None) for b, d in enumerate(dt.idom) if dt.is_reachable(b)}
        assert ours == doms[fn.name], (path, fn.name)
        assert LoopInfo(cfg, dt).format_llvm() == loops[fn.name], (path, fn.name)
        checked += 1
    return checked


@pytest.mark.corpus
def test_dominators_and_loops_match_opt_on_corpus_files():
    need_tool("opt-22")
    root = corpus_dir("llvm")
    loop_files = [p for p in _sample_files(root, 400) if "Loop" in p.as_posix() or "loop" in p.name][:25]
    assert len(loop_files) >= 10
    checked = sum(_compare_dom_and_loops(p) for p in loop_files)
    assert checked >= 50


def test_dominators_and_loops_match_opt_on_clang_output(tmp_path):
    clang = need_tool("clang-22")
    need_tool("opt-22")
    src = tmp_path / "loops.c"
    src.write_text(r"""
int tri(int n) { int s = 0; for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) s += i ^ j; return s; }
int walk(int *a, int n) { int i = 0; while (i < n) { if (a[i] < 0) break; if (a[i] == 3) { i += 2; continue; }
  i++; } do { n--; } while (n > i && a[n]); return i + n; }
int jumpy(int x) { again: switch (x % 5) { case 0: x += 3; goto again; case 1: return x;
  case 2: x *= 7; if (x > 100) return x; goto again; default: x--; goto again; } }
""")
    ll = tmp_path / "loops.ll"
    for opt_level in ("-O0", "-O2"):
        subprocess.run([clang, opt_level, "-Xclang", "-disable-O0-optnone", "-S", "-emit-llvm", str(src), "-o",
                        str(ll)], check=True)
        assert _compare_dom_and_loops(ll) == 3


def test_parse_domtree_and_loops_text():
    text = """DominatorTree for function: f
=============================--------------------------------
Inorder Dominator Tree: DFSNumbers invalid: 0 slow queries.
  [1] %entry {4294967295,4294967295} [0]
    [2] %"a b" {4294967295,4294967295} [1]
      [3] %3 {4294967295,4294967295} [2]
    [2] %x {4294967295,4294967295} [1]
Roots: %entry
Loop info for function 'f':
Parallel Loop at depth 1 containing: %"a b"<header>,%3<latch><exiting>
    Loop at depth 2 containing: %3<header><latch><exiting>
Loop info for function 'g':
"""
    assert parse_domtree(text) == {"f": {"%entry": None, '%"a b"': "%entry", "%3": '%"a b"', "%x": "%entry"}}
    assert parse_loops(text) == {
        "f": 'Loop at depth 1 containing: %"a b"<header>,%3<latch><exiting>\n'
             "    Loop at depth 2 containing: %3<header><latch><exiting>\n",
        "g": "",
    }


def test_call_graph_through_alias_and_cast():
    mod = parse_llvm("""
@al = alias void (), ptr @target
define void @target() { ret void }
define void @caller() {
  call void @al()
  call void bitcast (ptr @target to ptr)()
  ret void
}
""")
    cg = CallGraph(mod)
    assert cg.callees("caller") == ["target"]
    assert len(cg.calls["caller"]) == 2


def test_histograms_count_every_instruction(shapes):
    for fn in shapes.functions:
        if fn.is_declaration:
            continue
        n = sum(len(b.instructions) for b in fn.blocks)
        assert sum(opcode_histogram(fn).values()) == n
        assert sum(type_histogram(fn).values()) == n
        assert list(feature_vector(fn)) == list(FEATURE_VECTOR_KEYS)
