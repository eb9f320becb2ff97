"""By-package K-fold CV on a real-code corpus: the product features with and without llfeatures.c's lo.*
columns (the port of proto.py/est2.py).  python cv_lo.py DIR [K]"""
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.model import CostModel

root, K = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 4
t0 = time.time()
R, X = E.load(root)
keep = ~np.isnan(X[:, FEATURE_NAMES.index("ir.fp.TotalInstructionCount")])
R, X = [r for r, k in zip(R, keep) if k], X[keep]
pk = np.array([r["package"] for r in R])
fold = {p: int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % K for p in set(pk)}
f = np.array([fold[p] for p in pk])
sha = np.array([r["function_sha"] for r in R])
ir = X[:, FEATURE_NAMES.index("ir.fp.TotalInstructionCount")]
est = X[:, FEATURE_NAMES.index("lo.est")]
base = [j for j, n in enumerate(FEATURE_NAMES) if not n.startswith("lo.")]
variants = {"base": base, "+lo": list(range(len(FEATURE_NAMES)))}
targets = ["machine_instructions", "text_bytes", "spills"]
Y = {t: np.array([np.nan if r[t] is None else r[t] for r in R], dtype=float) for t in targets}
preds = {v: {t: np.full(len(R), np.nan) for t in targets} for v in variants}
test = np.zeros(len(R), bool)
print(f"{len(R)} rows, {len(set(pk))} packages, loaded in {time.time() - t0:.0f}s", flush=True)
for k in range(K):
    tr = f != k
    te = (f == k) & ~np.isin(sha, sha[tr])
    test |= te
    for v, cols in variants.items():
        m = CostModel(targets=targets, n_estimators_quantile=5).fit(
            X[tr][:, cols], {t: Y[t][tr] for t in targets}, feature_names=[FEATURE_NAMES[j] for j in cols])
        for t in targets:
            preds[v][t][te] = m.predict_matrix(X[te][:, cols], t)[0]
    print(f"fold {k} done {time.time() - t0:.0f}s", flush=True)


def mape(y, p):
    ok = y > 0
    return float(np.mean(np.abs(p[ok] - y[ok]) / y[ok]))


print(f"tested {test.sum()} functions")
for t in ["machine_instructions", "text_bytes"]:
    y = Y[t][test]
    line = f"{t:22s} const×IR {100 * mape(y, E.best_constant(ir[test], y) * ir[test]):.1f}%"
    line += f"  const×lo.est {100 * mape(y, E.best_constant(est[test], y) * est[test]):.1f}%"
    for v in variants:
        line += f"  {v} {100 * mape(y, preds[v][t][test]):.1f}%"
    print(line)
y = Y["spills"][test]
for v in variants:
    p = preds[v]["spills"][test]
    tp, fp, fn = ((p > 0.5) & (y > 0)).sum(), ((p > 0.5) & (y == 0)).sum(), ((p <= 0.5) & (y > 0)).sum()
    print(v, "spill F1", round(2 * tp / (2 * tp + fp + fn), 3))
