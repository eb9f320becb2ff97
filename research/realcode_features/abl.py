import sys, json, hashlib, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2])); sys.path.insert(0, ".")
from irtoolkit.costmodel.model import CostModel
from irtoolkit.costmodel.features import FEATURE_NAMES
from proto import EXTRA
z = np.load("all.npz"); Xb, Xe = z["X"], z["Xe"]
R = json.load(open("rows.json"))
pk = np.array([r["package"] for r in R]); K = 4
f = np.array([int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % K for p in pk])
sha = np.array([r["function_sha"] for r in R])
T = sys.argv[2] if len(sys.argv) > 2 else "machine_instructions"
y = np.array([r[T] if r[T] is not None else np.nan for r in R])
groups = json.loads(sys.argv[1])
for gname, feats in groups.items():
    cols = [EXTRA.index(c) for c in feats]
    X = np.hstack([Xb, Xe[:, cols]]); names = list(FEATURE_NAMES) + feats
    P = np.full(len(R), np.nan)
    for k in range(K):
        tr = f != k; seen = set(sha[tr]); te = (f == k) & np.array([s not in seen for s in sha])
        m = CostModel(targets=[T], n_estimators_quantile=5).fit(X[tr], {T: y[tr]}, feature_names=names)
        P[te] = m.predict_matrix(X[te], T)[0]
    ok = ~np.isnan(P) & (y > 0)
    if T == "spills":
        ok = ~np.isnan(P) & ~np.isnan(y); tp = (ok & (P > .5) & (y > 0)).sum(); fp = (ok & (P > .5) & (y == 0)).sum(); fn = (ok & (P <= .5) & (y > 0)).sum()
        print(gname, "F1", round(2*tp/(2*tp+fp+fn), 3), flush=True)
    else:
        print(gname, f"MAPE {100*np.mean(np.abs(P[ok]-y[ok])/y[ok]):.2f}%", flush=True)
