"""How much the generated sources help on real code, by-package CV over the training packages only: each fold
fits the shipped model's way (train_default's booster settings, the generated sources' training split plus the
real training fold at a weight) and scores the held-out fold.  Weight 0 of the generated rows is the real-only
model.  Only machine instructions and .text are fitted, to keep a fold at a few minutes.
python cv_weight.py DIR k seed w_real[,w_real...] [gen_scale]   (gen_scale 0: real rows alone)"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import fit_shipped_way, generated_training, held_out_predictions, labels, mape, training_folds

from irtoolkit.costmodel.train_default import TARGET_PARAMS

TARGETS = ["machine_instructions", "text_bytes"]
k, seed = int(sys.argv[2]), int(sys.argv[3])
weights = [float(w) for w in sys.argv[4].split(",")]
gen_scale = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
# gen_scale 0 leaves the generated rows out (the real-only model); the generated part of every fit is
# the same in each fold and at each real-code weight
gen_feats, gen_labels, gen_weights = generated_training(TARGETS) if gen_scale else ([], [], [])
gen = (gen_feats, gen_labels, [gen_scale * w for w in gen_weights])
pred = held_out_predictions(rows, X, folds, TARGETS, weights,
                            lambda w, real: fit_shipped_way(gen, real, w, TARGETS, seed, TARGET_PARAMS))
y = labels(rows, TARGETS)
out = {"packages": len(set(pk[test])), "rows": int(test.sum()), "gen_scale": gen_scale}
for t in TARGETS:
    for w in weights:
        out[f"{t}_mape_w{w}"] = mape(y[t], pred[(w, t)], test)
print(json.dumps(out, indent=1))
