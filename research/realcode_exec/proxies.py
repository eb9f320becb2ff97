"""Which static quantity ranks real functions' instructions executed per call? (Kendall tau, pooled.)"""
import sys

import numpy as np

from irtoolkit.costmodel.dataset.realcode import evaluate as ev
from irtoolkit.costmodel.evaluation import kendall_tau
from irtoolkit.costmodel.features import FEATURE_NAMES

root = sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode"
rows, X = ev.load(root)
y = np.array([r[ev.EXECUTED] if r[ev.EXECUTED] is not None else np.nan for r in rows], float)
m = np.isfinite(y) & np.isfinite(X[:, FEATURE_NAMES.index(ev.IR_COUNT)])
print("labelled rows", m.sum(), "of", len(rows))
pk = np.array([r["package"] for r in rows])
test = np.array([ev.package_side(p) for p in pk])
res = []
for j, n in enumerate(FEATURE_NAMES):
    x = X[m, j]
    if np.nanstd(x) == 0:
        continue
    res.append((kendall_tau(x, y[m]), n))
res.sort(reverse=True)
for t, n in res[:25]:
    print(f"{t:+.3f} {n}")
print("...")
for t, n in res[-5:]:
    print(f"{t:+.3f} {n}")
# per package
for p in sorted(set(pk[m])):
    mm = m & (pk == p)
    j = FEATURE_NAMES.index("x.log_est_dyn_insts_incl")
    print(p, mm.sum(), "test" if ev.package_side(p) else "train",
          f"tau incl {kendall_tau(X[mm, j], y[mm]):+.2f}", f"median y {np.median(y[mm]):.0f}")
