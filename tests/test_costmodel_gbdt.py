"""The C forest walker (irtoolkit.costmodel.gbdt, csrc/gbdt.c) gives LightGBM's numbers to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

from irtoolkit.costmodel.gbdt import Forest  # noqa: E402


def _data(rng, n=600, d=12, nan_rate=0.2):
    X = rng.normal(size=(n, d))
    X[:, 0] = rng.integers(0, 4, size=n)              # few distinct values: thresholds hit exactly
    X[rng.random((n, d)) < nan_rate] = np.nan
    X[rng.random((n, d)) < 0.1] = 0.0
    y = np.nan_to_num(X[:, 0]) * 2 + np.sin(np.nan_to_num(X[:, 1])) + np.isnan(X[:, 2])
    return X, y


@pytest.mark.parametrize(("params", "missing"), [
    ({"objective": "regression"}, 2),                             # NaNs in training: missing type NaN
    ({"objective": "regression", "use_missing": False}, 0),       # missing type None
    ({"objective": "regression", "zero_as_missing": True}, 1),    # missing type Zero
    ({"objective": "quantile", "alpha": 0.9, "num_leaves": 7}, 2),
])
def test_forest_equals_lightgbm(params, missing):
    rng = np.random.default_rng(0)
    X, y = _data(rng)
    b = lgb.train({**params, "verbosity": -1, "min_data_in_leaf": 3, "seed": 0}, lgb.Dataset(X, y),
                  num_boost_round=40)
    f = Forest.from_booster(b)
    assert f is not None and f.n_trees == b.num_trees()
    Xt, _ = _data(np.random.default_rng(1), n=301)       # not a multiple of the C block of rows
    assert np.array_equal(f.predict(Xt), b.predict(Xt, num_threads=1))
    types = {int(d) >> 2 & 3 for d in f.decision_type[f.leaf < 0]}
    assert missing in types, types          # the missing-value rule under test is in these trees


def test_one_leaf_trees_and_one_row():
    X = np.zeros((20, 3))
    b = lgb.train({"objective": "regression", "verbosity": -1}, lgb.Dataset(X, np.arange(20.0)), num_boost_round=3)
    f = Forest.from_booster(b)
    assert f is not None and int(f.tree_depth.max()) == 0
    assert np.array_equal(f.predict(X[:1]), b.predict(X[:1]))


def test_categorical_forests_stay_with_lightgbm():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 5, size=(300, 2)).astype(float)
    b = lgb.train({"objective": "regression", "verbosity": -1, "min_data_per_group": 5, "cat_smooth": 1},
                  lgb.Dataset(X, X[:, 0] * 3.0, categorical_feature=[0]), num_boost_round=5)
    assert Forest.from_booster(b) is None


def test_shipped_model_forests_equal_lightgbm_on_real_rows(clang_corpus):
    from irtoolkit import costmodel
    from irtoolkit.costmodel import features as F

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    m = costmodel.load()
    X = np.vstack([F.feature_matrix(p, m.feature_names_)[2] for p in clang_corpus[:6]])
    assert len(X) > 20
    for target in ("instructions_executed", "spills", "gpu_registers_sm90"):
        for kind, b in m.boosters_[target].items():
            f = Forest.from_booster(b)
            assert f is not None, (target, kind)
            # raw scores: the log-odds of a gate (a binary booster), which is what the model reads
            assert np.array_equal(f.predict(X), b.predict(X, num_threads=1, raw_score=True)), (target, kind)
    # and the model switches to the forest without changing a number
    m2 = costmodel.load()
    m2.FOREST_AFTER_ROWS = 0
    for t in ("instructions_executed", "text_bytes"):
        for a, c in zip(m.predict_matrix(X, t), m2.predict_matrix(X, t), strict=True):
            assert np.array_equal(a, c)


_ASAN_DRIVER = """
import sys
import numpy as np
import lightgbm as lgb
sys.path.insert(0, sys.argv[1])
import _c_gbdt
import irtools._native as nat
nat._module.cache_clear()
nat._module = lambda name: _c_gbdt          # the sanitized build stands in for the package's
assert nat.load("gbdt")[0] is _c_gbdt.lib and _c_gbdt.__file__.startswith(sys.argv[1])
from irtoolkit.costmodel.gbdt import Forest
rng = np.random.default_rng(0)
X = rng.normal(size=(500, 6))
X[rng.random(X.shape) < 0.2] = np.nan
b = lgb.train({"objective": "regression", "verbosity": -1, "min_data_in_leaf": 2}, lgb.Dataset(X, rng.normal(size=500)),
              num_boost_round=30)
f = Forest.from_booster(b)
for n in (1, 31, 32, 33, 500):
    assert np.array_equal(f.predict(X[:n]), b.predict(X[:n], num_threads=1))
print("ok")
"""


def test_asan_ubsan_walker_is_clean(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import asan_build

    root = Path(__file__).resolve().parent.parent
    env = asan_build(["gbdt"], tmp_path)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    driver = tmp_path / "drive.py"
    driver.write_text(_ASAN_DRIVER)
    r = subprocess.run([sys.executable, str(driver), str(tmp_path)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-4000:]
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-4000:]
