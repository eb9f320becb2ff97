"""Does a package-wide reach feature help a model fitted on training packages' real executed labels?"""
import json

import lightgbm as lgb
import numpy as np

from irtoolkit.costmodel.dataset.realcode import evaluate as ev
from irtoolkit.costmodel.evaluation import kendall_tau
from irtoolkit.costmodel.features import FEATURE_NAMES

rows, X = ev.load("/work/data/realcode")
reach = {(r["package"], ): None for r in []}
R = json.load(open("/tmp/reach.json"))
# reach rows were made in executed.parquet order; key them by package + label + own size is ambiguous,
# so re-key by (package, y, own)
key = {}
for r in R:
    key[(r["package"], r["y"], r["own"])] = r
y = np.array([r[ev.EXECUTED] if r[ev.EXECUTED] is not None else np.nan for r in rows], float)
m = np.isfinite(y)
idx = np.where(m)[0]
ir = X[:, FEATURE_NAMES.index("ir.fp.TotalInstructionCount")]
extra = np.full((len(rows), 4), np.nan)
hit = 0
for i in idx:
    r = rows[i]
    k = (r["package"], int(y[i]), int(ir[i]))
    if k in key:
        e = key[k]
        extra[i] = [np.log1p(e["reach_ir"]), np.log1p(e["reach_n"]), np.log1p(e["reach_ext"]), np.log1p(e["reach_ind"])]
        hit += 1
print("joined", hit, "of", len(idx))
test = np.array([ev.package_side(r["package"]) for r in rows])
tr, te = idx[~test[idx]], idx[test[idx]]
print("train", len(tr), "test", len(te))
ly = np.log1p(y)
for name, F in [("features", X), ("features+reach", np.hstack([X, extra])), ("reach only", extra)]:
    taus = []
    for seed in range(3):
        mdl = lgb.LGBMRegressor(n_estimators=300, num_leaves=15, learning_rate=0.05, min_child_samples=10,
                                subsample=0.8, subsample_freq=1, colsample_bytree=0.5, random_state=seed, verbose=-1)
        mdl.fit(F[tr], ly[tr])
        taus.append(kendall_tau(mdl.predict(F[te]), y[te]))
    print(name, " ".join(f"{t:.3f}" for t in taus))
print("reach_ir alone on test", kendall_tau(extra[te, 0], y[te]))
print("calls alone on test", kendall_tau(X[te, FEATURE_NAMES.index("lo.call_args")], y[te]))
