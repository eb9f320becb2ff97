"""Held-out MAPE of the MLIR model with and without a feature block (split by program, as the eval)."""
import sys
from collections import defaultdict

import numpy as np

from irtoolkit.costmodel import features as F
from irtoolkit.costmodel import mlirfeatures as MF
from irtoolkit.costmodel import mlirmodel
from irtoolkit.costmodel.dataset.mlirpairs import load_rows
from irtoolkit.costmodel.model import CostModel

dirs = sys.argv[1:] or ["build/mlirpairs"]
rows = [r for d in dirs for r in load_rows(d)]
train, test = mlirmodel.split_by_program(rows, 5)
ftr, fte = mlirmodel.row_features(train), mlirmodel.row_features(test)
ltr = mlirmodel.row_labels(train, ftr)
print("rows", len(train), len(test))
T = "machine_instructions"
y = np.array([r["labels"][T] for r in test])
for name, drop in [("all", ()), ("no sim", ("sim.",))]:
    names = [n for n in MF.FEATURE_NAMES if not n.startswith(drop)] if drop else MF.FEATURE_NAMES
    E = "instructions_executed"
    m = CostModel(targets=[T, "text_bytes", E], n_estimators=400, feature_fraction=0.8).fit(ftr, ltr, feature_names=names)
    X = F.to_matrix(fte, m.feature_names_)
    out = {}
    lte = mlirmodel.row_labels(test, fte)
    for t in (T, "text_bytes", E):
        yy = np.array([lab.get(t, np.nan) for lab in lte], dtype=float)
        ok = np.nan_to_num(yy) > 0
        p = m.predict_matrix(X, t)[0]
        out[t] = np.mean(np.abs(p[ok] - yy[ok]) / yy[ok]) * 100 if ok.any() else float("nan")
        out[t + "_n"] = int(ok.sum())
    p = m.predict_matrix(X, T)[0]
    fam = defaultdict(list)
    for r, a in zip(test, np.abs(p - y) / y, strict=False):
        fam[r["family"]].append(a)
    print(f"{name:14s} MI {out[T]:5.1f}  text {out['text_bytes']:5.1f}  exec {out[E]:5.1f} (n={out[E + '_n']})  ",
          " ".join(f"{k[:6]}={np.mean(v)*100:.0f}" for k, v in sorted(fam.items())))
