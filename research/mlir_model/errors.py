"""Where does the MLIR model err on held-out programs?  Fit on training seeds, list the worst rows."""
import sys
from collections import defaultdict

import numpy as np

from irtoolkit.costmodel import features as F
from irtoolkit.costmodel import mlirmodel
from irtoolkit.costmodel.dataset.mlirpairs import BUFFERIZE as mlirpairs_B
from irtoolkit.costmodel.dataset.mlirpairs import load_rows

dirs = sys.argv[1:] or ["build/mlirpairs"]
rows = [r for d in dirs for r in load_rows(d)]
train, test = mlirmodel.split_by_program(rows, 5)
print("rows", len(train), len(test))
m = mlirmodel.MlirCostModel(n_estimators=400, feature_fraction=0.8, targets=("machine_instructions",)).fit(train)
feats = mlirmodel.row_features(test)
X = F.to_matrix(feats, m.model_.feature_names_)
p = m.model_.predict_matrix(X, "machine_instructions")[0]
y = np.array([r["labels"]["machine_instructions"] for r in test])
ape = np.abs(p - y) / y
print("MAPE", ape.mean() * 100, "median", np.median(ape) * 100)
fam = defaultdict(list)
for r, a in zip(test, ape, strict=False):
    fam[r["family"]].append(a)
for k, v in sorted(fam.items()):
    print(f"  {k:22s} n={len(v):4d} mape={np.mean(v)*100:5.1f}")
order = np.argsort(-ape)
for i in order[:30]:
    r = test[i]
    print("----", r["family"], r["function"], "y", y[i], "pred", round(p[i], 1), "pipe", r["pipeline"][:400].replace(mlirpairs_B, "BUF"))
    src = r["source"]
    # the function's text
    j = src.find("@" + r["function"] + "(")
    pass
