"""Model choices on the real-code corpus without touching its test packages: the training packages
split again by package (the --validate salt, 25%), a model of the inner-training packages alone, its
figures on the inner-validation ones.  python inner.py DIR variant...   (variants below)"""
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.evaluation import f1_positive
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.train_default import TARGET_PARAMS

SIZE = ("machine_instructions", "text_bytes")


def inner_side(p):
    return int(hashlib.sha256(("irtools-validation" + p).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < 0.25


sp = E.split(sys.argv[1])
rows, X = sp["train"]
val = np.array([inner_side(r["package"]) for r in rows])
fit_rows = [r for r, v in zip(rows, val) if not v]
seen = {r["function_sha"] for r in fit_rows}
keep = val & np.array([r["function_sha"] not in seen for r in rows])
val_rows = [r for r, k in zip(rows, keep) if k]
print("inner:", len({r["package"] for r in fit_rows}), "packages", len(fit_rows), "rows;",
      len({r["package"] for r in val_rows}), "packages", len(val_rows), "rows", flush=True)
g, est, by = (FEATURE_NAMES.index(n) for n in ("lo.got", "lo.est", "lo.bytes"))


def no_got(X):
    X = X.copy()
    X[:, g] = np.nan
    return X


def got_folded(X):
    """lo.got also in lo.est (+1 instruction a symbol) and lo.bytes (+7 bytes: movq sym@GOTPCREL(%rip))"""
    X = X.copy()
    X[:, est] += X[:, g]
    X[:, by] += 7.0 * X[:, g]
    return X


def params(obj):
    return {t: {**TARGET_PARAMS[t], **({"objective": obj} if obj else {})} for t in SIZE}


VARIANTS = {"base": (no_got, params(None)), "got": (lambda X: X, params(None)),
            "got-folded": (got_folded, params(None))}
targets = [t for t in sys.argv[2].split(",")] if len(sys.argv) > 3 else [*SIZE, "spills"]
for name in sys.argv[-1].split(","):
    f, tp = VARIANTS[name]
    t0 = time.time()
    m = E.fit_static(fit_rows, f(X[~val]), targets=targets, target_params=tp)
    Xv = f(X[keep])
    ev = E.evaluate(m, val_rows, Xv, targets=targets)
    res = {t: round(v["model"]["mape"], 4) for t, v in ev["targets"].items() if t in SIZE}
    if "spills" in ev["targets"]:
        y = np.array([r["spills"] if r.get("spills") is not None else np.nan for r in val_rows])
        ok = np.isfinite(y)
        raw = m._raw(m.boosters_["spills"]["gate"], E._reorder(Xv[ok], m.feature_names_))
        res["spill_f1"] = {th: round(f1_positive(y[ok], (raw > th).astype(float))["f1"], 4)
                           for th in (-0.75, -0.5, -0.25, 0.0, 0.25)}
    print(name, round(time.time() - t0), json.dumps(res), flush=True)
