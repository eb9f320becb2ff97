"""Booster settings on real code, machine instructions only, by-package 4-fold CV.  python hp_lo.py DIR"""
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.model import CostModel

R, X = E.load(Path(sys.argv[1]))
keep = ~np.isnan(X[:, FEATURE_NAMES.index("ir.fp.TotalInstructionCount")])
R, X = [r for r, k in zip(R, keep) if k], X[keep]
pk = np.array([r["package"] for r in R])
f = np.array([int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % 4 for p in pk])
sha = np.array([r["function_sha"] for r in R])
y = np.array([np.nan if r["machine_instructions"] is None else r["machine_instructions"] for r in R], float)
variants = {"default": {}, "leaves63": {"num_leaves": 63}, "ff0.6": {"feature_fraction": 0.6},
            "trees1200": {"n_estimators": 1200}, "mcs20": {"min_child_samples": 20}}
P = {v: np.full(len(y), np.nan) for v in variants}
test = np.zeros(len(y), bool)
t0 = time.time()
for k in range(4):
    tr = (f != k) & ~np.isnan(y)
    te = (f == k) & ~np.isin(sha, sha[tr]) & ~np.isnan(y)
    test |= te
    for v, prm in variants.items():
        m = CostModel(targets=["machine_instructions"], n_estimators_quantile=5, **prm).fit(
            X[tr], {"machine_instructions": y[tr]}, feature_names=list(FEATURE_NAMES))
        P[v][te] = m.predict_matrix(X[te], "machine_instructions")[0]
    print("fold", k, f"{time.time() - t0:.0f}s", flush=True)
ok = test & (y > 0)
for v in variants:
    print(v, f"{100 * np.mean(np.abs(P[v][ok] - y[ok]) / y[ok]):.2f}%")
