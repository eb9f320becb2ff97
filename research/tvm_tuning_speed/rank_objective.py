"""Which LightGBM objective ranks MetaSchedule candidates best, from the TIR features: the random
runs of a tuning folder, train on the other seeds' records, rank the held-out seed's (Kendall tau,
top-5 recall), as costmodel_eval's ranking section does.   python rank_objective.py TUNING_DIR"""
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import lightgbm as lgb
import tvm
from tvm.s_tir import meta_schedule as ms

from irtoolkit.costmodel.evaluation import kendall_tau, top_k_recall
from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel
from irtoolkit.costmodel.integrations.tvm_tuning import TARGET, WORKLOADS, best_of, workload

BASE = {"learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 5, "feature_fraction": 0.5,
        "bagging_fraction": 0.8, "bagging_freq": 1, "verbosity": -1, "seed": 0, "deterministic": True,
        "num_threads": 1, "force_col_wise": True}


def fit_predict(variant, Xtr, ytr, Xte):
    """ytr: normalised throughput (best / time) of one task, as IrtoolsCostModel._targets makes it."""
    if variant == "regression":
        b = lgb.train({**BASE, "objective": "regression"}, lgb.Dataset(Xtr, ytr, params={"min_data_in_bin": 1}), 100)
    elif variant == "regression-300":
        b = lgb.train({**BASE, "objective": "regression"}, lgb.Dataset(Xtr, ytr, params={"min_data_in_bin": 1}), 300)
    elif variant == "log":
        b = lgb.train({**BASE, "objective": "regression"}, lgb.Dataset(Xtr, np.log(ytr), params={"min_data_in_bin": 1}), 100)
    elif variant.startswith("lambdarank"):
        grades = np.floor(ytr * 30).astype(int)     # relevance 0..30 from normalised throughput
        ds = lgb.Dataset(Xtr, grades, group=[len(ytr)], params={"min_data_in_bin": 1})
        prm = {**BASE, "objective": "lambdarank", "label_gain": list(range(31)),
               "lambdarank_truncation_level": 30}
        b = lgb.train(prm, ds, 100)
    elif variant == "rank_xendcg":
        grades = np.floor(ytr * 30).astype(int)
        ds = lgb.Dataset(Xtr, grades, group=[len(ytr)], params={"min_data_in_bin": 1})
        b = lgb.train({**BASE, "objective": "rank_xendcg"}, ds, 100)
    else:
        raise ValueError(variant)
    return b.predict(Xte)


tdir = Path(sys.argv[1])
variants = sys.argv[2].split(",") if len(sys.argv) > 2 else ["regression", "regression-300", "log", "lambdarank", "rank_xendcg"]
target = tvm.target.Target(TARGET)
res = {v: {"tau": [], "top5": []} for v in variants}
for w in WORKLOADS:
    per_seed = {}
    for d in sorted((tdir / "db").glob(f"{w}__random__s*")):
        db = ms.database.JSONDatabase(path_workload=str(d / "database_workload.json"),
                                      path_tuning_record=str(d / "database_tuning_record.json"))
        recs = [r for r in db.get_all_tuning_records() if math.isfinite(best_of(r.run_secs))]
        per_seed[d.name] = ([r.as_measure_candidate() for r in recs], np.array([best_of(r.run_secs) for r in recs]))
    mod = tvm.IRModule({"main": workload(w)})
    ctx = ms.TuneContext(mod=mod, target=target, space_generator="post-order-apply",
                         search_strategy="evolutionary", task_name=w)
    fe = IrtoolsCostModel()
    feats = {k: fe.featurize(ctx, c) for k, (c, _) in per_seed.items()}
    for test in per_seed:
        Xtr = np.vstack([feats[k] for k in per_seed if k != test])
        lat = np.concatenate([per_seed[k][1] for k in per_seed if k != test])
        ytr = lat.min() / lat
        speed = 1.0 / per_seed[test][1]
        for v in variants:
            s = fit_predict(v, Xtr, ytr, feats[test])
            res[v]["tau"].append(kendall_tau(speed, s))
            res[v]["top5"].append(top_k_recall(speed, s, 5))
    print(w, {v: round(float(np.mean(res[v]["tau"][-len(per_seed):])), 3) for v in variants}, flush=True)
print("mean", {v: (round(float(np.mean(r["tau"])), 3), round(float(np.mean(r["top5"])), 3)) for v, r in res.items()})
