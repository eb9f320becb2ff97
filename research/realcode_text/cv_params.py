"""The size targets' point booster on real code with other generalisation settings: by-package CV over the
training packages only, each fold fitted the shipped model's way (the generated sources' training split plus
the real training fold at weight 0.5, train_default's settings) with one change to the point booster of
machine instructions and `.text` per variant, scored on the held-out fold.
python cv_params.py DIR k seed variant[,variant...]     (variants: base, ff03, mcs20, mcs50, ff05, l2_1)
base is train_default's TARGET_PARAMS as they are now (feature_fraction 0.5 since 2026-12-08; ff03 is the
setting before)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import fit_shipped_way, generated_training, held_out_predictions, labels, mape, training_folds

from irtoolkit.costmodel.train_default import TARGET_PARAMS

TARGETS = ["machine_instructions", "text_bytes"]
VARIANTS = {"base": {}, "ff03": {"feature_fraction": 0.3}, "mcs20": {"min_child_samples": 20}, "mcs50": {"min_child_samples": 50},
            "ff05": {"feature_fraction": 0.5}, "l2_1": {"lambda_l2": 1.0}}
k, seed = int(sys.argv[2]), int(sys.argv[3])
variants = sys.argv[4].split(",")
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
gen_feats, gen_labels, gen_weights = generated_training(TARGETS)
gen = (gen_feats, gen_labels, gen_weights)
pred = held_out_predictions(
    rows, X, folds, TARGETS, variants,
    lambda v, real: fit_shipped_way(gen, real, 0.5, TARGETS, seed, {t: {**TARGET_PARAMS[t], **VARIANTS[v]} for t in TARGETS}))
y = labels(rows, TARGETS)
out = {"packages": len(set(pk[test])), "rows": int(test.sum())}
for t in TARGETS:
    for v in variants:
        out[f"{t}_mape_{v}"] = mape(y[t], pred[(v, t)], test)
print(json.dumps(out, indent=1))
