"""Can a prior trained on O0 IR rank candidates as the shipped one ranks O3 IR?  Builds (O0 features of
each kernel function, the O3 build's instructions executed) for MetaSchedule samples of tvmcpu's random
workloads (never the tuned shapes), fits an instructions-executed model on them, and ranks o0.py's
candidates of the tuned workloads with it.

    python o0_prior.py build OUT.npz [N] [LEVEL]    # N samples (default 300); LEVEL 0 (default) or 3:
                                                    # the IR the features come from
    python o0_prior.py rank OUT.npz WORKLOAD [K] [LEVEL]
"""
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from irtoolkit.costmodel import features as F
from irtoolkit.costmodel.dataset import tvmcpu
from irtoolkit.costmodel.dataset.labellers import LabelError
from irtoolkit.costmodel.dataset.rows import static_labels


def o0(target: dict) -> dict:
    return {**target, "opt-level": 0}


def build(out: str, n: int, level: int = 0) -> None:
    import tvm

    rows = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        for seed in range(n):
            try:
                _, func, specs = tvmcpu.workload(seed)
                target = tvmcpu.target_for(seed)
                mod, _ = tvmcpu.schedule(func, target, seed)
                ll3 = tvm.compile(mod, target=target).mod.inspect_source("ll")
                ll0 = tvm.compile(mod, target=o0(target)).mod.inspect_source("ll")
                path = work / "k.ll"
                path.write_text(tvmcpu.internalise(tvmcpu.stable_text(ll3)))
                labels, obj = static_labels(path, work)
                lambdas = [fn for fn in labels.values if fn.startswith("__tvm_parallel_lambda")]
                got, _ = tvmcpu.count_instructions(obj, specs, work, lambdas)
            except (LabelError, Exception) as e:  # noqa: BLE001 — a sample TVM or the harness rejects is skipped
                print(seed, "skipped:", str(e).splitlines()[0][:100], file=sys.stderr)
                continue
            _, fns, X = F.feature_matrix(ll0 if level == 0 else ll3, F.FEATURE_NAMES)
            for i, fn in enumerate(fns):
                v = got.values.get(fn, {}).get("instructions_executed")
                if tvmcpu.is_kernel(fn) and v:
                    rows.append((X[i], v))
            print(seed, len(rows), flush=True)
    np.savez_compressed(out, X=np.array([r[0] for r in rows]), y=np.array([r[1] for r in rows]))


def rank(data: str, name: str, k: int, level: int = 0) -> None:
    import tvm

    from irtoolkit.costmodel.evaluation import kendall_tau
    from irtoolkit.costmodel.integrations.tvm_tuning import workload
    from irtoolkit.costmodel.model import CostModel

    z = np.load(data)
    m = CostModel(targets=["instructions_executed"]).fit(z["X"], {"instructions_executed": z["y"]},
                                                          feature_names=F.FEATURE_NAMES)
    func = workload(name)
    sig = func.script().split("):", 1)[0]
    specs = [(tuple(int(x) for x in s.split(",") if x.strip()), dt)
             for s, dt in re.findall(r'T\.Buffer\(\(([\d, ]+)\), "(\w+)"\)', sig)]
    target = {"kind": "llvm", "num-cores": 1}
    p, t = [], []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        for seed in range(3 * k):
            if len(p) >= k:
                break
            try:
                mod, _ = tvmcpu.schedule(func, target, seed)
            except LabelError:
                continue
            ll0 = tvm.compile(mod, target=o0(target)).mod.inspect_source("ll")
            ll3 = tvm.compile(mod, target=target).mod.inspect_source("ll")
            path = work / "k.ll"
            path.write_text(tvmcpu.internalise(tvmcpu.stable_text(ll3)))
            labels, obj = static_labels(path, work)
            lambdas = [fn for fn in labels.values if fn.startswith("__tvm_parallel_lambda")]
            got, _ = tvmcpu.count_instructions(obj, specs, work, lambdas)
            _, fns, X = F.feature_matrix(ll0 if level == 0 else ll3, F.FEATURE_NAMES)
            keep = [i for i, fn in enumerate(fns) if tvmcpu.is_kernel(fn)]
            p.append(float(m.predict_matrix(X[keep], "instructions_executed")[0].sum()))
            t.append(sum(v.get("instructions_executed", 0) for fn, v in got.values.items() if tvmcpu.is_kernel(fn)))
    print(json.dumps({"workload": name, "candidates": len(p), "rows": int(len(z["y"])),
                      "features_from": f"O{level}", "tau": round(kendall_tau(np.array(p), np.array(t)), 3)}))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 300, int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        rank(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 20,
             int(sys.argv[5]) if len(sys.argv) > 5 else 0)
