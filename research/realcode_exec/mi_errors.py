"""Where the shipped model's machine-instruction error on real code sits: by function size."""
import sys

import numpy as np

from irtoolkit.costmodel import api
from irtoolkit.costmodel.dataset.realcode import evaluate as ev

root = sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode"
rows, X = ev.load(root)
m = api.load()
T = "machine_instructions"
Xm = ev._reorder(X, m.feature_names_)
p = m.predict_matrix(Xm, T)[0]
y = np.array([r[T] if r[T] is not None else np.nan for r in rows], float)
test = np.array([ev.package_side(r["package"]) for r in rows])
ok = test & np.isfinite(y) & (y > 0) & np.isfinite(p)
ape = np.abs(p - y) / y
print("test rows", ok.sum(), "MAPE", ape[ok].mean() * 100)
tot = ape[ok].sum()
for lo, hi in ((1, 3), (3, 6), (6, 11), (11, 21), (21, 51), (51, 201), (201, 1e9)):
    b = ok & (y >= lo) & (y < hi)
    print(f"y in [{lo},{hi}): n={b.sum():5d} MAPE={ape[b].mean()*100:5.1f}% share of total error {ape[b].sum()/tot*100:4.1f}%"
          f"  bias {np.median((p[b]-y[b])/y[b])*100:+.1f}%")
