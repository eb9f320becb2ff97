"""The public MLIR corpus (xDSL, torch-mlir, CIRCT tests) against mlir-opt-22.

* every file mlir-opt-22 or iree-opt accepts parses with no error (split-input-file);
* at least 95% of all files parse;
* for files mlir-opt-22 accepts, our op count equals the number of ops in mlir-opt-22's generic print,
  and so does the count of each op name (elided terminators and the bodies of linalg named ops
  included; the order can differ where a custom form writes regions in another order than the op
  stores them, as scf.index_switch writes `default` last); our generic print, read back by mlir-opt-22, prints the same as the original.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import corpus_dir, need_tool

from irtools import ParseError, parse_mlir
from irtools.ir.mlir.printer import print_generic

# mlir-opt with the verifier off, as ACCEPTED-*.txt was made
OPT_FLAGS = ["--allow-unregistered-dialect", "--split-input-file", "--mlir-very-unsafe-disable-verifier-on-parsing",
             "--mlir-print-op-generic"]
# an op of the generic print starts its line: optional results, then the quoted name and '('
GENERIC_OP = re.compile(rb'^\s*(?:%[^\s=]+(?:\s*,\s*%[^\s=]+)*\s*=\s*)?"([^"]+)"\(', re.M)

def _accepted(root: Path, tool: str) -> dict[str, bool]:
    out = {}
    for line in (root / f"ACCEPTED-{tool}.txt").read_text().splitlines():
        status, name = line.split(maxsplit=1)
        out[name] = status == "OK"
    return out


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.mlir"))


@pytest.mark.slow
def test_accepted_files_parse_and_most_files_parse():
    root = corpus_dir("mlir")
    opt, iree = _accepted(root, "mlir-opt-22"), _accepted(root, "iree-opt")
    files = _all_files(root)
    assert len(files) > 1000
    failed_accepted, parsed = [], 0
    for name in files:
        try:
            for top in parse_mlir(root / name, split_input_file=True):
                for _ in top.walk():
                    pass
            parsed += 1
        except ParseError as e:
            if opt.get(name) or iree.get(name):
                failed_accepted.append(e.format(context=False))
    assert failed_accepted == []
    assert parsed / len(files) >= 0.95, f"{parsed}/{len(files)} files parse"


def _mlir_opt(opt: str, path: Path | None, text: bytes | None = None) -> subprocess.CompletedProcess:
    args = [opt, *OPT_FLAGS, str(path) if path else "-"]
    return subprocess.run(args, input=text, capture_output=True, timeout=120)


@pytest.mark.slow
def test_op_counts_and_generic_round_trip_match_mlir_opt():
    root = corpus_dir("mlir")
    opt = need_tool("mlir-opt-22")
    names = [n for n, ok in _accepted(root, "mlir-opt-22").items() if ok]

    def check(name: str):
        ref = _mlir_opt(opt, root / name)
        assert ref.returncode == 0, ref.stderr.decode()[:500]
        want = [m.decode() for m in GENERIC_OP.findall(ref.stdout)]
        tops = parse_mlir(root / name, split_input_file=True)
        got = [op.name for top in tops for op in top.walk()]
        printed = "\n// -----\n".join(print_generic(t) for t in tops).encode()
        again = _mlir_opt(opt, None, printed)
        return name, want, got, again.returncode == 0 and again.stdout == ref.stdout, again.stderr[:300]

    count_mismatch, round_trip_fail = [], []
    with ThreadPoolExecutor(2) as pool:
        for name, want, got, same, err in pool.map(check, names):
            if Counter(want) != Counter(got):
                count_mismatch.append((name, len(got), len(want), Counter(want) - Counter(got), Counter(got) - Counter(want)))
            if not same:
                round_trip_fail.append((name, err))
    assert count_mismatch == []
    assert round_trip_fail == []
    assert len(names) >= 400
