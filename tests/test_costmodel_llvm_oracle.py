"""The C features (the production path, costmodel.features.feature_matrix) against LLVM itself: opt-22's
``print<loops>`` on a sample of the public corpus gives each function's loop count, top-level loops and
deepest nesting, which must equal ``ir.cfg.loops``, ``ir.fp.TopLevelLoopCount`` and ``ir.fp.MaxLoopDepth``;
``print<func-properties>`` (detailed) gives the 51 ``ir.fp.*`` features, which must equal the C row for every
function fidelity.exclusion_reason does not leave out (unnamed, target-intrinsic upgrades, constant folding)."""

from __future__ import annotations

import re

from conftest import corpus_dir, need_tool

import irtools
from costmodel import features as F
from irtools.analysis.fidelity import exclusion_reason, sample_files
from irtools.analysis.llvm_reference import OptError, func_properties, loops

_DEPTH = re.compile(r"Loop at depth (\d+)")


def _with_opt(reference):
    """(path, what ``reference`` (an llvm_reference reader) gives, C row names, C matrix) of each sample file
    opt-22 accepts."""
    need_tool("opt-22")
    for path in sample_files(corpus_dir("llvm"), 150):
        try:
            ref = reference(path)
        except OptError:
            continue
        yield (path, ref, *F.feature_matrix(path)[1:])


def test_loop_features_equal_opt_print_loops():
    cols = [F.FEATURE_NAMES.index(n) for n in ("ir.cfg.loops", "ir.fp.TopLevelLoopCount", "ir.fp.MaxLoopDepth")]
    compared, bad, with_loops = 0, [], 0
    for path, ref, names, X in _with_opt(loops):
        for name, row in zip(names, X[:, cols].tolist(), strict=True):
            if not name or names.count(name) > 1:   # opt prints '' for every unnamed function
                continue
            depths = [int(d) for d in _DEPTH.findall(ref.get(name, ""))]
            want = [len(depths), depths.count(1), max(depths, default=0)]
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
