"""Issue #17's first lever, measured: featurise MetaSchedule candidates from LLVM IR generated at -O0
instead of TVM's default -O3.  Per candidate: the code-generation time of each, and how the shipped
model's predicted instructions executed (the prior that ranks the first round) ranks the candidates
against the instructions each really executes (callgrind, one thread), from either IR.

    python o0.py [WORKLOAD] [N]      # default: matmul, 24 candidates
"""
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from irtoolkit.costmodel import api
from irtoolkit.costmodel import features as F
from irtoolkit.costmodel.dataset import tvmcpu
from irtoolkit.costmodel.dataset.labellers import LabelError
from irtoolkit.costmodel.dataset.rows import static_labels
from irtoolkit.costmodel.evaluation import kendall_tau
from irtoolkit.costmodel.integrations.tvm_tuning import workload

name = sys.argv[1] if len(sys.argv) > 1 else "matmul"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 24
import tvm  # noqa: E402

func = workload(name)
# the arguments' shapes and dtypes, as the signature of the TVMScript states them
sig = func.script().split("):", 1)[0]
specs = [(tuple(int(x) for x in shape.split(",") if x.strip()), dt)
         for shape, dt in re.findall(r'T\.Buffer\(\(([\d, ]+)\), "(\w+)"\)', sig)]
model = api.load()
T3, T0 = {"kind": "llvm", "num-cores": 1}, {"kind": "llvm", "num-cores": 1, "opt-level": 0}


def prior(ll: str) -> float:
    _, fns, X = F.feature_matrix(ll, model.feature_names_)
    keep = [i for i, n in enumerate(fns) if tvmcpu.is_kernel(n)]
    return float(model.predict_matrix(X[keep], "instructions_executed")[0].sum())


rows = []
with tempfile.TemporaryDirectory() as d:
    work = Path(d)
    for seed in range(N * 3):
        if len(rows) >= N:
            break
        try:
            mod, _ = tvmcpu.schedule(func, T3, seed)
        except LabelError:
            continue
        t = time.perf_counter()
        ll3 = tvm.compile(mod, target=T3).mod.inspect_source("ll")
        t3 = time.perf_counter() - t
        t = time.perf_counter()
        ll0 = tvm.compile(mod, target=T0).mod.inspect_source("ll")
        t0 = time.perf_counter() - t
        path = work / "k.ll"
        path.write_text(tvmcpu.internalise(tvmcpu.stable_text(ll3)))
        labels, obj = static_labels(path, work)
        lambdas = [fn for fn in labels.values if fn.startswith("__tvm_parallel_lambda")]
        got, _ = tvmcpu.count_instructions(obj, specs, work, lambdas)
        truth = sum(v.get("instructions_executed", 0) for fn, v in got.values.items() if tvmcpu.is_kernel(fn))
        t = time.perf_counter()
        p3 = prior(ll3)
        tf3 = time.perf_counter() - t
        t = time.perf_counter()
        p0 = prior(ll0)
        tf0 = time.perf_counter() - t
        rows.append((t3, t0, tf3, tf0, p3, p0, truth))
        print(f"{seed}: codegen O3 {t3*1e3:.0f} ms O0 {t0*1e3:.0f} ms, prior {p3:.3g} / {p0:.3g}, truth {truth:.3g}",
              flush=True)
a = np.array(rows)
print(f"{len(a)} candidates of {name}: median code generation O3 {np.median(a[:, 0])*1e3:.0f} ms, "
      f"O0 {np.median(a[:, 1])*1e3:.0f} ms ({np.median(a[:, 0] / a[:, 1]):.1f}x); "
      f"features + prior {np.median(a[:, 2])*1e3:.0f} / {np.median(a[:, 3])*1e3:.0f} ms")
print(f"prior vs instructions executed: tau from O3 IR {kendall_tau(a[:, 4], a[:, 6]):.2f}, from O0 IR "
      f"{kendall_tau(a[:, 5], a[:, 6]):.2f}; O3 vs O0 prior {kendall_tau(a[:, 4], a[:, 5]):.2f}")
