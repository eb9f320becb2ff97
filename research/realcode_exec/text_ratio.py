"""Is .text better predicted directly, or as predicted instructions x predicted bytes per instruction?
Fit on the training packages' real rows, score the test packages (same CostModel as the product)."""
import sys

import numpy as np

from irtoolkit.costmodel.dataset.realcode import evaluate as ev
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.model import CostModel

root = sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode"
rows, X = ev.load(root)
mi = np.array([r["machine_instructions"] or np.nan for r in rows], float)
tb = np.array([r["text_bytes"] or np.nan for r in rows], float)
ok = np.isfinite(mi) & np.isfinite(tb) & (tb > 0) & (mi > 0) & np.isfinite(X[:, FEATURE_NAMES.index(ev.IR_COUNT)])
test = np.array([ev.package_side(r["package"]) for r in rows])
tr, te = ok & ~test, ok & test
seen = {r["function_sha"] for r, t in zip(rows, tr, strict=True) if t}
te &= np.array([r["function_sha"] not in seen for r in rows])
print("train", tr.sum(), "test", te.sum())
mape = lambda p, y: float(np.mean(np.abs(p - y) / y) * 100)  # noqa: E731
m = CostModel(targets=["machine_instructions", "text_bytes"], n_estimators=600).fit(
    X[tr], {"machine_instructions": mi[tr], "text_bytes": tb[tr]}, feature_names=FEATURE_NAMES)
p_mi = m.predict_matrix(X[te], "machine_instructions")[0]
p_tb = m.predict_matrix(X[te], "text_bytes")[0]
# bytes per instruction as its own regression (log ratio, no offset line: it is not a size)
import lightgbm as lgb  # noqa: E402
prm = dict(objective="regression", learning_rate=0.05, num_leaves=63, min_data_in_leaf=20, feature_fraction=0.8,
           bagging_fraction=0.8, bagging_freq=1, verbosity=-1)
b = lgb.train(prm, lgb.Dataset(X[tr], np.log(tb[tr] / mi[tr])), 600)
ratio = np.exp(b.predict(X[te]))
print(f"MI {mape(p_mi, mi[te]):.2f}%  .text direct {mape(p_tb, tb[te]):.2f}%  .text = MI x ratio {mape(p_mi * ratio, tb[te]):.2f}%"
      f"  geometric mean of both {mape(np.sqrt(p_tb * p_mi * ratio), tb[te]):.2f}%")
