"""Same features as before issue #15's rework, bit for bit, but for the rows fixed on purpose.

tests/data/llvm_features_golden.npz holds a digest of every LLVM feature row that
``irtoolkit.costmodel.features.feature_matrix`` gave on main before the featuriser was reworked (made by
tests/make_feature_fixture.py): a fixed sample of the public corpus, every corpus module where main's C
side left a row to the Python reference, and the bundled C programs built by clang-22.  The shipped model
(costmodel/models/default) was trained on these features: equal rows, equal predictions.  A commit that
changes rows on purpose updates the fixture (``make_feature_fixture.py --update``) and lists them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import corpus_dir
from golden_sample import read_key
from make_feature_fixture import OUT, row_digests

from irtoolkit.costmodel import features as F


def test_feature_rows_equal_mains(clang_corpus):
    corpus_dir("llvm")
    g = np.load(OUT)
    # columns added since (lo.*) have tests of their own; the fixture's columns must not move
    cols = list(g["columns"])
    assert F.c_columns()[:len(cols)] == cols
    keys, names, digests = g["keys"].tolist(), g["names"].tolist(), g["digests"]
    tmp = Path(clang_corpus[0]).parent
    bad, start = [], 0
    for key in dict.fromkeys(keys):
        n = keys.count(key)
        kind, fnames, X = F.feature_matrix(read_key(key, tmp))
        assert kind == "llvm" and fnames == names[start:start + n], key
        got = row_digests(X[:, :len(cols)])
        bad += [(key, fnames[i]) for i in np.nonzero((got != digests[start:start + n]).any(axis=1))[0]]
        start += n
    assert start == len(keys) > 2000
    assert not bad, (len(bad), bad[:10])


def test_feature_cache_key_covers_every_defining_source(tmp_path):
    """A change in the C featuriser, the parser, their build flags or an analysis module changes the cache
    key, as one in costmodel/features.py does; every C file of the extensions that featurise is covered."""
    import shutil

    from irtools._build import EXTENSIONS

    root = Path(F.__file__).resolve().parent.parent
    covered = {p.relative_to(root).as_posix() for pat in F.FEATURE_SOURCES for p in root.glob(pat)}
    for ext in ("llparse", "mlirparse"):
        for comp in EXTENSIONS[ext]:
            assert {f"csrc/{comp}.c", f"csrc/{comp}.h"} <= covered, comp
    assert {"irtools/_build.py", "irtools/analysis/features.py", "irtools/ir/llvm/module.py",
            "irtools/ir/mlir/analysis.py"} <= covered
    for pat in F.FEATURE_SOURCES:
        for p in root.glob(pat):
            dest = tmp_path / p.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, dest)
    assert F.source_digest(tmp_path) == F.source_digest()
    seen = {F.source_digest()}
    edits = ("costmodel/features.py", "csrc/llfeatures.c", "csrc/llfeatures.h", "csrc/llparse.c",
             "irtools/_build.py", "irtools/analysis/loops.py", "irtools/analysis/features.py",
             "irtools/ir/llvm/module.py", "irtools/ir/mlir/analysis.py")
    for rel in edits:
        with open(tmp_path / rel, "a") as f:
            f.write("\n")
        seen.add(F.source_digest(tmp_path))
    assert len(seen) == len(edits) + 1
