"""The columns a retrain would add (lo.got, lo.mem_tail, lo.dup_blocks), with and without, in a
by-package k-fold CV over the corpus's *training* packages only (its test packages untouched), the same
folds and seeds.  python cv_columns.py DIR [k] [seed]"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import training_folds

from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.evaluation import f1_positive
from irtoolkit.costmodel.features import FEATURE_NAMES

NEW = ("lo.got", "lo.mem_tail", "lo.dup_blocks")
k = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 0
TP = {t: {"num_leaves": 63, "n_estimators": 600, "learning_rate": 0.05} for t in ("machine_instructions", "text_bytes")}
targets = ["machine_instructions", "text_bytes", "spills"]
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
cols = [FEATURE_NAMES.index(n) for n in NEW]
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in targets}
variants = {"without": [], "lo.got": cols[:1], "all three": cols}
pred = {(v, t): np.full(len(rows), np.nan) for v in variants for t in targets}
for f, (tr, te) in enumerate(folds):
    for v, keep in variants.items():
        Xv = X.copy()
        Xv[:, [c for c in cols if c not in keep]] = np.nan
        m = E.fit_static([r for r, t in zip(rows, tr, strict=True) if t], Xv[tr], targets=targets, target_params=TP,
                         random_state=SEED)
        for t in targets:
            pred[(v, t)][te] = m.predict_matrix(Xv[te], t)[0]
        print("fold", f, v, flush=True)
out = {"packages": len(set(pk[test])), "rows": int(test.sum())}
for v in variants:
    r = {}
    for t in ("machine_instructions", "text_bytes"):
        ok = test & (y[t] > 0)
        r[t] = round(float(np.mean(np.abs(pred[(v, t)][ok] - y[t][ok]) / y[t][ok])), 5)
    ok = test & np.isfinite(y["spills"])
    r["spill_f1"] = round(f1_positive(y["spills"][ok], pred[(v, "spills")][ok])["f1"], 4)
    out[v] = r
print(json.dumps(out, indent=1))
