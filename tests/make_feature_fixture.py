"""Record the LLVM feature matrix that costmodel.features.feature_matrix gives today (C rows, inexact rows
recomputed), on a fixed sample of the public corpus and of the bundled C programs built by clang-22.

    python tests/make_feature_fixture.py       # writes tests/data/llvm_features_golden.npz

The fixture was made from main's behaviour before the featuriser was reworked (issue #15); every later
step must reproduce it bit for bit (tests/test_costmodel_golden.py)."""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from golden_sample import clang_sample, corpus_sample  # noqa: E402

from costmodel import features as F  # noqa: E402

OUT = ROOT / "tests" / "data" / "llvm_features_golden.npz"


def row_digests(X: np.ndarray) -> np.ndarray:
    """16 bytes of sha256 of each row's float64 bytes (NaN payloads included): equal digests, equal rows."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return np.array([np.frombuffer(hashlib.sha256(r.tobytes()).digest()[:16], dtype=np.uint8) for r in X])


def main() -> None:
    keys, names, rows, exact, failed = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for key, data in corpus_sample(with_inexact=True) + clang_sample(Path(tmp)):
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
    np.savez_compressed(OUT, keys=np.array(keys), names=np.array(names), digests=row_digests(X),
                        exact=exact, columns=np.array(F.c_columns()))
    print("failed on main:", *failed, sep="\n  ")
    print(f"{int((~exact).sum())} rows recomputed by Python")
    print(f"{OUT}: {X.shape[0]} rows, {len(set(keys))} modules, sha256 "
          f"{hashlib.sha256(X.tobytes()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
