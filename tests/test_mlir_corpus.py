"""The public MLIR corpus (xDSL, torch-mlir, CIRCT tests) against mlir-opt-22.

* every file mlir-opt-22 or iree-opt accepts parses with no error (split-input-file);
* at least 95% of all files parse (split as their RUN lines split them);
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
from conftest import compare_value_types, corpus_dir, need_tool

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
        # a file is read as its RUN lines read it: split where they pass --split-input-file or use xDSL's
        # *_ROUNDTRIP macros, which do (files that do not may have rulers of dashes that a split would
        # cut); the ACCEPTED lists were made with the split, so their files are split too
        text = (root / name).read_bytes()
        split = bool(opt.get(name) or iree.get(name)) or b"split-input-file" in text or b"_ROUNDTRIP" in text
        try:
            for top in parse_mlir(root / name, split_input_file=split) if split else [parse_mlir(root / name)]:
                for _ in top.walk():
                    pass
            parsed += 1
        except ParseError as e:
            if opt.get(name) or iree.get(name):
                failed_accepted.append(e.format(context=False))
    assert failed_accepted == []
    # the issue asks for 95%; 99.0% parse today (the rest are invalid on purpose): a drop is a regression
    assert parsed / len(files) >= 0.98, f"{parsed}/{len(files)} files parse"


def _mlir_opt(opt: str, path: Path | None, text: bytes | None = None) -> subprocess.CompletedProcess:
    args = [opt, *OPT_FLAGS, str(path) if path else "-"]
    return subprocess.run(args, input=text, capture_output=True, timeout=120)


def _type_agreement(ours, ref):
    """(known, unknown, wrong) over results and block arguments of our pretty ops vs mlir-opt's print."""
    known = unknown = 0
    wrong = []
    if len(ours) != len(ref):
        return 0, 0, []
    for a_top, b_top in zip(ours, ref, strict=True):
        wa, wb = list(a_top.walk()), list(b_top.walk())
        if [o.name for o in wa] != [o.name for o in wb]:
            continue  # regions stored in another order than written (scf.index_switch)
        for a, b in zip(wa, wb, strict=True):
            if a.is_generic:
                continue
            # some custom forms leave regions or block arguments implicit (linalg named ops' bodies)
            k, u, w = compare_value_types(a, b, strict=False)
            known, unknown, wrong = known + k, unknown + u, wrong + w
    return known, unknown, wrong


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
        return (name, want, got, again.returncode == 0 and again.stdout == ref.stdout, again.stderr[:300],
                _type_agreement(tops, parse_mlir(ref.stdout, split_input_file=True)))

    count_mismatch, round_trip_fail, wrong_types = [], [], []
    known = unknown = 0
    with ThreadPoolExecutor(2) as pool:
        for name, want, got, same, err, (k, u, wrong) in pool.map(check, names):
            known, unknown = known + k, unknown + u
            wrong_types += [(name, *w) for w in wrong]
            if Counter(want) != Counter(got):
                count_mismatch.append((name, len(got), len(want), Counter(want) - Counter(got), Counter(got) - Counter(want)))
            if not same:
                round_trip_fail.append((name, err))
    assert count_mismatch == []
    assert round_trip_fail == []
    # types read from pretty forms are those mlir-opt gives, or left unknown
    assert wrong_types == []
    assert known > unknown
    assert len(names) >= 400
