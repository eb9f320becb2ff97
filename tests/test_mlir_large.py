"""The issue's large input: the llvm dialect import (mlir-translate-22 --import-llvm) of the LLVM benchmark's
module (the SQLite3MC amalgamation compiled by clang-22 -O2, ``benchmarks/_data.py``), pretty and generic.

The module is fetched from PyPI and compiled once, then cached under build/bench-data/ with its imports.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
from conftest import ROOT, compare_value_types, need_tool

from irtools import parse_mlir
from irtools.ir.mlir.analysis import op_histogram
from irtools.ir.mlir.samples import llvm_dialect_from_ll
from irtools.ir.mlir.stats import summarize

GENERIC_OP = re.compile(rb'^\s*(?:%[^\s=]+(?:\s*,\s*%[^\s=]+)*\s*=\s*)?"([^"]+)"\(', re.M)


@pytest.fixture(scope="module")
def big() -> tuple[Path, Path]:
    for tool in ("clang-22", "mlir-translate-22", "mlir-opt-22"):
        need_tool(tool)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from _data import CACHE, large_module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    CACHE.mkdir(parents=True, exist_ok=True)
    # both tests of this module may start on different xdist workers: one builds, the other waits
    with open(CACHE / ".mlir-large.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ll = large_module("O2")
        except (OSError, urllib.error.URLError, subprocess.CalledProcessError, RuntimeError) as e:
            pytest.skip(f"the LLVM benchmark's module (sqlite3mc from PyPI, clang-22 -O2) is not available: {e}")
        return llvm_dialect_from_ll(ll, CACHE)


def _op_stats(path) -> dict[str, int]:
    """mlir-opt-22 --print-op-stats, as name -> count."""
    r = subprocess.run(["mlir-opt-22", "--allow-unregistered-dialect", "--print-op-stats", str(path), "-o",
                        "/dev/null"], capture_output=True, text=True, check=True)
    out = {}
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(r"\s*([\w.]+)\s*,\s*(\d+)\s*$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


@pytest.mark.slow
def test_large_import_op_counts_match_mlir_opt(big):
    pretty, generic = big
    want_total = len(GENERIC_OP.findall(generic.read_bytes()))
    stats = _op_stats(pretty)
    assert sum(stats.values()) == want_total > 100_000
    for path in (pretty, generic):
        mod = parse_mlir(path)
        hist = op_histogram(mod)
        assert dict(hist) == stats
        s = summarize(mod)
        assert s["operations"] == want_total and s["functions"] + s["declarations"] == stats["llvm.func"]
        assert s["bytes"] == path.stat().st_size


@pytest.mark.slow
def test_pretty_types_agree_with_the_generic_form(big):
    """Where the pretty form states a type, it is the type the generic form gives; elsewhere it is unknown.

    Every op is compared by name and shape; the types (parsed in Python) of a fixed sample of functions.
    """
    pretty, generic = big
    known = unknown = 0
    wrong = []
    a_funcs = [op for op in parse_mlir(pretty).regions[0].blocks[0].operations]
    b_funcs = [op for op in parse_mlir(generic).regions[0].blocks[0].operations]
    assert [f.name for f in a_funcs] == [f.name for f in b_funcs]
    for k, (fa, fb) in enumerate(zip(a_funcs, b_funcs, strict=True)):
        typed = k % 25 == 0
        for a, b in zip(fa.walk(), fb.walk(), strict=True):
            assert a.name == b.name
            assert len(a.results) == len(b.results) and len(a.operands) == len(b.operands)
            if not typed:
                continue
            k, u, w = compare_value_types(a, b, strict=True)
            known, unknown, wrong = known + k, unknown + u, wrong + w
    assert wrong == []
    assert known > 10_000 and known >= 0.9 * (known + unknown)
