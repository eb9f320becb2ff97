import sys, json, hashlib, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2])); sys.path.insert(0, ".")
from scipy.optimize import nnls
from irtoolkit.costmodel.model import CostModel
from irtoolkit.costmodel.features import FEATURE_NAMES
from irtoolkit.costmodel.dataset.realcode.evaluate import best_constant
from proto import EXTRA
z = np.load("all.npz"); Xb, Xe = z["X"], z["Xe"]; R = json.load(open("rows.json"))
E2 = np.load("est2.npy")
pk = np.array([r["package"] for r in R]); K = 4
f = np.array([int(hashlib.sha256(p.encode()).hexdigest()[:8], 16) % K for p in pk])
sha = np.array([r["function_sha"] for r in R])
y = np.array([r["machine_instructions"] or np.nan for r in R])
lin_cols = [j for j, n in enumerate(FEATURE_NAMES) if n.startswith(("ir.op.", "ir.fp.", "x.", "ir.fn.", "ir.cfg.")) and not n.startswith("x.log")]
A = np.hstack([np.nan_to_num(Xb[:, lin_cols]), np.nan_to_num(Xe), np.nan_to_num(E2)[:, None], np.ones((len(R), 1))])
P = {"lin": np.full(len(R), np.nan), "gb": np.full(len(R), np.nan), "gb_lin": np.full(len(R), np.nan)}
for k in range(K):
    tr = (f != k) & (y > 0) & ~np.isnan(E2); seen = set(sha[tr]); te = (f == k) & np.array([s not in seen for s in sha]) & ~np.isnan(E2)
    w = 1 / np.sqrt(y[tr])
    coef, _ = nnls(A[tr] * w[:, None], y[tr] * w, maxiter=5000)
    P["lin"][te] = A[te] @ coef
    lin_all = A @ coef
    for name, X, names in (("gb", np.hstack([Xb, Xe, E2[:, None]]), list(FEATURE_NAMES) + EXTRA + ["p.est2"]),
                           ("gb_lin", np.hstack([Xb, Xe, E2[:, None], lin_all[:, None]]), list(FEATURE_NAMES) + EXTRA + ["p.est2", "p.lin"])):
        m = CostModel(targets=["machine_instructions"], n_estimators_quantile=5).fit(X[tr], {"machine_instructions": y[tr]}, feature_names=names)
        P[name][te] = m.predict_matrix(X[te], "machine_instructions")[0]
ok = (y > 0) & ~np.isnan(P["lin"])
for n, p in P.items():
    print(n, f"MAPE {100*np.mean(np.abs(p[ok]-y[ok])/y[ok]):.2f}%")
