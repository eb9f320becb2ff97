"""Real code's .text error: how much is bytes per instruction, how much the instruction count?"""
import sys

import numpy as np

from irtoolkit.costmodel import api
from irtoolkit.costmodel.dataset.realcode import evaluate as ev
from irtoolkit.costmodel.features import FEATURE_NAMES

root = sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode"
rows, X = ev.load(root)
m = api.load()
Xm = ev._reorder(X, m.feature_names_)
mi = np.array([r["machine_instructions"] or np.nan for r in rows], float)
tb = np.array([r["text_bytes"] or np.nan for r in rows], float)
test = np.array([ev.package_side(r["package"]) for r in rows])
ok = test & np.isfinite(mi) & np.isfinite(tb) & (tb > 0) & (mi > 0)
p_tb = m.predict_matrix(Xm, "text_bytes")[0]
p_mi = m.predict_matrix(Xm, "machine_instructions")[0]
mape = lambda p, y: float(np.mean(np.abs(p - y) / y) * 100)  # noqa: E731
print("test rows", ok.sum())
print("model .text", mape(p_tb[ok], tb[ok]), " model MI", mape(p_mi[ok], mi[ok]))
c = ev.best_constant(mi[ok], tb[ok])
print(f"true MI x best constant ({c:.2f} B/instr): {mape(c * mi[ok], tb[ok]):.1f}%")
r_pred = p_tb / p_mi
print(f"true MI x the model's own bytes per instruction: {mape(mi[ok] * r_pred[ok], tb[ok]):.1f}%")
print(f"model MI x true bytes per instruction: {mape(p_mi[ok] * tb[ok] / mi[ok], tb[ok]):.1f}%")
lb = X[:, FEATURE_NAMES.index("lo.bytes")]
print(f"lo.bytes alone: {mape(lb[ok], tb[ok]):.1f}%")
