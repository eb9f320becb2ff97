"""The point booster's loss on real code: by-package k-fold CV over the corpus's *training* packages
only (its test packages untouched), the same folds for each loss on the log-scale residual; also the
best single scale factor on the pooled CV predictions (an upper bound of what a calibration buys).
python objective.py DIR [k] [seed] [variants: l2,l1,huber (alpha 0.1),huber:ALPHA]"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import training_folds

from irtoolkit.costmodel.dataset.realcode import evaluate as E

k = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 0
VARIANTS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["l2", "l1", "huber"]
LOSS = {"l2": {}, "l1": {"objective": "regression_l1"}, "huber": {"objective": "huber", "alpha": 0.1}}
LOSS |= {v: {"objective": "huber", "alpha": float(v.split(":")[1])} for v in VARIANTS if v.startswith("huber:")}
targets = ["machine_instructions", "text_bytes"]
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in targets}
pred = {(v, t): np.full(len(rows), np.nan) for v in VARIANTS for t in targets}
for f, (tr, te) in enumerate(folds):
    for v in VARIANTS:
        tp = {t: {"num_leaves": 63, "n_estimators": 600, "learning_rate": 0.05, **LOSS[v]} for t in targets}
        m = E.fit_static([r for r, t in zip(rows, tr, strict=True) if t], X[tr], targets=targets,
                         target_params=tp, random_state=SEED)
        for t in targets:
            pred[(v, t)][te] = m.predict_matrix(X[te], t)[0]
        print("fold", f, v, flush=True)
out = {"packages": len(set(pk[test])), "rows": int(test.sum())}
for t in targets:
    ok = test & (y[t] > 0)
    for v in VARIANTS:
        p, yy = pred[(v, t)][ok], y[t][ok]
        mape = float(np.mean(np.abs(p - yy) / yy))
        cs = np.linspace(0.95, 1.03, 81)
        best = min(cs, key=lambda c: np.mean(np.abs(c * p - yy) / yy))
        out[f"{t}/{v}"] = {"mape": round(mape, 5), "best_scale": round(float(best), 4),
                           "mape_at_best_scale": round(float(np.mean(np.abs(best * p - yy) / yy)), 5)}
print(json.dumps(out, indent=1))
