"""The size targets' point booster on real code with other generalisation settings: by-package CV over the
training packages only, each fold fitted the shipped model's way (the generated sources' training split plus
the real training fold at weight 0.5, train_default's settings) with one change to the point booster of
machine instructions and `.text` per variant, scored on the held-out fold.
python cv_params.py DIR k seed variant[,variant...]     (variants: base, ff03, mcs20, mcs50, ff05, l2_1)
base is train_default's TARGET_PARAMS as they are now (feature_fraction 0.5 since 2026-12-08; ff03 is the
setting before)."""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import fit_shipped_way, fold_rows, generated_training, training_folds

from irtoolkit.costmodel.train_default import TARGET_PARAMS

TARGETS = ["machine_instructions", "text_bytes"]
VARIANTS = {"base": {}, "ff03": {"feature_fraction": 0.3}, "mcs20": {"min_child_samples": 20}, "mcs50": {"min_child_samples": 50},
            "ff05": {"feature_fraction": 0.5}, "l2_1": {"lambda_l2": 1.0}}
k, seed = int(sys.argv[2]), int(sys.argv[3])
variants = sys.argv[4].split(",")
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
gen_feats, gen_labels, gen_weights = generated_training(TARGETS)
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in TARGETS}
pred = {(v, t): np.full(len(rows), np.nan) for v in variants for t in TARGETS}
for f, (tr, te) in enumerate(folds):
    real = fold_rows(rows, X, tr, TARGETS)
    for v in variants:
        t0 = time.time()
        params = {t: {**TARGET_PARAMS[t], **VARIANTS[v]} for t in TARGETS}
        m = fit_shipped_way((gen_feats, gen_labels, gen_weights), real, 0.5, TARGETS, seed, params)
        for t in TARGETS:
            pred[(v, t)][te] = m.predict_matrix(X[te], t)[0]
        print("fold", f, v, round(time.time() - t0), flush=True)
out = {"packages": len(set(pk[test])), "rows": int(test.sum())}
for t in TARGETS:
    ok = test & (y[t] > 0)
    for v in variants:
        out[f"{t}_mape_{v}"] = round(float((np.abs(pred[(v, t)][ok] - y[t][ok]) / y[t][ok]).mean()), 5)
print(json.dumps(out, indent=1))
