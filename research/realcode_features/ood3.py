import sys, json, hashlib, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2])); sys.path.insert(0, ".")
from irtoolkit.costmodel.model import CostModel
from irtoolkit.costmodel.features import FEATURE_NAMES
from proto import EXTRA
z = np.load("all.npz"); X = np.hstack([z["X"], z["Xe"]]); names = list(FEATURE_NAMES) + EXTRA
R = json.load(open("rows.json"))
pk = np.array([r["package"] for r in R]); K = 4
f = np.array([int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % K for p in pk])
sha = np.array([r["function_sha"] for r in R])
t = "machine_instructions"; y = np.array([r[t] or np.nan for r in R])
P = np.full(len(R), np.nan); W = np.full(len(R), np.nan); Q = {}; far = np.zeros(len(R), bool); te_all = np.zeros(len(R), bool)
for k in range(K):
    tr = f != k; seen = set(sha[tr]); te = (f == k) & np.array([s not in seen for s in sha])
    m = CostModel(targets=[t]).fit(X[tr], {t: y[tr]}, feature_names=names)
    P[te] = m.predict_matrix(X[te], t)[0]
    wtr = m._width(t, X[tr]); W[te] = m._width(t, X[te]); te_all |= te
    Q[k] = {q: np.quantile(wtr, q) for q in (0.8, 0.9, 0.95, 0.99)}
    Q[k]["f"] = f == k
ok = te_all & (y > 0); ape = np.abs(P - y) / y
for q in (0.8, 0.9, 0.95, 0.99):
    fl = np.zeros(len(R), bool)
    for k in range(K): fl |= Q[k]["f"] & (W > Q[k][q])
    print(q, f"flagged {(ok&fl).sum()} ({(ok&fl).sum()/ok.sum():.2f}) MAPE {100*ape[ok&fl].mean():.1f}% vs {100*ape[ok&~fl].mean():.1f}%")
