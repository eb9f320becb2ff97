"""Held-out instructions executed: the worst rows against the simulated dynamic counts."""
import sys

import numpy as np

from irtoolkit.costmodel import features as F
from irtoolkit.costmodel import mlirfeatures as MF
from irtoolkit.costmodel import mlirmodel
from irtoolkit.costmodel.dataset.mlirpairs import BUFFERIZE, load_rows
from irtoolkit.costmodel.model import CostModel

E = "instructions_executed"
rows = [r for d in sys.argv[1:] for r in load_rows(d)]
train, test = mlirmodel.split_by_program(rows, 5)
ftr, fte = mlirmodel.row_features(train), mlirmodel.row_features(test)
m = CostModel(targets=[E], n_estimators=400, feature_fraction=0.8).fit(ftr, mlirmodel.row_labels(train, ftr),
                                                                      feature_names=MF.FEATURE_NAMES)
lte = mlirmodel.row_labels(test, fte)
y = np.array([lab.get(E, np.nan) for lab in lte], dtype=float)
ok = np.where(np.nan_to_num(y) > 0)[0]
p = m.predict_matrix(F.to_matrix(fte, m.feature_names_), E)[0]
ape = np.abs(p - y) / y
print("MAPE", np.mean(ape[ok]) * 100, "n", len(ok))
for i in sorted(ok, key=lambda i: -ape[i])[:12]:
    r, f = test[i], fte[i]
    cfg = r["pipeline"].replace(BUFFERIZE, "B").split("lower-affine")[0][40:]
    est = f["sim.exec_cost"] + f["sim.exec_mem"] + 3 * f["sim.exec_iters"]
    print(f"{r['family']:12s} y={y[i]:9.0f} p={p[i]:9.0f} est={est:9.0f} | {cfg}")
est = np.array([f["sim.exec_est"] for f in fte])
print("held-out: exec_est alone MAPE", np.mean(np.abs(est[ok] - y[ok]) / y[ok]) * 100)
print("offset line:", m.target_info_[E]["offset"])
