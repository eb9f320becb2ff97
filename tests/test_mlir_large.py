"""A large real input: generated C -> clang-22 -O2 -> mlir-translate-22 --import-llvm, pretty and generic."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import need_tool

from irtools import parse_mlir
from irtools.ir.mlir.analysis import op_histogram
from irtools.ir.mlir.samples import generate_c, llvm_dialect_from_c
from irtools.ir.mlir.stats import summarize

GENERIC_OP = re.compile(rb'^\s*(?:%[^\s=]+(?:\s*,\s*%[^\s=]+)*\s*=\s*)?"([^"]+)"\(', re.M)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    for tool in ("clang-22", "mlir-translate-22", "mlir-opt-22"):
        need_tool(tool)
    return llvm_dialect_from_c(generate_c(400, seed=1), tmp_path_factory.mktemp("big"))


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
    assert sum(stats.values()) == want_total
    for path in (pretty, generic):
        mod = parse_mlir(path)
        hist = op_histogram(mod)
        assert sum(hist.values()) == want_total
        assert dict(hist) == stats
        s = summarize(mod)
        assert s["operations"] == want_total and s["functions"] + s["declarations"] == stats["llvm.func"]
        assert s["bytes"] == path.stat().st_size


@pytest.mark.slow
def test_pretty_types_agree_with_the_generic_form(big):
    """Where the pretty form states a type, it is the type the generic form gives; elsewhere it is unknown."""
    pretty, generic = big
    known = unknown = 0
    wrong = []
    for a, b in zip(parse_mlir(pretty).walk(), parse_mlir(generic).walk(), strict=True):
        assert a.name == b.name
        values = list(zip(a.results, b.results, strict=True))
        # some custom forms leave regions or block arguments implicit (linalg named ops' bodies)
        for ra, rb in zip(a.regions, b.regions, strict=False):
            for ba, bb in zip(ra.blocks, rb.blocks, strict=False):
                values += list(zip(ba.arguments, bb.arguments, strict=True))
        for x, y in values:
            if x.type is None:
                unknown += 1
            elif x.type == y.type:
                known += 1
            else:
                wrong.append((a.name, str(x.type), str(y.type)))
    assert wrong == []
    assert known >= 0.9 * (known + unknown)
