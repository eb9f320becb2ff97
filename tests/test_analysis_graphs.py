"""CFG, dominator and loop algorithms over plain successor lists.

Known answers on hand-drawn graphs, brute-force definitions as hypothesis properties, and
LLVM itself as the oracle: random CFGs are written out as LLVM IR and ``opt-22``'s
``print<domtree>`` / ``print<loops>`` must agree with ours block for block.
"""

from __future__ import annotations

import random

from conftest import need_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from irtools.analysis.callgraph import strongly_connected_components
from irtools.analysis.cfg import CFG
from irtools.analysis.dominators import DominatorTree
from irtools.analysis.llvm_reference import parse_domtree, parse_loops, run_opt
from irtools.analysis.loops import LoopInfo, llvm_local_name

DIAMOND = [[1, 2], [3], [3], []]
# entry -> outer -> inner (self loop) -> latch -> outer | exit
NESTED = [[1], [2], [2, 3], [1, 4], []]
# 0 -> {1, 2}, 1 <-> 2: a cycle entered at two points, no natural loop
IRREDUCIBLE = [[1, 2], [2, 3], [1], []]


def test_diamond_dominators_and_frontier():
    cfg = CFG(DIAMOND)
    dt = DominatorTree(cfg)
    assert dt.idom == [None, 0, 0, 0]
    assert dt.dominates(0, 3) and not dt.dominates(1, 3)
    assert dt.dominance_frontier() == [[], [3], [3], []]
    assert dt.iterated_frontier([1]) == [3]
    assert cfg.critical_edges() == []
    assert cfg.reverse_postorder() == [0, 2, 1, 3]
    assert LoopInfo(cfg).top_level == []


def test_critical_edges_count_multiplicity():
    # 0 branches to 1 twice (switch with two cases) and to 2; 1 is also reached from 2
    cfg = CFG([[1, 1, 2], [], [1]])
    assert cfg.preds[1] == [0, 0, 2]
    assert cfg.critical_edges() == [(0, 1), (0, 1)]


def test_nested_loops():
    cfg = CFG(NESTED, names=["entry", "outer", "inner", "latch", "exit"])
    li = LoopInfo(cfg)
    assert len(li) == 1
    outer = li.top_level[0]
    assert outer.header == 1 and outer.blocks == [1, 2, 3] and outer.depth == 1
    (inner,) = outer.children
    assert inner.header == 2 and inner.blocks == [2] and inner.depth == 2 and inner.parent is outer
    assert inner.latches == [2] and outer.latches == [3]
    assert outer.exit_blocks == [4] and outer.exiting_blocks == [3]
    assert inner.exit_blocks == [3]
    assert li.loop_depth(2) == 2 and li.loop_depth(3) == 1 and li.loop_depth(4) == 0
    assert li.max_depth == 2
    assert li.format_llvm() == (
        "Loop at depth 1 containing: %outer<header>,%inner,%latch<latch><exiting>\n"
        "    Loop at depth 2 containing: %inner<header><latch><exiting>\n")


def test_irreducible_cycle_is_not_a_loop():
    cfg = CFG(IRREDUCIBLE)
    dt = DominatorTree(cfg)
    assert dt.idom == [None, 0, 0, 1]
    assert LoopInfo(cfg, dt).top_level == []
    # but a DFS still sees the cycle as a retreating edge
    assert cfg.back_edges_dfs() in ([(2, 1)], [(1, 2)])


def test_unreachable_blocks_and_self_loop():
    # 3 is unreachable and branches into the loop; 1 loops on itself
    cfg = CFG([[1], [1, 2], [], [1]])
    assert cfg.unreachable_blocks() == [3]
    dt = DominatorTree(cfg)
    assert dt.idom == [None, 0, 1, None]
    assert not dt.is_reachable(3) and dt.dominates(2, 3)  # LLVM's convention for unreachable B
    assert dt.dominators(3) == []
    li = LoopInfo(cfg, dt)
    (loop,) = li.top_level
    assert loop.blocks == [1] and loop.latches == [1] and loop.exit_blocks == [2]
    assert 3 not in loop
    assert dt.dominance_frontier()[1] == [1]


def test_entry_self_loop_frontier():
    cfg = CFG([[0, 1], []])
    dt = DominatorTree(cfg)
    assert dt.dominance_frontier() == [[0], []]
    (loop,) = LoopInfo(cfg, dt).top_level
    assert loop.header == 0


def test_llvm_local_name_quoting():
    assert llvm_local_name("entry") == "entry"
    assert llvm_local_name("12") == '"12"'  # a name; slot numbers are spelled by CFG.spelling
    assert llvm_local_name("a b") == '"a b"'
    assert llvm_local_name("1a") == '"1a"'
    assert llvm_local_name('x"y') == '"x\\22y"'


def test_scc_order_and_members():
    # 0 -> 1 -> 2 -> 1, 2 -> 3
    comps = strongly_connected_components([[1], [2], [1, 3], []])
    assert comps == [[3], [1, 2], [0]]


# ---- properties against brute-force definitions -------------------------------------

@st.composite
def cfgs(draw, max_blocks=9):
    n = draw(st.integers(1, max_blocks))
    succs = [draw(st.lists(st.integers(0, n - 1), max_size=3)) for _ in range(n)]
    return succs


def _reach_without(succs, entry, removed):
    seen = {entry} if entry != removed else set()
    work = list(seen)
    while work:
        for s in succs[work.pop()]:
            if s != removed and s not in seen:
                seen.add(s)
                work.append(s)
    return seen


@settings(max_examples=300, deadline=None)
@given(cfgs())
def test_dominance_matches_definition(succs):
    cfg = CFG(succs)
    dt = DominatorTree(cfg)
    reach = _reach_without(succs, 0, None)
    for a in reach:
        cut = _reach_without(succs, 0, a)
        for b in reach:
            assert dt.dominates(a, b) == (a == b or b not in cut), (a, b)
    for b in reach:
        if b != 0:
            d = dt.idom[b]
            # the immediate dominator is the strict dominator that all other strict dominators dominate
            assert dt.strictly_dominates(d, b)
            assert all(dt.dominates(x, d) for x in reach if dt.strictly_dominates(x, b))
    # frontier by definition
    df = dt.dominance_frontier()
    for x in reach:
        expect = sorted(y for y in reach if any(p in reach and dt.dominates(x, p) for p in succs_inv(succs, y))
                        and not dt.strictly_dominates(x, y))
        assert df[x] == expect


def succs_inv(succs, y):
    return [p for p, out in enumerate(succs) if y in out]


@settings(max_examples=300, deadline=None)
@given(cfgs())
def test_loops_match_natural_loop_definition(succs):
    cfg = CFG(succs)
    dt = DominatorTree(cfg)
    reach = _reach_without(succs, 0, None)
    bodies: dict[int, set[int]] = {}
    for t in reach:
        for h in succs[t]:
            if dt.dominates(h, t):
                body = bodies.setdefault(h, {h})
                work = [t]
                while work:
                    b = work.pop()
                    if b in body:
                        continue
                    body.add(b)
                    work.extend(p for p in succs_inv(succs, b) if p in reach)
    li = LoopInfo(cfg, dt)
    got = {loop.header: loop for loop in li.loops()}
    assert set(got) == set(bodies)
    for h, body in bodies.items():
        loop = got[h]
        assert set(loop.blocks) == body and len(loop.blocks) == len(body) and loop.blocks[0] == h
        enclosing = [g for g, other in bodies.items() if g != h and body < other]
        if enclosing:
            parent = min(enclosing, key=lambda g: len(bodies[g]))
            assert loop.parent is not None and loop.parent.header == parent
        else:
            assert loop.parent is None
    for b in range(len(succs)):
        inner = [h for h, body in bodies.items() if b in body]
        assert li.loop_depth(b) == len(inner)


@settings(max_examples=200, deadline=None)
@given(cfgs())
def test_scc_partition_is_mutual_reachability(succs):
    comps = strongly_connected_components(succs)
    assert sorted(x for c in comps for x in c) == list(range(len(succs)))
    where = {x: i for i, c in enumerate(comps) for x in c}
    for a in range(len(succs)):
        ra = _reach_without(succs, a, None)
        for b in range(len(succs)):
            rb = _reach_without(succs, b, None)
            assert (where[a] == where[b]) == (b in ra and a in rb)
    # callees before callers: an edge never goes to a later component
    for a, out in enumerate(succs):
        for b in out:
            assert where[b] <= where[a]


# ---- LLVM as the oracle --------------------------------------------------------------

def _random_cfg(rng: random.Random) -> list[list[int]]:
    n = rng.randint(1, 14)
    succs = []
    for _ in range(n):
        k = rng.choice([0, 1, 1, 2, 2, 2, 3, 4])
        # successors may not be the entry block in LLVM IR
        succs.append([rng.randint(1, n - 1) for _ in range(k)] if n > 1 else [])
    return succs


def _as_llvm(name: str, succs: list[list[int]]) -> str:
    lines = [f"define void @{name}(i1 %c, i32 %x) {{"]
    for b, out in enumerate(succs):
        lines.append(f"b{b}:")
        if not out:
            lines.append("  ret void")
        elif len(out) == 1:
            lines.append(f"  br label %b{out[0]}")
        elif len(out) == 2:
            lines.append(f"  br i1 %c, label %b{out[0]}, label %b{out[1]}")
        else:
            cases = " ".join(f"i32 {i}, label %b{s}" for i, s in enumerate(out[1:]))
            lines.append(f"  switch i32 %x, label %b{out[0]} [ {cases} ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def test_random_cfgs_match_opt(tmp_path):
    need_tool("opt-22")
    rng = random.Random(20261125)
    graphs = {f"f{i}": _random_cfg(rng) for i in range(300)}
    path = tmp_path / "cfgs.ll"
    path.write_text("".join(_as_llvm(name, succs) for name, succs in graphs.items()))
    dom_ref = parse_domtree(run_opt(path, "print<domtree>"))
    loop_ref = parse_loops(run_opt(path, "print<loops>"))
    assert set(dom_ref) == set(graphs) == set(loop_ref)
    nontrivial = 0
    for name, succs in graphs.items():
        cfg = CFG(succs, names=[f"b{i}" for i in range(len(succs))])
        dt = DominatorTree(cfg)
        ours = {f"%b{b}": (f"%b{d}" if d is not None else None)
                for b, d in enumerate(dt.idom) if dt.is_reachable(b)}
        assert ours == dom_ref[name], name
        li = LoopInfo(cfg, dt)
        assert li.format_llvm() == loop_ref[name], name
        nontrivial += bool(li.top_level)
    assert nontrivial > 50  # the generator really makes loops
