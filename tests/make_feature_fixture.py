"""Record the LLVM feature matrix that irtoolkit.costmodel.features.feature_matrix gives today (C rows, inexact rows
recomputed), on a fixed sample of the public corpus and of the bundled C programs built by clang-22.

    python tests/make_feature_fixture.py            # writes tests/data/llvm_features_golden.npz
    python tests/make_feature_fixture.py --update   # the same modules again; prints each row that changed

The fixture was made from main's behaviour before the featuriser was reworked (issue #15); every later
step must reproduce it bit for bit (tests/test_costmodel_golden.py), except for rows a commit fixes on
purpose: ``--update`` recomputes the fixture's own modules (not a fresh sample: which modules main left
to Python is history) and lists every changed row, for that commit's message."""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from golden_sample import clang_sample, corpus_sample, read_key  # noqa: E402

from irtoolkit.costmodel import features as F  # noqa: E402

OUT = ROOT / "tests" / "data" / "llvm_features_golden.npz"


def row_digests(X: np.ndarray) -> np.ndarray:
    """16 bytes of sha256 of each row's float64 bytes (NaN payloads included): equal digests, equal rows."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return np.array([np.frombuffer(hashlib.sha256(r.tobytes()).digest()[:16], dtype=np.uint8) for r in X])


def _modules(tmp: Path, update: bool) -> list[tuple[str, bytes]]:
    if not update:
        return corpus_sample(with_inexact=True) + clang_sample(tmp)
    clang_sample(tmp)   # builds the C programs into tmp
    return [(key, read_key(key, tmp)) for key in dict.fromkeys(np.load(OUT)["keys"].tolist())]


def _report_changes(keys: list[str], names: list[str], digests: np.ndarray) -> None:
    """Each row of the new fixture whose digest differs from the stored one, by module."""
    old = np.load(OUT)
    before: dict[str, list[tuple[str, bytes]]] = {}
    for k, n, d in zip(old["keys"].tolist(), old["names"].tolist(), old["digests"], strict=True):
        before.setdefault(k, []).append((n, d.tobytes()))
    after: dict[str, list[tuple[str, bytes]]] = {}
    for k, n, d in zip(keys, names, digests, strict=True):
        after.setdefault(k, []).append((n, d.tobytes()))
    changed = 0
    for k in after:
        a, b = before.get(k, []), after[k]
        if [n for n, _ in a] != [n for n, _ in b]:
            print(f"  {k}: functions {[n for n, _ in a]} -> {[n for n, _ in b]}")
            changed += len(b)
            continue
        for (n, da), (_, db) in zip(a, b, strict=True):
            if da != db:
                print(f"  {k}: {n!r}")
                changed += 1
    print(f"{changed} rows changed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="recompute the fixture's own modules, list the changes")
    update = ap.parse_args().update
    keys, names, rows, exact, failed = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for key, data in _modules(Path(tmp), update):
            try:
                kind, fnames, X = F.feature_matrix(data)
            except Exception as e:   # main's Python reference fails on a few (recorded, left out)
                failed.append(f"{key}: {type(e).__name__}: {e}")
                continue
            exact.append(F.c_feature_rows(data)[2])
            assert kind == "llvm"
            keys += [key] * len(fnames)
            names += fnames
            rows.append(X[:, :len(F.c_columns())])
    X = np.vstack(rows)
    exact = np.concatenate(exact)
    if update:
        _report_changes(keys, names, row_digests(X))
    np.savez_compressed(OUT, keys=np.array(keys), names=np.array(names), digests=row_digests(X),
                        exact=exact, columns=np.array(F.c_columns()))
    print("failed on main:", *failed, sep="\n  ")
    print(f"{int((~exact).sum())} rows recomputed by Python")
    print(f"{OUT}: {X.shape[0]} rows, {len(set(keys))} modules, sha256 "
          f"{hashlib.sha256(X.tobytes()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
