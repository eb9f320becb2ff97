"""How much of .text's error is bytes per instruction, and which encoding detail would remove it: given
llc's true instruction count, LightGBM learns log(bytes per instruction) from the product features plus,
as oracle features, true counts from text_encoding.py; 4 folds by package, all training packages.

    python text_encoding.py && python text_oracle.py
"""
import json, sys
import numpy as np, lightgbm as lgb
from irtoolkit.costmodel.dataset.realcode import evaluate as ev
from irtoolkit.costmodel.features import FEATURE_NAMES
d = json.load(open("/tmp/text_encoding.json"))
pk = sorted({f["pkg"] for f in d})
rows, X = ev.load("/work/data/realcode", packages=pk)
idx = {(r["ir_sha256"], r["function"]): i for i, r in enumerate(rows)}
sel, D = [], []
for f in d:
    i = idx.get((f["sha"], f["fn"]))
    if i is not None and f["n"] >= 1 and rows[i]["text_bytes"]:
        sel.append(i); D.append(f)
sel = np.array(sel)
X = X[sel]; rows = [rows[i] for i in sel]
tb = np.array([r["text_bytes"] for r in rows], float); mi = np.array([r["machine_instructions"] for r in rows], float)
nb = np.array([f["bytes"] for f in D], float); nn = np.array([f["n"] for f in D], float)
print(len(sel), "matched; label agreement bytes", np.mean(np.abs(nb - tb) <= 0), "n vs MI", np.mean(np.abs(nn - mi) / mi))
cats = sorted({c for f in D for c in f["cat"]})
C = {c: np.array([f["cat"].get(c, [0, 0]) for f in D], float) for c in cats}
import zlib
pkgs = np.array([zlib.crc32(r["package"].encode()) % 4 for r in rows])
y = np.log(tb / mi)
prm = dict(objective="regression", learning_rate=0.05, num_leaves=63, min_data_in_leaf=20, feature_fraction=0.8, bagging_fraction=0.8, bagging_freq=1, verbosity=-1, num_threads=2)
def cv(F):
    p = np.zeros(len(y))
    for k in range(4):
        tr, te = pkgs != k, pkgs == k
        b = lgb.train(prm, lgb.Dataset(F[tr], y[tr]), 300)
        p[te] = b.predict(F[te])
    return float(np.mean(np.abs(mi * np.exp(p) - tb) / tb) * 100)
base = np.column_stack([X, np.log(mi)])
print("true MI x learnt B/instr:", round(cv(base), 2))
for c in cats:
    print(f"  + true count of {c}: {cv(np.column_stack([base, C[c][:, 0] / mi])):.2f}")
allc = np.column_stack([base] + [C[c][:, 0] / mi for c in cats])
print("  + all counts:", round(cv(allc), 2))
subs = sorted({k for f in D for k in f.get("sub", {})})
S = {k: np.array([f.get("sub", {}).get(k, 0) for f in D], float) / mi for k in subs}
for k in subs:
    print(f"  + {k}: {cv(np.column_stack([allc, S[k]])):.2f}  (mean per instr {S[k].mean():.3f})")
print("  + all subs:", round(cv(np.column_stack([allc] + [S[k] for k in subs])), 2))
for g in ("rex", "disp", "imm", "op0f", "index"):
    ks = [k for k in subs if k.split(".")[1].startswith(g)]
    print(f"  + group {g}: {cv(np.column_stack([allc] + [S[k] for k in ks])):.2f}")

