"""A function's own instructions per call (self cost, callees excluded) on real code: how well do static
features rank it, against the inclusive label?  Fit on the training packages' suites, score the rest."""
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pyarrow.parquet as pq

from irtoolkit.costmodel.dataset.realcode import evaluate as ev
from irtoolkit.costmodel.evaluation import kendall_tau
from irtoolkit.costmodel.features import FEATURE_NAMES

root = sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode"
rows, X = ev.load(root)
self_pc = {}
for pdir in Path(root, "packages").iterdir():
    f = pdir / "executed.parquet"
    if f.is_file():
        for r in pq.read_table(f).to_pylist():
            self_pc[(r["function"], r["function_sha"])] = r["self_ir"] / max(r["calls"], 1)
incl = np.array([r[ev.EXECUTED] if r[ev.EXECUTED] is not None else np.nan for r in rows], float)
selfc = np.array([self_pc.get((r["function"], r["function_sha"]), np.nan) for r in rows], float)
m = np.isfinite(incl) & np.isfinite(selfc) & (selfc > 0)
idx = np.where(m)[0]
test = np.array([ev.package_side(r["package"]) for r in rows])
tr, te = idx[~test[idx]], idx[test[idx]]
print("train", len(tr), "test", len(te))
ir = X[:, FEATURE_NAMES.index(ev.IR_COUNT)]
for name, y in (("inclusive per call", incl), ("self per call", selfc)):
    taus = []
    for seed in range(3):
        mdl = lgb.LGBMRegressor(n_estimators=300, num_leaves=15, learning_rate=0.05, min_child_samples=10,
                                subsample=0.8, subsample_freq=1, colsample_bytree=0.5, random_state=seed, verbose=-1)
        mdl.fit(X[tr], np.log1p(y[tr]))
        taus.append(kendall_tau(mdl.predict(X[te]), y[te]))
    print(f"{name:20s} model tau {np.mean(taus):.3f} (seeds {' '.join(f'{t:.3f}' for t in taus)}), "
          f"IR count tau {kendall_tau(ir[te], y[te]):.3f}")
