"""How much the generated sources help on real code, by-package CV over the training packages only: each fold
fits the shipped model's way (train_default's booster settings, the generated sources' training split plus the
real training fold at a weight) and scores the held-out fold.  Weight 0 of the generated rows is the real-only
model.  Only machine instructions and .text are fitted, to keep a fold at a few minutes.
python cv_weight.py DIR k seed w_real[,w_real...] [gen_scale]   (gen_scale 0: real rows alone)"""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import fit_shipped_way, fold_rows, generated_training, training_folds

from irtoolkit.costmodel.train_default import TARGET_PARAMS

TARGETS = ["machine_instructions", "text_bytes"]
k, seed = int(sys.argv[2]), int(sys.argv[3])
weights = [float(w) for w in sys.argv[4].split(",")]
gen_scale = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
# gen_scale 0 leaves the generated rows out (the real-only model); the generated part of every fit is
# the same in each fold and at each real-code weight
gen_feats, gen_labels, gen_weights = generated_training(TARGETS) if gen_scale else ([], [], [])
gen_weights = [gen_scale * w for w in gen_weights]
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in TARGETS}
pred = {(w, t): np.full(len(rows), np.nan) for w in weights for t in TARGETS}
for f, (tr, te) in enumerate(folds):
    real = fold_rows(rows, X, tr, TARGETS)
    for w in weights:
        t0 = time.time()
        m = fit_shipped_way((gen_feats, gen_labels, gen_weights), real, w, TARGETS, seed, TARGET_PARAMS)
        for t in TARGETS:
            pred[(w, t)][te] = m.predict_matrix(X[te], t)[0]
        print("fold", f, "weight", w, round(time.time() - t0), flush=True)
out = {"packages": len(set(pk[test])), "rows": int(test.sum()), "gen_scale": gen_scale}
for t in TARGETS:
    ok = test & (y[t] > 0)
    for w in weights:
        out[f"{t}_mape_w{w}"] = round(float((np.abs(pred[(w, t)][ok] - y[t][ok]) / y[t][ok]).mean()), 5)
print(json.dumps(out, indent=1))
