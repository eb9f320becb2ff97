"""A TVM MetaSchedule cost model (``PyCostModel``) that scores candidates with irtools features.

Each candidate schedule is lowered by ``tvm.compile`` for the tuning target when that target is LLVM;
its kernel functions' LLVM IR, read by ``irtools.parse_llvm``, gives the cost-model features (the same
:mod:`irtoolkit.costmodel.features` as everywhere else), plus hashed tokens of the TIR script.  Before any measurement the score is the shipped
default model's predicted instructions executed (fewer is better; the model is trained on TVM CPU
kernels from MetaSchedule's design space too, ``irtoolkit.costmodel.dataset.tvmcpu``), so the model ranks from
the first round; once ``update`` has seen results, a LightGBM regressor learns normalised throughput (best time of
the workload / time), as TVM's own XGBoost model does.  ``frozen=True`` ignores updates.

Saved as a folder: LightGBM text booster, ``state.json`` and the accumulated training data as ``.npz``.

    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel
    ms.tune_tir(mod, target, work_dir, max_trials_global=64, cost_model=IrtoolsCostModel())
"""

from __future__ import annotations

import json
import math
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
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


def feature_names() -> list[str]:
    names = [f"tir.{k.strip()}" for k in _TIR_KEYS] + ["tir.lines"] + [f"tir.h{i}" for i in range(TIR_BUCKETS)]
    names += [f"ll.{n}" for n in F.FEATURE_NAMES if not n.startswith("mlir.")] + ["prior.log_instructions_executed", "ll.n_kernel_functions"]
    return names


def _llvm_text(tvm, mod, target) -> str | None:
    try:
        return tvm.compile(mod, target=target).mod.inspect_source("ll")
    except Exception:   # a candidate TVM cannot lower
        return None


@derived_object
class IrtoolsCostModel(PyCostModel):
    def __init__(self, *, frozen: bool = False, prior: bool = True, num_rounds: int = 100, seed: int = 0):
        super().__init__()
        self.frozen = frozen
        self.prior = prior
        self.num_rounds = num_rounds
        self.seed = seed
        self.names = feature_names()
        self.X = np.zeros((0, len(self.names)))
        self.costs = np.zeros(0)
        self.groups: list[str] = []
        self.booster = None
        self._prior_model = None
        self._cache: dict[int, np.ndarray] = {}
        self._cols = None

    # -------------------------------------------------------------- features
    def _prior(self):
        if self._prior_model is None and self.prior:
            try:
                from ..api import load

                self._prior_model = load()
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
        import tvm
        import tvm_ffi

        target = context.target
        is_llvm = target is not None and target.kind.name == "llvm"
        cols = self._columns()
        j_prior = self.names.index("prior.log_instructions_executed")
        j_nfn = self.names.index("ll.n_kernel_functions")
        keys = []
        todo: dict = {}    # structural hash -> (module, row) of candidates not seen before
        for cand in candidates:
            mod = cand.sch.mod
            key = tvm_ffi.structural_hash(mod)
            if key not in self._cache and key not in todo:
                todo[key] = (mod, F.to_matrix([tir_features(mod.script())], self.names)[0])
            keys.append(key)
        if todo:
            mods = [m for m, _ in todo.values()]
            if is_llvm:
                # TVM's LLVM code generation is most of a tuning step with this model, and it lets go
                # of the GIL: candidates compile side by side on the tuner's threads
                n = max(1, min(len(mods), int(getattr(context, "num_threads", 1) or 1), os.cpu_count() or 1))
                if n > 1:
                    with ThreadPoolExecutor(n) as ex:
                        texts = list(ex.map(lambda m: _llvm_text(tvm, m, target), mods))
                else:
                    texts = [_llvm_text(tvm, m, target) for m in mods]
            for k, (key, (_, row)) in enumerate(todo.items()):
                if is_llvm:
                    self._llvm_features(texts[k], row, cols, j_prior, j_nfn)
                self._cache[key] = row
        return np.array([self._cache[k] for k in keys]).reshape(len(candidates), len(self.names))

    def _llvm_features(self, ll, row, cols, j_prior, j_nfn) -> None:
        """Fill the ``ll.*`` sums over the kernel functions and the prior's predicted instructions."""
        row[j_nfn] = 0.0
        if ll is None:      # a candidate TVM cannot lower keeps TIR features only
            return
        try:
            _, fns, X = F.feature_matrix(ll, F.FEATURE_NAMES)
        except Exception:   # nor one we cannot read
            return
        keep = [i for i, n in enumerate(fns) if not n.startswith(_SKIP_FN)]
        row[j_nfn] = float(len(keep))
        if not keep:
            return
        X = X[keep]
        src, dst = cols
        row[dst] = X[:, src].sum(axis=0)
        pm = self._prior()
        if pm is not None and "instructions_executed" in pm.target_names:
            if pm.feature_names_ != F.FEATURE_NAMES:     # a prior trained on another feature list
                at = {n: j for j, n in enumerate(F.FEATURE_NAMES)}
                X = np.column_stack([X[:, at[n]] if n in at else np.full(len(X), np.nan)
                                     for n in pm.feature_names_])
            p, _, _ = pm.predict_matrix(X, "instructions_executed")
            row[j_prior] = float(np.log1p(p.sum()))

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

    def predict(self, context, candidates) -> np.ndarray:
        X = self.featurize(context, candidates)
        if self.booster is not None:
            return np.asarray(self.booster.predict(X), dtype="float64")
        j = self.names.index("prior.log_instructions_executed")
        col = X[:, j]
        if np.all(np.isnan(col)):
            return np.zeros(len(candidates), dtype="float64")
        # fewer predicted instructions → higher score, scaled into (0, 1] like normalised throughput
        best = np.nanmin(col)
        return np.where(np.isnan(col), 0.0, np.exp(best - col)).astype("float64")

    def save(self, path: str) -> None:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(out / "booster.txt"))
        np.savez(out / "data.npz", X=self.X, costs=self.costs, groups=np.array(self.groups, dtype=str))
        state = {"format": "irtools-tvm-costmodel", "version": 1, "frozen": self.frozen, "prior": self.prior,
                 "num_rounds": self.num_rounds, "seed": self.seed, "feature_names": self.names,
                 "has_booster": self.booster is not None}
        (out / "state.json").write_text(json.dumps(state, indent=1) + "\n")

    def load(self, path: str) -> None:
        import lightgbm as lgb

        from irtools.errors import IrtoolsError

        p = Path(path)
        try:
            state = json.loads((p / "state.json").read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise IrtoolsError(f"{p}: not a saved irtools TVM cost model ({e})") from None
        if state.get("feature_names") != self.names:
            raise IrtoolsError(f"{p}: saved with other features; retrain it with this version")
        data = np.load(p / "data.npz", allow_pickle=False)
        self.X, self.costs, self.groups = data["X"], data["costs"], [str(g) for g in data["groups"]]
        self.frozen, self.prior = state["frozen"], state["prior"]
        self.num_rounds, self.seed = state["num_rounds"], state["seed"]
        self.booster = lgb.Booster(model_file=str(p / "booster.txt")) if state["has_booster"] else None
        self._cache.clear()
