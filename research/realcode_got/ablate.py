"""lo.got on the real-code corpus: a model of the training packages alone, with and without it, on the
test packages (split as train_default splits them).  python ablate.py DIR [targets...]"""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.train_default import TARGET_PARAMS

targets = sys.argv[2:] or ["machine_instructions", "text_bytes", "spills"]
sp = E.split(sys.argv[1])
print(sp["figures"]["train_packages"], sp["figures"]["test_packages"], sp["figures"]["train_rows"],
      sp["figures"]["test_rows"], flush=True)
(tr, Xtr), (te, Xte) = sp["train"], sp["test"]
g, est, by = (FEATURE_NAMES.index(n) for n in ("lo.got", "lo.est", "lo.bytes"))


def without(X):
    X = X.copy()
    X[:, g] = np.nan
    return X


out = {}
for name, f in (("with", lambda X: X), ("without", without)):
    t0 = time.time()
    m = E.fit_static(tr, f(Xtr), targets=targets, target_params=TARGET_PARAMS)
    ev = E.evaluate(m, te, f(Xte), targets=targets)
    out[name] = {t: {"mape": v["model"].get("mape"), "f1": v.get("spill_classification", {}).get("f1")}
                 for t, v in ev["targets"].items()}
    print(name, round(time.time() - t0), json.dumps(out[name]), flush=True)
