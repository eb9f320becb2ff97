"""Same features as before issue #15's rework, bit for bit.

tests/data/llvm_features_golden.npz holds a digest of every LLVM feature row that
``costmodel.features.feature_matrix`` gave on main before the featuriser was reworked (made by
tests/make_feature_fixture.py): a fixed sample of the public corpus, every corpus module where main's C
side left a row to the Python reference, and the bundled C programs built by clang-22.  The shipped model
(costmodel/models/default) was trained on these features: equal rows, equal predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import corpus_dir
from golden_sample import read_key
from make_feature_fixture import OUT, row_digests

from costmodel import features as F


def test_feature_rows_equal_mains(clang_corpus):
    corpus_dir("llvm")
    g = np.load(OUT)
    assert list(g["columns"]) == F.c_columns()
    keys, names, digests = g["keys"].tolist(), g["names"].tolist(), g["digests"]
    tmp = Path(clang_corpus[0]).parent
    bad, start = [], 0
    for key in dict.fromkeys(keys):
        n = keys.count(key)
        kind, fnames, X = F.feature_matrix(read_key(key, tmp))
        assert kind == "llvm" and fnames == names[start:start + n], key
        got = row_digests(X[:, :len(F.c_columns())])
        bad += [(key, fnames[i]) for i in np.nonzero((got != digests[start:start + n]).any(axis=1))[0]]
        start += n
    assert start == len(keys) > 2000
    assert not bad, (len(bad), bad[:10])
