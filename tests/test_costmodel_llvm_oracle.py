"""The C features (the one definition, irtoolkit.costmodel.features.feature_matrix) against LLVM itself, on a sample
of the public corpus:
- ``print<loops>`` gives each function's loop count, top-level loops, deepest nesting and largest loop,
  which must equal ``ir.cfg.loops``, ``ir.fp.TopLevelLoopCount``, ``ir.fp.MaxLoopDepth`` and
  ``ir.cfg.max_loop_blocks``;
- ``print<domtree>`` gives the reachable blocks and the depth of the dominator tree, which must equal
  ``ir.cfg.blocks_total - ir.cfg.unreachable_blocks`` and ``ir.cfg.domtree_depth``;
- ``print<func-properties>`` (detailed) gives the 51 ``ir.fp.*`` features, which must equal the C row for
  every function fidelity.exclusion_reason does not leave out (unnamed, target-intrinsic upgrades, folding);
- ``print<scalar-evolution>`` gives constant trip counts, which ``x.max_trip`` / ``x.n_loops_const_trip``
  must match where both see one (a heuristic of the cost model's own: the agreement is measured).
What LLVM has no analysis for is checked against tests/llvm_feature_reference.py (its docstring lists it)."""

from __future__ import annotations

import re

from conftest import corpus_dir, need_tool

import irtools
from irtoolkit.costmodel import features as F
from irtools.analysis.fidelity import exclusion_reason, sample_files
from irtools.analysis.llvm_reference import OptError, domtree, func_properties, loops, trip_counts

_DEPTH = re.compile(r"Loop at depth (\d+)")
_LOOP_BLOCK = re.compile(r'%(?:"(?:[^"\\]|\\.)*"|[^,<\s]+)')


def _with_opt(reference, files: int = 150):
    """(path, what ``reference`` (an llvm_reference reader) gives, C row names, C matrix) of each sample file
    opt-22 accepts."""
    need_tool("opt-22")
    for path in sample_files(corpus_dir("llvm"), files):
        try:
            ref = reference(path)
        except OptError:
            continue
        yield (path, ref, *F.feature_matrix(path)[1:])


def test_loop_features_equal_opt_print_loops():
    cols = [F.FEATURE_NAMES.index(n)
            for n in ("ir.cfg.loops", "ir.fp.TopLevelLoopCount", "ir.fp.MaxLoopDepth", "ir.cfg.max_loop_blocks")]
    compared, bad, with_loops = 0, [], 0
    for path, ref, names, X in _with_opt(loops):
        for name, row in zip(names, X[:, cols].tolist(), strict=True):
            if not name or names.count(name) > 1:   # opt prints '' for every unnamed function
                continue
            lines = ref.get(name, "").splitlines()
            depths = [int(_DEPTH.search(line).group(1)) for line in lines]
            sizes = [len(_LOOP_BLOCK.findall(line.split("containing:", 1)[1])) for line in lines]
            want = [len(depths), depths.count(1), max(depths, default=0), max(sizes, default=0)]
            compared += 1
            with_loops += bool(depths)
            if row != want:
                bad.append((str(path), name, row, want))
    print(f"print<loops>: {compared} functions ({with_loops} with loops), {len(bad)} differ")
    assert compared > 300 and with_loops > 30
    assert not bad, bad[:10]


def test_func_properties_equal_opt():
    compared, excluded, bad = 0, 0, []
    for path, ref, names, X in _with_opt(func_properties):
        mod = irtools.parse_llvm(path)
        for fn in mod.functions:
            if fn.is_declaration or names.count(fn.name) != 1 or fn.name not in ref:
                continue
            if exclusion_reason(fn):
                excluded += 1
                continue
            row = X[names.index(fn.name)]
            diff = {k: (row[F.FEATURE_NAMES.index(f"ir.fp.{k}")], v) for k, v in ref[fn.name].items()
                    if f"ir.fp.{k}" in F.FEATURE_NAMES and row[F.FEATURE_NAMES.index(f"ir.fp.{k}")] != v}
            compared += 1
            if diff:
                bad.append((str(path), fn.name, diff))
    print(f"print<func-properties>: {compared} functions compared, {excluded} left out, {len(bad)} differ")
    assert compared > 300
    assert not bad, bad[:5]


def test_dominator_tree_shape_equals_opt_print_domtree():
    cols = [F.FEATURE_NAMES.index(n) for n in ("ir.cfg.blocks_total", "ir.cfg.unreachable_blocks",
                                               "ir.cfg.domtree_depth")]
    compared, bad = 0, []
    for path, ref, names, X in _with_opt(domtree):
        for name, (total, unreachable, depth) in zip(names, X[:, cols].tolist(), strict=True):
            if not name or names.count(name) > 1 or name not in ref:
                continue
            idom = ref[name]

            def level(b, idom=idom):
                n = 0
                while idom[b] is not None:
                    b, n = idom[b], n + 1
                return n

            want = [len(idom), max(map(level, idom), default=0)]
            compared += 1
            if [total - unreachable, depth] != want:
                bad.append((str(path), name, [total - unreachable, depth], want))
    print(f"print<domtree>: {compared} functions, {len(bad)} differ")
    assert compared > 300
    assert not bad, bad[:10]


def test_trip_counts_agree_with_scalar_evolution():
    """Functions with one loop that exits from one block: where SCEV and x.max_trip both have a constant,
    they must mostly agree.  SCEV counts header runs (backedges + 1); x.max_trip counts the passes
    through the exit test that stay, so a loop tested in its header (not rotated) has one fewer.  The
    cost model's reading is a heuristic (it reads the bound and step of one icmp, not its predicate, and
    does not model wrapping), so disagreement is measured, not forbidden."""
    from irtools.analysis.cfg import CFG
    from irtools.analysis.dominators import DominatorTree
    from irtools.analysis.loops import LoopInfo

    col = {n: F.FEATURE_NAMES.index(n) for n in ("ir.cfg.loops", "x.n_loops_const_trip", "x.max_trip")}
    both = agree = scev_only = ours_only = 0
    bad = []
    for path, ref, names, X in _with_opt(trip_counts, files=400):
        mod = irtools.parse_llvm(path)
        for fn in mod.functions:
            if fn.is_declaration or names.count(fn.name) != 1 or not re.fullmatch(r"[-\w$.]+", fn.name):
                continue
            row = X[names.index(fn.name)]
            cfg = CFG.from_function(fn)
            lps = LoopInfo(cfg, DominatorTree(cfg)).loops()
            scev = ref.get(fn.name, {})
            if row[col["ir.cfg.loops"]] != 1 or len(lps) != 1 or len(lps[0].exiting_blocks) != 1 or len(scev) != 1:
                continue
            (want, _most), = scev.values()
            if want is not None and lps[0].exiting_blocks[0] not in set(lps[0].latches):
                want -= 1
            got = row[col["x.max_trip"]] if row[col["x.n_loops_const_trip"]] == 1 else None
            if want is not None and got is not None:
                both += 1
                agree += got == want
                if got != want:
                    bad.append((str(path), fn.name, got, want))
            scev_only += want is not None and got is None
            ours_only += want is None and got is not None
    print(f"print<scalar-evolution>: {both} loops with a constant both ways, {agree} equal; "
          f"SCEV alone {scev_only}, x.max_trip alone {ours_only}; differ: {bad[:5]}")
    assert both > 40
    assert agree / both >= 0.85, bad[:10]
    assert scev_only <= both / 4


def test_every_llvm_feature_is_checked_against_llvm_or_listed_reference_only():
    """Each LLVM column is in llvm_feature_reference's CHECKED_BY_LLVM (an opt-22 analysis or llc-22) or
    its REFERENCE_ONLY (with the reason); each test CHECKED_BY_LLVM names exists."""
    import sys
    from pathlib import Path

    from llvm_feature_reference import CHECKED_BY_LLVM, how_checked

    cols = F.c_columns()
    unlisted = [n for n in cols if how_checked(n) is None]
    assert not unlisted, f"LLVM feature columns neither checked against LLVM nor listed reference-only: {unlisted}"
    by_llvm = [n for n in cols if how_checked(n)[0] == "llvm"]
    assert len(by_llvm) > 100 and "ir.cfg.back_edges" not in by_llvm
    here = sys.modules[__name__]
    lowering = (Path(__file__).parent / "test_costmodel_lowering.py").read_text()
    for how in CHECKED_BY_LLVM.values():
        test = how.rsplit(": ", 1)[-1]
        assert (test.startswith("test_") and callable(getattr(here, test, None))) or test.endswith(".py"), how
    assert "def test_on_clang_output_the_estimate_beats_the_instruction_count" in lowering

