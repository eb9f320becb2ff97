"""Spill / no-spill on real code: the regression's 0.5 threshold against a binary LightGBM classifier,
by-package 4-fold CV (product features incl. lo.*).  python spill_cls.py DIR"""
import hashlib
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.features import FEATURE_NAMES

R, X = E.load(Path(sys.argv[1]))
keep = ~np.isnan(X[:, FEATURE_NAMES.index("ir.fp.TotalInstructionCount")])
R, X = [r for r, k in zip(R, keep) if k], X[keep]
y = np.array([np.nan if r["spills"] is None else r["spills"] for r in R], dtype=float)
ok = ~np.isnan(y)
R, X, y = [r for r, k in zip(R, ok) if k], X[ok], y[ok]
pk = np.array([r["package"] for r in R])
f = np.array([int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % 4 for p in pk])
sha = np.array([r["function_sha"] for r in R])
P = {"reg": np.full(len(y), np.nan), "cls": np.full(len(y), np.nan)}
test = np.zeros(len(y), bool)
prm = dict(learning_rate=0.05, num_leaves=63, min_data_in_leaf=20, feature_fraction=0.8, bagging_fraction=0.8,
           bagging_freq=1, verbosity=-1, num_threads=1)
for k in range(4):
    tr = f != k
    te = (f == k) & ~np.isin(sha, sha[tr])
    test |= te
    b = lgb.train({**prm, "objective": "binary"}, lgb.Dataset(X[tr], (y[tr] > 0.5).astype(float)), 400)
    P["cls"][te] = b.predict(X[te])
    r = lgb.train({**prm, "objective": "regression"}, lgb.Dataset(X[tr], np.log1p(y[tr])), 400)
    P["reg"][te] = np.expm1(r.predict(X[te]))
    print("fold", k, flush=True)
t = y[test] > 0.5
print("positives", t.mean())
for name, p in P.items():
    for th in (0.3, 0.4, 0.5, 0.6):
        q = p[test] > th
        tp, fp, fn = (q & t).sum(), (q & ~t).sum(), (~q & t).sum()
        print(name, th, "F1", round(2 * tp / (2 * tp + fp + fn), 3), "P", round(tp / (tp + fp), 3), "R", round(tp / (tp + fn), 3))
