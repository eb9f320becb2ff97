"""A TVM MetaSchedule cost model (``PyCostModel``) that scores candidates with irtools features.

Two feature sets, chosen with ``features=``:

``"tir"`` (the default)
    read from the scheduled TIR where MetaSchedule already is: TVM's per-store features
    (``PerStoreFeature``, the C++ extractor that its XGBoost model reads: loop structure, arithmetic
    and memory access per buffer store), summed and maximised over the stores, plus hashed tokens of
    the TIR script.  2-10 ms a candidate (conv2d the most), no code generation.
``"llvm"``
    each candidate lowered by ``tvm.compile`` to LLVM IR, read by ``irtools.parse_llvm`` into the same
    :mod:`irtoolkit.costmodel.features` as everywhere else: about 40-60 ms of code generation a
    candidate, which made tuning with this model 2-3x slower than with XGBoost (#17).

Before any measurement the scores are random, as XGBoost's are through its warm-up, unless
``prior=True`` (the default with LLVM features, which compile every candidate anyway): then the score
is the shipped default model's predicted instructions executed (fewer is better; the model is trained
on TVM CPU kernels from MetaSchedule's design space too, ``irtoolkit.costmodel.dataset.tvmcpu``), so
the first round is ranked too.  That prior needs LLVM code generation, paid for the first
``prior_candidates`` (64: MetaSchedule's initial population) only, and it is off by default with TIR
features: it was the largest cost-model call of a 128-trial tuning run, 5-17 s of 40-90 s, for one
round of 8.  Once ``update`` has seen results, a LightGBM regressor learns normalised throughput
(best time of the workload / time), as TVM's own XGBoost model does.  ``frozen=True`` ignores updates.

Saved as a folder: LightGBM text booster, ``state.json`` and the accumulated training data as ``.npz``.

    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel
    ms.tune_tir(mod, target, work_dir, max_trials_global=64, cost_model=IrtoolsCostModel())
"""

from __future__ import annotations

import json
import math
import os
import zlib
from functools import partial
from pathlib import Path

import numpy as np

try:
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.cost_model import PyCostModel
except ModuleNotFoundError as _e:
    if _e.name is None or _e.name.split(".")[0] not in ("tvm", "tvm_ffi"):
        raise
    # one line that says what to install, instead of a bare "No module named 'tvm'" from deep inside
    raise ImportError("irtoolkit.costmodel.integrations.tvm needs TVM: pip install 'irtoolkit[tvm]'",
                      name=__name__) from None

from .. import features as F
from ..dataset.tvmcpu import GLUE_PREFIXES as _SKIP_FN

TIR_BUCKETS = 64
_TIR_KEYS = ["T.parallel", "T.vectorized", "T.unroll", "T.serial", "T.thread_binding", "T.sblock", "for ",
             "T.if_then_else", "if ", "T.alloc_buffer", "annotations"]


def tir_features(script: str) -> dict[str, float]:
    f = {f"tir.{k.strip()}": float(script.count(k)) for k in _TIR_KEYS}
    f["tir.lines"] = float(script.count("\n"))
    toks = script.split()
    hist = np.zeros(TIR_BUCKETS)
    for a, b in zip(toks, toks[1:], strict=False):
        hist[zlib.crc32(f"{a} {b}".encode()) % TIR_BUCKETS] += 1
    f.update({f"tir.h{i}": float(v) for i, v in enumerate(hist)})
    return f


FEATURE_SETS = ("tir", "llvm")
# PerStoreFeature's row length with its default arguments (5 buffers per store, 10 arithmetic-intensity
# samples); checked at extraction, so a TVM that changes it fails loudly instead of shifting columns
PSF_DIM = 164


def feature_names(features: str = "tir") -> list[str]:
    if features not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {features!r}; known: {', '.join(FEATURE_SETS)}")
    names = [f"tir.{k.strip()}" for k in _TIR_KEYS] + ["tir.lines"] + [f"tir.h{i}" for i in range(TIR_BUCKETS)]
    if features == "tir":
        return (names + [f"psf.sum{i}" for i in range(PSF_DIM)] + [f"psf.max{i}" for i in range(PSF_DIM)]
                + ["psf.n_stores"])
    names += [f"ll.{n}" for n in F.FEATURE_NAMES if not n.startswith("mlir.")] + ["prior.log_instructions_executed", "ll.n_kernel_functions"]
    return names


# A few candidates take LLVM minutes to compile (seen on softmax: one in ~130 of MetaSchedule's
# samples); where the prior or the LLVM features need code generation it runs in TVM's own killable
# worker processes, and a candidate over this limit is scored as unknown instead of stalling the tuner
COMPILE_TIMEOUT_S = 10.0


def _llvm_text(mod_json: str, target_json: str) -> str | None:
    """LLVM IR of a module (run in a worker process: arguments are TVM's JSON), None if TVM cannot lower it."""
    import tvm

    try:
        mod = tvm.ir.load_json(mod_json)
        return tvm.compile(mod, target=tvm.ir.load_json(target_json)).mod.inspect_source("ll")
    except Exception:   # a candidate TVM cannot lower
        return None


@derived_object
class IrtoolsCostModel(PyCostModel):
    def __init__(self, *, features: str = "tir", frozen: bool = False, prior: bool | None = None,
                 prior_candidates: int = 64, num_rounds: int = 100, seed: int = 0):
        super().__init__()
        if prior is None:   # the LLVM features compile each candidate anyway; see the module docstring
            prior = features == "llvm"
        # the prior compiles each candidate it scores (40-150 ms); on the TIR features it scores only
        # the first ``prior_candidates`` distinct ones (MetaSchedule's initial population), the rest
        # score 0 until measurements train the regressor: all of round one cost 15-30 s of a
        # 50-80 s tuning run, this ~5 s
        self.prior_candidates = prior_candidates
        self.features = features
        self.frozen = frozen
        self.prior = prior
        self.num_rounds = num_rounds
        self.seed = seed
        self.names = feature_names(features)
        self.X = np.zeros((0, len(self.names)))
        self.costs = np.zeros(0)
        self.groups: list[str] = []
        self.booster = None
        self._prior_model = None
        self._cache: dict[int, np.ndarray] = {}
        self._prior_cache: dict[int, float] = {}
        self._cols = None
        self._psf = None
        self._pool = None
        # scores before any measurement, without the prior: random, as XGBoost's warm-up scores are
        self._rng = np.random.default_rng(seed)

    # -------------------------------------------------------------- features
    def _prior(self):
        if self._prior_model is None and self.prior:
            try:
                from ..api import load

                self._prior_model = load(targets=["instructions_executed"])
            except Exception:   # no shipped model: the score falls back to the TIR features only
                self.prior = False
        return self._prior_model

    def _columns(self):
        """Where each LLVM feature goes in our row, and where the prior model's columns come from."""
        if self._cols is None:
            at = {n: j for j, n in enumerate(self.names)}
            src = [j for j, n in enumerate(F.FEATURE_NAMES) if f"ll.{n}" in at]
            self._cols = (np.array(src), np.array([at[f"ll.{F.FEATURE_NAMES[j]}"] for j in src]))
        return self._cols

    def featurize(self, context, candidates) -> np.ndarray:
        import tvm_ffi

        keys = []
        todo: dict = {}    # structural hash -> candidate not seen before
        for cand in candidates:
            key = tvm_ffi.structural_hash(cand.sch.mod)
            if key not in self._cache and key not in todo:
                todo[key] = cand
            keys.append(key)
        if todo:
            rows = F.to_matrix([tir_features(c.sch.mod.script()) for c in todo.values()], self.names)
            if self.features == "tir":
                self._psf_features(context, list(todo.values()), rows)
            else:
                self._llvm_rows(context, [c.sch.mod for c in todo.values()], rows, list(todo))
            for key, row in zip(todo, rows, strict=True):
                self._cache[key] = row
        return np.array([self._cache[k] for k in keys]).reshape(len(candidates), len(self.names))

    def _psf_features(self, context, cands, rows) -> None:
        """TVM's per-store features of each candidate, summed and maximised over its stores."""
        from tvm.s_tir.meta_schedule.feature_extractor import PerStoreFeature

        if self._psf is None:
            self._psf = PerStoreFeature()
        j0 = self.names.index("psf.sum0")
        for row, f in zip(rows, self._psf.extract_from(context, cands), strict=True):
            a = f.numpy()
            if a.ndim != 2 or a.shape[1] != PSF_DIM:
                raise RuntimeError(f"PerStoreFeature gave rows of {a.shape[1:]} values, expected {PSF_DIM}")
            row[j0 + 2 * PSF_DIM] = float(len(a))
            if len(a):
                row[j0:j0 + PSF_DIM] = a.sum(axis=0)
                row[j0 + PSF_DIM:j0 + 2 * PSF_DIM] = a.max(axis=0)

    def _compile_all(self, context, mods) -> list[str | None]:
        """LLVM IR of each module (None where TVM cannot lower it in time), or Nones for a non-LLVM target."""
        import tvm
        from tvm.support.popen_pool import PopenPoolExecutor, StatusKind

        target = context.target
        if target is None or target.kind.name != "llvm":
            return [None] * len(mods)
        if self._pool is None:
            # code generation is most of a step with LLVM features; it runs on the tuner's threads
            n = max(1, min(int(getattr(context, "num_threads", 1) or 1), os.cpu_count() or 1))
            self._pool = PopenPoolExecutor(max_workers=n, timeout=COMPILE_TIMEOUT_S)
        tj = tvm.ir.save_json(target)
        res = self._pool.map_with_error_catching(partial(_llvm_text, target_json=tj),
                                                 [tvm.ir.save_json(m) for m in mods])
        return [r.value if r.status == StatusKind.COMPLETE else None for r in res]

    def _release_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def _llvm_rows(self, context, mods, rows, keys) -> None:
        """Fill the ``ll.*`` sums over the kernel functions and the prior's predicted instructions."""
        j_prior = self.names.index("prior.log_instructions_executed")
        j_nfn = self.names.index("ll.n_kernel_functions")
        for key, row, ll in zip(keys, rows, self._compile_all(context, mods), strict=True):
            row[j_nfn] = 0.0
            X = self._kernel_matrix(ll)
            if X is None:
                continue
            row[j_nfn] = float(len(X))
            src, dst = self._columns()
            row[dst] = X[:, src].sum(axis=0)
            row[j_prior] = self._prior_cache[key] = self._prior_of(X)

    @staticmethod
    def _kernel_matrix(ll) -> np.ndarray | None:
        """Feature rows of the kernel functions of one candidate's LLVM IR (TVM's glue left out)."""
        if ll is None:      # a candidate TVM cannot lower
            return None
        try:
            _, fns, X = F.feature_matrix(ll, F.FEATURE_NAMES)
        except Exception:   # nor one we cannot read
            return None
        keep = [i for i, n in enumerate(fns) if not n.startswith(_SKIP_FN)]
        return X[keep] if keep else None

    def _prior_of(self, X) -> float:
        """log1p of the shipped model's predicted instructions executed, summed over the kernels."""
        pm = self._prior()
        if X is None or pm is None or "instructions_executed" not in pm.target_names:
            return math.nan
        if pm.feature_names_ != F.FEATURE_NAMES:     # a prior trained on another feature list
            at = {n: j for j, n in enumerate(F.FEATURE_NAMES)}
            X = np.column_stack([X[:, at[n]] if n in at else np.full(len(X), np.nan)
                                 for n in pm.feature_names_])
        p, _, _ = pm.predict_matrix(X, "instructions_executed")
        return float(np.log1p(p.sum()))

    def prior_log_instructions(self, context, candidates) -> np.ndarray:
        """The prior per candidate (NaN where it cannot be had); compiles only candidates not seen."""
        import tvm_ffi

        if self.features == "llvm":
            return self.featurize(context, candidates)[:, self.names.index("prior.log_instructions_executed")]
        keys = [tvm_ffi.structural_hash(c.sch.mod) for c in candidates]
        todo = {k: c.sch.mod for k, c in zip(keys, candidates, strict=True) if k not in self._prior_cache}
        todo = dict(list(todo.items())[:max(self.prior_candidates - len(self._prior_cache), 0)])
        if todo:
            for key, ll in zip(todo, self._compile_all(context, list(todo.values())), strict=True):
                self._prior_cache[key] = self._prior_of(self._kernel_matrix(ll))
        return np.array([self._prior_cache.get(k, math.nan) for k in keys], dtype="float64")

    # -------------------------------------------------------------- the four verbs
    def update(self, context, candidates, results) -> None:
        if self.frozen:
            return
        X = self.featurize(context, candidates)
        group = str(context.task_name or "task")
        keep, costs = [], []
        for i, r in enumerate(results):
            secs = [float(s) for s in (r.run_secs or [])]
            if r.error_msg is None and secs and all(math.isfinite(s) for s in secs):
                keep.append(i)
                costs.append(float(np.mean(secs)))
        if not keep:
            return
        self.X = np.vstack([self.X, X[keep]])
        self.costs = np.concatenate([self.costs, costs])
        self.groups += [group] * len(keep)
        self._train()

    def _targets(self) -> np.ndarray:
        y = np.zeros(len(self.costs))
        groups = np.array(self.groups)
        for g in set(self.groups):
            m = groups == g
            y[m] = self.costs[m].min() / self.costs[m]
        return y

    def _train(self) -> None:
        import lightgbm as lgb

        if len(self.costs) < 4:
            return
        # small bagged trees: a few dozen measured schedules per task, hundreds of features; chosen by
        # Kendall tau on the tuning runs' records, train on two seeds, rank the third's random samples
        # (0.43 against 0.40 for 15-leaf unbagged trees; TVM's XGBoost 0.22 on the same folds)
        params = {"objective": "regression", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 5,
                  "feature_fraction": 0.5, "bagging_fraction": 0.8, "bagging_freq": 1,
                  "verbosity": -1, "seed": self.seed, "deterministic": True, "num_threads": 1,
                  "force_col_wise": True}
        ds = lgb.Dataset(self.X, self._targets(), params={"verbosity": -1, "min_data_in_bin": 1})
        self.booster = lgb.train(params, ds, num_boost_round=self.num_rounds)
        if self.features == "tir":     # the prior is no longer asked for: its compile workers can go
            self._release_pool()

    def predict(self, context, candidates) -> np.ndarray:
        if self.booster is not None:
            return np.asarray(self.booster.predict(self.featurize(context, candidates)), dtype="float64")
        if not self.prior or self._prior() is None:
            return self._rng.uniform(size=len(candidates))
        col = self.prior_log_instructions(context, candidates)
        if np.all(np.isnan(col)):
            return self._rng.uniform(size=len(candidates))
        # fewer predicted instructions → higher score, scaled into (0, 1] like normalised throughput
        best = np.nanmin(col)
        return np.where(np.isnan(col), 0.0, np.exp(best - col)).astype("float64")

    def save(self, path: str) -> None:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(out / "booster.txt"))
        np.savez(out / "data.npz", X=self.X, costs=self.costs, groups=np.array(self.groups, dtype=str))
        state = {"format": "irtools-tvm-costmodel", "version": 2, "features": self.features, "frozen": self.frozen,
                 "prior": self.prior, "prior_candidates": self.prior_candidates, "num_rounds": self.num_rounds,
                 "seed": self.seed, "feature_names": self.names, "has_booster": self.booster is not None}
        (out / "state.json").write_text(json.dumps(state, indent=1) + "\n")

    def load(self, path: str) -> None:
        import lightgbm as lgb

        from irtools.errors import IrtoolsError

        p = Path(path)
        try:
            state = json.loads((p / "state.json").read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise IrtoolsError(f"{p}: not a saved irtools TVM cost model ({e})") from None
        saved = state.get("features", "llvm")      # version 1 knew only the LLVM features
        if saved != self.features:
            raise IrtoolsError(f"{p}: saved with the {saved!r} feature set; load it into "
                               f"IrtoolsCostModel(features={saved!r})")
        if state.get("feature_names") != self.names:
            raise IrtoolsError(f"{p}: saved with other features; retrain it with this version")
        data = np.load(p / "data.npz", allow_pickle=False)
        self.X, self.costs, self.groups = data["X"], data["costs"], [str(g) for g in data["groups"]]
        self.frozen, self.prior = state["frozen"], state["prior"]
        self.num_rounds, self.seed = state["num_rounds"], state["seed"]
        self.prior_candidates = state.get("prior_candidates", self.prior_candidates)
        self.booster = lgb.Booster(model_file=str(p / "booster.txt")) if state["has_booster"] else None
        self._cache.clear()
        self._prior_cache.clear()
