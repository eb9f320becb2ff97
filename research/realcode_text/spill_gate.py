"""The spill/no-spill decision on real code with other booster sizes: by-package k-fold CV over the
corpus's *training* packages only (its test packages untouched), spill F1 of each variant on the same
folds.  python spill_gate.py DIR [k] [seed] [variants: base,big,fast]"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import training_folds

from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.evaluation import f1_positive

k = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 0
VARIANTS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["base", "big", "fast"]
PARAMS = {"base": {}, "big": {"num_leaves": 63, "n_estimators": 1200},
          "fast": {"num_leaves": 63, "n_estimators": 600, "learning_rate": 0.05},
          "wide": {"num_leaves": 127, "n_estimators": 600, "learning_rate": 0.05}}
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
y = np.array([np.nan if r.get("spills") is None else r["spills"] for r in rows], dtype=float)
pred = {v: np.full(len(rows), np.nan) for v in VARIANTS}
for f, (tr, te) in enumerate(folds):
    for v in VARIANTS:
        m = E.fit_static([r for r, t in zip(rows, tr, strict=True) if t], X[tr], targets=["spills"],
                         target_params={"spills": PARAMS[v]}, random_state=SEED)
        pred[v][te] = m.predict_matrix(X[te], "spills")[0]
        print("fold", f, v, flush=True)
ok = test & np.isfinite(y)
out = {"packages": len(set(pk[test])), "rows": int(ok.sum()), "spilling": int((y[ok] > 0.5).sum())}
for v in VARIANTS:
    out[v] = {kk: round(vv, 4) for kk, vv in f1_positive(y[ok], pred[v][ok]).items() if kk in ("f1", "precision", "recall")}
print(json.dumps(out, indent=1))
