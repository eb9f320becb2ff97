"""The tuning comparison: MetaSchedule ``tune_tir`` with our cost model, TVM's ``xgb`` and ``random``.

Every (workload, model, seed) is one run with the same trials, search strategy, builder and runner, so
the cost model is the only thing that differs.  A run writes one JSON file (best latency, the best-so-far
curve over trials in trial order, tuning time, when each trial's measurement arrived, and the time of
every ``update`` and ``predict`` call of the cost model), so an interrupted comparison resumes where
it stopped.

    .venv/bin/python -m irtoolkit.costmodel.integrations.tvm_tuning --all results/costmodel_tuning_noprior --trials 128 \
        --models xgb random irtools irtools-prior     # extra models (EXTRA_MODELS) run beside the three
    .venv/bin/python -m irtoolkit.costmodel.integrations.tvm_tuning --one WORKLOAD MODEL SEED OUT.json

``--all`` runs every missing (workload, model, seed) in one process: MetaSchedule's first task in a
process pays a one-time set-up, paid once by an untimed warm-up run instead of by the first timed one
(``--one`` pays it inside its timing: use ``--all`` for wall-time comparisons).

    .venv/bin/python -m irtoolkit.costmodel.integrations.tvm_tuning --remeasure results/costmodel_tuning

``--remeasure`` times again, on one thread, the best schedules of every finished run and writes
``remeasured_best_s`` into its JSON.  A latency recorded during tuning depends on the load of the
moment and on how many threads the TVM runtime got (the target says one core, the thread pool takes
them all); the final comparison should not.  Runs are visited in rounds, in a shuffled order each
round, so that a busy moment lands on every model alike; each schedule keeps its fastest of many short
repeats (a repeat shorter than a scheduler time slice often runs undisturbed).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = ("matmul", "batch_matmul", "conv2d", "softmax", "layernorm")
MODELS = ("xgb", "random", "irtools")
TARGET = {"kind": "llvm", "mcpu": "x86-64", "num-cores": 1}
# A few softmax candidates (a 256-wide row fully unrolled) take LLVM minutes to compile; a run then
# stood still for the builder's whole timeout, whichever model proposed them.  No schedule worth having
# takes a minute to build, and the time a stall adds to one run drowned the models' own difference.
BUILD_TIMEOUT_S = 60


def workload(name: str):
    """A small TE workload as a PrimFunc; sizes keep one trial in milliseconds on a shared core."""
    from tvm import te, topi

    if name == "matmul":
        A, B = te.placeholder((128, 128), name="A"), te.placeholder((128, 128), name="B")
        k = te.reduce_axis((0, 128), "k")
        out = te.compute((128, 128), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), "C")
        args = [A, B, out]
    elif name == "batch_matmul":
        A, B = te.placeholder((4, 64, 64), name="A"), te.placeholder((4, 64, 64), name="B")
        k = te.reduce_axis((0, 64), "k")
        out = te.compute((4, 64, 64), lambda b, i, j: te.sum(A[b, i, k] * B[b, k, j], axis=k), "C")
        args = [A, B, out]
    elif name == "conv2d":
        X, W = te.placeholder((1, 16, 28, 28), name="X"), te.placeholder((16, 16, 3, 3), name="W")
        out = topi.nn.conv2d_nchw(X, W, stride=1, padding=1, dilation=1)
        args = [X, W, out]
    elif name == "softmax":
        X = te.placeholder((128, 256), name="X")
        out = topi.nn.softmax(X, axis=1)
        args = [X, out]
    elif name == "layernorm":
        X = te.placeholder((128, 256), name="X")
        g, b = te.placeholder((256,), name="gamma"), te.placeholder((256,), name="beta")
        out = topi.nn.layer_norm(X, g, b, axis=[1])
        args = [X, g, b, out]
    else:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return te.create_prim_func(args)


def build(mod, target, _params):
    """MetaSchedule's default build without its ``import tvm.s_tir.tensor_intrin``.

    That import registers every tensor intrinsic and takes over a minute of CPU in each fresh builder
    worker, longer than the builder's timeout on a shared machine; these workloads on plain x86-64
    never tensorize, so the intrinsics are not needed.
    """
    from tvm.driver import build as tvm_build
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    mod = RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod)
    return tvm_build(mod, target=target)


# our model by name: the default, and two runnable beside the comparison's three (EXTRA_MODELS): the
# LLVM features, and the TIR features with the shipped model's prior for the first round (off by
# default: see integrations/tvm.py)
OURS = {"irtools": {}, "irtools-llvm": {"features": "llvm"}, "irtools-prior": {"prior": True}}
EXTRA_MODELS = ("irtools-llvm", "irtools-prior")


def cost_model(name: str, seed: int):
    from tvm.s_tir import meta_schedule as ms

    if name in OURS:
        from .tvm import IrtoolsCostModel

        return IrtoolsCostModel(seed=seed, **OURS[name])
    if name in ("xgb", "random"):
        # what tune_tir makes of the name itself
        return ms.cost_model.CostModel.create(name, num_tuning_cores=1)
    raise ValueError(f"unknown cost model {name!r}; known: {', '.join(MODELS + EXTRA_MODELS)}")


def _timed(inner, t0: float):
    """``inner`` with every ``update`` and ``predict`` call timed, and the moment each batch of
    measurements arrived (for best latency against wall time).  One wrapper for every model, so the
    three pay the same for it."""
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.cost_model import PyCostModel

    @derived_object
    class Timed(PyCostModel):
        def __init__(self):
            super().__init__()
            self.calls: dict[str, list] = {"update": [], "predict": []}    # (seconds, candidates)
            self.arrivals: list = []                                        # (seconds since start, results)

        def load(self, path):
            inner.load(path)

        def save(self, path):
            inner.save(path)

        def update(self, context, candidates, results):
            t = time.perf_counter()
            self.arrivals.append((t - t0, len(results)))
            inner.update(context, candidates, results)
            self.calls["update"].append((time.perf_counter() - t, len(candidates)))

        def predict(self, context, candidates):
            t = time.perf_counter()
            out = inner.predict(context, candidates)
            self.calls["predict"].append((time.perf_counter() - t, len(candidates)))
            return out

    return Timed()


def _call_stats(calls: list) -> dict:
    secs = [s for s, _ in calls]
    return {"calls": len(calls), "candidates": int(sum(n for _, n in calls)), "total_s": round(sum(secs), 3),
            "mean_ms": round(1000 * sum(secs) / len(secs), 2) if secs else None,
            "max_ms": round(1000 * max(secs), 2) if secs else None}


def run(workload_name: str, model: str, seed: int, *, trials: int = 32, per_iter: int = 16,
        population: int = 64, work_dir: str | Path | None = None) -> dict:
    """Tune one workload with one cost model; the best latency and the best-so-far curve per trial.

    ``work_dir`` keeps MetaSchedule's JSON database (the measured schedules), which the ranking
    comparison re-reads; by default it is a temporary folder.
    """
    import tvm
    from tvm.s_tir import meta_schedule as ms

    func = workload(workload_name)
    mod = tvm.IRModule({"main": func})
    target = tvm.target.Target(TARGET)
    # a small population keeps our model's per-candidate lowering affordable; all models share it
    strategy = ms.search_strategy.EvolutionarySearch(population_size=population, genetic_num_iters=2)
    runner = ms.runner.LocalRunner(timeout_sec=120, evaluator_config=ms.runner.EvaluatorConfig(
        number=5, repeat=3, min_repeat_ms=0, enable_cpu_cache_flush=False))
    with tempfile.TemporaryDirectory(prefix="irtools-tune-") as tmp:
        wd = str(work_dir) if work_dir is not None else tmp
        if work_dir is not None:
            shutil.rmtree(wd, ignore_errors=True)     # a run cut short left a partial database
        t0 = time.perf_counter()
        timed = _timed(cost_model(model, seed), t0)
        ms.tune_tir(mod, target, wd, max_trials_global=trials, num_trials_per_iter=per_iter,
                    builder=ms.builder.LocalBuilder(max_workers=1, timeout_sec=BUILD_TIMEOUT_S, f_build=build),
                    runner=runner, cost_model=timed, strategy=strategy, num_tuning_cores=1, seed=seed)
        seconds = time.perf_counter() - t0
        lat = trial_latencies(wd)       # tune_tir's default database: JSON files in the work dir
    curve, best = [], math.inf
    for x in lat:
        best = min(best, x)
        curve.append(best)
    # the wall time at which each trial's measurement was in hand (its batch's arrival)
    at_s: list[float] = []
    for t, n in timed.arrivals:
        at_s += [round(t, 2)] * n
    return {"workload": workload_name, "model": model, "seed": seed, "trials": trials,
            "trials_per_iter": per_iter, "population": population, "target": TARGET,
            "measured": len(lat), "valid": sum(1 for x in lat if math.isfinite(x)),
            "best_latency_s": best if math.isfinite(best) else None,
            "best_so_far_s": [x if math.isfinite(x) else None for x in curve],
            "tuning_seconds": round(seconds, 2), "trial_seconds": at_s[:len(lat)],
            "cost_model_calls": {k: _call_stats(v) for k, v in timed.calls.items()},
            "tvm": tvm.__version__, "prior_model": _prior_id(model)}


def trial_latencies(work_dir: str | Path) -> list[float]:
    """Each trial's best measured time, in the order the trials ran (inf for a failed one).

    Read from the JSON database's record file, which is appended trial by trial:
    ``get_all_tuning_records()`` returns the records sorted fastest first, and a best-so-far curve built
    from it is flat (earlier versions of this harness did that: their curves are meaningless)."""
    with open(Path(work_dir) / "database_tuning_record.json") as f:
        return [best_of(json.loads(line)[1][1]) for line in f if line.strip()]


def best_of(run_secs) -> float:
    """A trial's best measured time; inf for a failed one (MetaSchedule records a failed build or run,
    a timeout, as 1e10 s)."""
    secs = [float(x) for x in (run_secs or [])]
    return min(secs) if secs and all(math.isfinite(x) and x < 1e9 for x in secs) else math.inf


def _prior_id(model: str) -> str | None:
    """Which shipped default model our cost model's prior used (the model is retrained between runs)."""
    if not model.startswith("irtools"):
        return None
    import hashlib

    from ..api import DEFAULT_MODEL

    mf = DEFAULT_MODEL / "manifest.json"
    return hashlib.sha256(mf.read_bytes()).hexdigest()[:12] if mf.is_file() else None


def result_path(out_dir: Path, workload_name: str, model: str, seed: int) -> Path:
    return Path(out_dir) / f"{workload_name}__{model}__s{seed}.json"


def _write(path: Path, res: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1) + "\n")
    tmp.replace(path)


def run_all(out_dir: Path, *, seeds=(0, 1, 2), workloads=WORKLOADS, models=MODELS, **kw) -> int:
    """Every missing run, seed-major so that complete (workload, seed) triples land first."""
    done = 0
    warm = False
    for seed in seeds:
        for w in workloads:
            for m in models:
                path = result_path(out_dir, w, m, seed)
                if path.is_file():
                    continue
                if not warm:
                    # MetaSchedule's first task in a process pays a one-time set-up (15-20 s here); an
                    # untimed 16-trial run pays it, or the first timed run would carry it
                    run(w, "random", seed, **{**kw, "trials": kw.get("per_iter", 16)})
                    warm = True
                res = run(w, m, seed, work_dir=Path(out_dir) / "db" / path.stem, **kw)
                _write(path, res)
                done += 1
                print(f"{w} {m} seed {seed}: best {res['best_latency_s']} s in {res['tuning_seconds']} s", flush=True)
    return done


def _best_schedules(out_dir: Path, stem: str, top: int):
    """(built module, argument tensors) for the ``top`` fastest records of one run's database."""
    import numpy as np
    import tvm
    from tvm import s_tir
    from tvm.s_tir import meta_schedule as ms

    d = Path(out_dir) / "db" / stem
    db = ms.database.JSONDatabase(path_workload=str(d / "database_workload.json"),
                                  path_tuning_record=str(d / "database_tuning_record.json"), allow_missing=False)
    func = workload(stem.split("__")[0])
    mod = tvm.IRModule({"main": func})
    dev = tvm.cpu()
    rng = np.random.default_rng(0)
    args = [tvm.runtime.tensor(rng.random([int(x) for x in a.shape]).astype(str(a.dtype)), dev)
            for a in ms.arg_info.ArgInfo.from_prim_func(func)]
    out = []
    for rec in db.get_top_k(db.commit_workload(mod), top):
        sch = s_tir.Schedule(mod)
        rec.trace.apply_to_schedule(sch, remove_postproc=False)
        out.append(build(sch.mod, tvm.target.Target(TARGET), None))
    return out, args, dev


def remeasure(out_dir: Path, *, top: int = 3, rounds: int = 5, repeat: int = 60, seed: int = 0) -> int:
    """Time the ``top`` best schedules of every run again (see the module docstring); returns the runs."""
    import os
    import random

    os.environ.setdefault("TVM_NUM_THREADS", "1")     # read when the runtime's thread pool starts
    paths = sorted(p for p in Path(out_dir).glob("*__*__s*.json") if (Path(out_dir) / "db" / p.stem).is_dir())
    built = {p.stem: _best_schedules(out_dir, p.stem, top) for p in paths}
    best = {stem: math.inf for stem in built}
    order = list(built)
    rnd = random.Random(seed)
    for k in range(rounds):
        rnd.shuffle(order)
        for stem in order:
            mods, args, dev = built[stem]
            for ex in mods:
                secs = ex.time_evaluator("main", dev, number=1, repeat=repeat)(*args).results
                best[stem] = min(best[stem], min(float(x) for x in secs))
        print(f"round {k + 1}/{rounds}: {len(order)} runs", flush=True)
    for p in paths:
        res = json.loads(p.read_text())
        res["remeasured_best_s"] = best[p.stem] if math.isfinite(best[p.stem]) else None
        res["remeasure"] = {"top": top, "rounds": rounds, "repeat": repeat, "number": 1,
                            "threads": os.environ["TVM_NUM_THREADS"], "runs_together": len(paths)}
        _write(p, res)
    return len(paths)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", metavar="OUT_DIR", help="run every missing (workload, model, seed) into OUT_DIR")
    ap.add_argument("--one", nargs=4, metavar=("WORKLOAD", "MODEL", "SEED", "OUT"))
    ap.add_argument("--remeasure", metavar="OUT_DIR", help="time the best schedules of every run in OUT_DIR again")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS, help="with --all")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS + EXTRA_MODELS, help="with --all")
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--per-iter", type=int, default=16)
    ap.add_argument("--population", type=int, default=64)
    a = ap.parse_args(argv)
    kw = {"trials": a.trials, "per_iter": a.per_iter, "population": a.population}
    if a.remeasure:
        print(f"remeasured {remeasure(Path(a.remeasure))} runs")
        return 0
    if a.all:
        run_all(Path(a.all), seeds=tuple(range(a.seeds)), workloads=tuple(a.workloads), models=tuple(a.models), **kw)
        return 0
    if not a.one:
        ap.error("give --all OUT_DIR, --remeasure OUT_DIR or --one WORKLOAD MODEL SEED OUT")
    w, m, seed, out = a.one
    res = run(w, m, int(seed), **kw)
    _write(Path(out), res)
    print(f"{w} {m} seed {seed}: best {res['best_latency_s']} s in {res['tuning_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
