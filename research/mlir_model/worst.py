"""The worst held-out rows of one family, with their simulated shape."""
import sys

import numpy as np

from irtoolkit.costmodel import features as F
from irtoolkit.costmodel import mlirfeatures as MF
from irtoolkit.costmodel import mlirmodel
from irtoolkit.costmodel.dataset.mlirpairs import BUFFERIZE, load_rows
from irtoolkit.costmodel.model import CostModel

fam = sys.argv[1]
rows = [r for d in sys.argv[2:] for r in load_rows(d)]
train, test = mlirmodel.split_by_program(rows, 5)
ftr, fte = mlirmodel.row_features(train), mlirmodel.row_features(test)
names = MF.FEATURE_NAMES
T = "machine_instructions"
m = CostModel(targets=[T], n_estimators=400, feature_fraction=0.8).fit(ftr, mlirmodel.row_labels(train, ftr), feature_names=names)
X = F.to_matrix(fte, m.feature_names_)
p = m.predict_matrix(X, T)[0]
y = np.array([r["labels"][T] for r in test])
idx = [i for i, r in enumerate(test) if r["family"] == fam]
idx.sort(key=lambda i: -abs(p[i] - y[i]) / y[i])
for i in idx[:14]:
    r = test[i]
    src = r["source"]
    j = src.find("@" + r["function"] + "(")
    sig = src[j:src.find("{", j)]
    cfg = r["pipeline"].replace(BUFFERIZE, "B").split("lower-affine")[0]
    sim = {k[4:]: v for k, v in fte[i].items() if k.startswith("sim.") and v}
    print(src[j:j+500])
    print(f"y={y[i]:.0f} p={p[i]:.0f} | {sig[:90]} | {cfg[40:]}\n     {sim}")
