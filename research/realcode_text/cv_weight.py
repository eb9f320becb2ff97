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
from folds import training_folds

from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.evaluation import load_dataset, split_by_origin
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.model import CostModel
from irtoolkit.costmodel.train_default import TARGET_PARAMS

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["machine_instructions", "text_bytes"]
k, seed = int(sys.argv[2]), int(sys.argv[3])
weights = [float(w) for w in sys.argv[4].split(",")]
gen_scale = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
grows, gfeats = [], []
for folder in ("costmodel-dataset", "costmodel-gpu", "costmodel-tvmcpu", "costmodel-mlir"):
    r, f = load_dataset(ROOT / "build" / folder)
    grows, gfeats = grows + r, gfeats + f
held = split_by_origin(grows)
# gen_scale 0 leaves the generated rows out (the real-only model)
gkeep = [i for i in range(len(grows)) if gen_scale and not held[i] and any(t in grows[i]["labels"] for t in TARGETS)]
gw = {"tvm-llvm": 0.25}   # train_default's --tvm-cpu-weight default
# the generated part of every fit, the same in each fold and at each real-code weight
gen_feats = [gfeats[i] for i in gkeep]
gen_labels = [{t: v for t, v in grows[i]["labels"].items() if t in TARGETS} for i in gkeep]
gen_weights = [gen_scale * gw.get(grows[i]["source"], 1.0) for i in gkeep]
print(len(gkeep), "generated training rows", flush=True)
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in TARGETS}
pred = {(w, t): np.full(len(rows), np.nan) for w in weights for t in TARGETS}
for f, (tr, te) in enumerate(folds):
    rrows, rfeats = E.training_rows([r for r, m in zip(rows, tr, strict=True) if m], X[tr], targets=TARGETS)
    for w in weights:
        t0 = time.time()
        m = CostModel(targets=TARGETS, random_state=seed, target_params=TARGET_PARAMS).fit(
            gen_feats + rfeats, gen_labels + [r["labels"] for r in rrows], weights=gen_weights + [w] * len(rrows),
            feature_names=list(FEATURE_NAMES))
        for t in TARGETS:
            pred[(w, t)][te] = m.predict_matrix(X[te], t)[0]
        print("fold", f, "weight", w, round(time.time() - t0), flush=True)
out = {"packages": len(set(pk[test])), "rows": int(test.sum()), "gen_scale": gen_scale}
for t in TARGETS:
    ok = test & (y[t] > 0)
    for w in weights:
        out[f"{t}_mape_w{w}"] = round(float((np.abs(pred[(w, t)][ok] - y[t][ok]) / y[t][ok]).mean()), 5)
print(json.dumps(out, indent=1))
