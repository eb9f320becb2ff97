"""The spill gate's decision threshold and the real-code weight of its fit: by-package CV over the training
packages only, each fold fitted the shipped model's way (the generated sources' training split plus the real
training fold at a weight, train_default's settings), the gate's log-odds kept for every held-out function.
The threshold is judged honestly: for each fold it is chosen on the *other* folds' held-out log-odds and
applied to this one, so no function scores under a threshold that saw it.
python cv_gate.py DIR k seed w_real[,w_real...]"""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import fit_shipped_way, fold_rows, generated_training, labels, training_folds

from irtoolkit.costmodel.evaluation import f1_positive
from irtoolkit.costmodel.train_default import TARGET_PARAMS

TARGETS = ["spills"]
GRID = np.round(np.arange(-1.5, 1.51, 0.1), 2)
k, seed = int(sys.argv[2]), int(sys.argv[3])
weights = [float(w) for w in sys.argv[4].split(",")]
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
gen_feats, gen_labels, gen_weights = generated_training(TARGETS)
y = labels(rows, TARGETS)["spills"]
logit = {w: np.full(len(rows), np.nan) for w in weights}
fold_of = np.full(len(rows), -1)
for f, (tr, te) in enumerate(folds):
    fold_of[te] = f
    real = fold_rows(rows, X, tr, TARGETS)
    for w in weights:
        t0 = time.time()
        m = fit_shipped_way((gen_feats, gen_labels, gen_weights), real, w, TARGETS, seed, TARGET_PARAMS)
        logit[w][te] = m._raw(m.boosters_["spills"]["gate"], X[te])
        print("fold", f, "weight", w, round(time.time() - t0), flush=True)


def f1_at(yy, lg, th):
    return f1_positive(yy, (lg > th).astype(float))


ok = test & np.isfinite(y)
out = {"packages": len(set(pk[test])), "rows": int(ok.sum()), "spilling": int((y[ok] > 0.5).sum())}
for w in weights:
    lg = logit[w]
    at0 = f1_at(y[ok], lg[ok], 0.0)
    pooled = {float(t): f1_at(y[ok], lg[ok], t)["f1"] for t in GRID}
    # each fold's threshold chosen on the others' held-out functions, then applied to it
    chosen, tp_pred = [], np.zeros(len(rows), dtype=bool)
    for f in range(k):
        this, rest = ok & (fold_of == f), ok & (fold_of != f) & (fold_of >= 0)
        th = max(GRID, key=lambda t, rest=rest: f1_at(y[rest], lg[rest], t)["f1"])
        chosen.append(float(th))
        tp_pred[this] = lg[this] > th
    honest = f1_positive(y[ok], tp_pred[ok].astype(float))
    out[f"w{w}"] = {"f1_at_0": {kk: round(at0[kk], 4) for kk in ("f1", "precision", "recall")},
                    "best_pooled": max(pooled.items(), key=lambda kv: kv[1]),
                    "thresholds_chosen_per_fold": chosen,
                    "f1_chosen_on_other_folds": {kk: round(honest[kk], 4) for kk in ("f1", "precision", "recall")},
                    "f1_by_threshold": {t: round(v, 4) for t, v in pooled.items()}}
print(json.dumps(out, indent=1))
