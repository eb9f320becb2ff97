"""lo.got in a by-package k-fold cross-validation over the corpus's *training* packages only (its test
packages untouched): the same folds with and without the column, the per-function errors paired.
python cv.py DIR [k] [seed] [base,got,folded]"""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realcode_text"))
from folds import training_folds  # the by-package folds every CV script of the corpus uses

from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.evaluation import f1_positive
from irtoolkit.costmodel.features import FEATURE_NAMES

k = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 0
TP = {t: {"num_leaves": 63, "n_estimators": 600, "learning_rate": 0.05} for t in ("machine_instructions", "text_bytes")}
targets = ["text_bytes", "spills"]
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
g, est, by = (FEATURE_NAMES.index(n) for n in ("lo.got", "lo.est", "lo.bytes"))
VARIANTS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["base", "got"]
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in targets}
pred = {(v, t): np.full(len(rows), np.nan) for v in VARIANTS for t in targets}
raw = {v: np.full(len(rows), np.nan) for v in VARIANTS}
for f, (tr, te) in enumerate(folds):
    for v in VARIANTS:
        Xv = X.copy()
        if v == "base":
            Xv[:, g] = np.nan
        elif v == "folded":    # also in lo.est (+1 instruction) and lo.bytes (+7 bytes), which the offset line reads
            Xv[:, est] += Xv[:, g]
            Xv[:, by] += 7.0 * Xv[:, g]
        t0 = time.time()
        m = E.fit_static([r for r, t in zip(rows, tr, strict=True) if t], Xv[tr], targets=targets, target_params=TP,
                         random_state=SEED)
        for t in targets:
            pred[(v, t)][te] = m.predict_matrix(Xv[te], t)[0]
        raw[v][te] = m._raw(m.boosters_["spills"]["gate"], Xv[te])
        print("fold", f, v, round(time.time() - t0), flush=True)
out = {"packages": len(set(pk[test])), "rows": int(test.sum())}
yt = y["text_bytes"]
ok = test & (yt > 0)
for v in VARIANTS:
    ape = np.abs(pred[(v, "text_bytes")][ok] - yt[ok]) / yt[ok]
    out[f"text_mape_{v}"] = round(float(ape.mean()), 5)
    okp = test & np.isfinite(y["spills"])
    out[f"spill_f1_{v}"] = {th: round(f1_positive(y["spills"][okp], (raw[v][okp] > th).astype(float))["f1"], 4)
                            for th in (-0.5, -0.25, 0.0, 0.25)}
has = ok & (X[:, g] > 0)
for v in VARIANTS:
    out[f"text_mape_{v}_with_got_symbols"] = round(float((np.abs(pred[(v, "text_bytes")][has] - yt[has]) / yt[has]).mean()), 5)
out["rows_with_got_symbols"] = int(has.sum())
print(json.dumps(out, indent=1))
