"""Where a real-code model's .text error sits: by-package k-fold CV over the corpus's *training*
packages only (its test packages untouched), then the paired errors grouped by what a function has.
python residuals.py DIR [k] [seed]   (writes /tmp/realcode_text_cv.npz for further slicing)"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from folds import training_folds

from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.features import FEATURE_NAMES as F

k = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 0
TP = {t: {"num_leaves": 63, "n_estimators": 600, "learning_rate": 0.05} for t in ("machine_instructions", "text_bytes")}
targets = ["machine_instructions", "text_bytes"]
rows, X, pk, folds, test = training_folds(sys.argv[1], k)
y = {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in targets}
pred = {t: np.full(len(rows), np.nan) for t in targets}
for f, (tr, te) in enumerate(folds):
    m = E.fit_static([r for r, t in zip(rows, tr, strict=True) if t], X[tr], targets=targets, target_params=TP,
                     random_state=SEED)
    for t in targets:
        pred[t][te] = m.predict_matrix(X[te], t)[0]
    print("fold", f, flush=True)
np.savez_compressed("/tmp/realcode_text_cv.npz", X=X, test=test, pk=pk, sha=np.array([r["function_sha"] for r in rows]),
                    **{f"y_{t}": y[t] for t in targets}, **{f"p_{t}": pred[t] for t in targets})
yt, ym = y["text_bytes"], y["machine_instructions"]
ok = test & (yt > 0) & (ym > 0)
ape_t = np.abs(pred["text_bytes"] - yt) / yt
ape_m = np.abs(pred["machine_instructions"] - ym) / ym
lr_t = np.log(pred["text_bytes"] / yt)
n = ok.sum()


def show(name, mask):
    m = ok & mask
    if m.sum() < 30:
        return
    print(f"{name:38s} {m.sum():7d} {m.sum() / n:6.1%}  text {ape_t[m].mean():6.2%} (share of total "
          f"{ape_t[m].sum() / ape_t[ok].sum():6.1%}, bias {lr_t[m].mean():+.3f})  MI {ape_m[m].mean():6.2%}")


col = {f: X[:, F.index(f)] for f in F}
ir = col["ir.fp.TotalInstructionCount"]
print(f"overall: text {ape_t[ok].mean():.2%}, MI {ape_m[ok].mean():.2%} on {n} functions")
for lo, hi in ((0, 5), (5, 10), (10, 20), (20, 50), (50, 100), (100, 300), (300, 1e9)):
    show(f"IR instructions in [{lo}, {hi})", (ir >= lo) & (ir < hi))
for f in ("ir.fp.TopLevelLoopCount", "ir.fp.SwitchInstructionCount", "ir.fp.DirectCallCount", "ir.fp.IndirectCallCount",
          "ir.fp.FloatingPointInstructionCount", "lo.got", "lo.tail_calls", "lo.vararg", "lo.ssp", "lo.mem_inline",
          "lo.div_const", "lo.big_consts", "lo.stack_args", "lo.long_branches", "ir.fp.InlineAsmOperandCount"):
    if f in col:
        show(f"{f} > 0", col[f] > 0)
        show(f"{f} == 0", col[f] == 0)
vec = [f for f in F if "vec" in f.lower()][:3]
for f in vec:
    show(f"{f} > 0", col[f] > 0)
print("per package (worst share):")
for p in sorted(set(pk[ok]), key=lambda p: -ape_t[ok & (pk == p)].sum())[:12]:
    show(p, pk == p)
