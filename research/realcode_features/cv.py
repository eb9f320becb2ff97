"""Package-grouped CV of the real-trained model with/without the prototype features."""
import sys, json, hashlib
import numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.model import CostModel
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.dataset.realcode.evaluate import best_constant
sys.path.insert(0, ".")
from proto import EXTRA

z = np.load("all.npz")
X, Xe = z["X"], z["Xe"]
R = json.load(open("rows.json"))
pk = np.array([r["package"] for r in R])
pkgs = sorted(set(pk))
K = int(sys.argv[1]) if len(sys.argv) > 1 else 4
fold = {p: int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % K for p in pkgs}
f = np.array([fold[p] for p in pk])
sha = np.array([r["function_sha"] for r in R])
ir = X[:, FEATURE_NAMES.index("ir.fp.TotalInstructionCount")]
variants = {"base": (X, list(FEATURE_NAMES)), "extra": (np.hstack([X, Xe]), list(FEATURE_NAMES) + EXTRA)}
targets = ["machine_instructions", "text_bytes", "spills"]
Y = {t: np.array([np.nan if r[t] is None else r[t] for r in R]) for t in targets}
preds = {v: {t: np.full(len(R), np.nan) for t in targets} for v in variants}
testmask = np.zeros(len(R), bool)
for k in range(K):
    tr = f != k
    seen = set(sha[tr])
    te = (f == k) & np.array([s not in seen for s in sha])
    testmask |= te
    for v, (XX, names) in variants.items():
        m = CostModel(targets=targets, n_estimators_quantile=5).fit(XX[tr], {t: Y[t][tr] for t in targets},
                                                                        feature_names=names)
        for t in targets:
            p, _, _ = m.predict_matrix(XX[te], t)
            preds[v][t][te] = p


def mape(y, p):
    ok = y > 0
    return float(np.mean(np.abs(p[ok] - y[ok]) / y[ok]))


print(f"rows {len(R)}, packages {len(pkgs)}, tested {testmask.sum()}")
for t in ["machine_instructions", "text_bytes"]:
    y = Y[t][testmask]
    c = best_constant(ir[testmask], y)
    line = f"{t:22s} const×IR {100*mape(y, c*ir[testmask]):.1f}%"
    for v in variants:
        line += f"  {v} {100*mape(y, preds[v][t][testmask]):.1f}%"
    print(line)
y = Y["spills"][testmask]
for v in variants:
    p = preds[v]["spills"][testmask]
    tp = ((p > 0.5) & (y > 0)).sum(); fp = ((p > 0.5) & (y == 0)).sum(); fn = ((p <= 0.5) & (y > 0)).sum()
    print(v, "spill F1", round(2*tp/(2*tp+fp+fn), 3), "pos", int((y > 0).sum()))
np.savez("preds.npz", test=testmask, **{f"{v}_{t}": preds[v][t] for v in variants for t in targets})
