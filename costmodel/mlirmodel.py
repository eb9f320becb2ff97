"""The MLIR cost model: predictions from high-level MLIR and a lowering pipeline, before lowering.

The LLVM-IR model (:class:`irtoolkit.costmodel.model.CostModel`) has never read MLIR: its "MLIR-lowered" rows are
LLVM IR after lowering.  This model reads the high-level function (linalg, affine, scf, tensor,
memref...) with the ``--pass-pipeline`` that would lower it, through :mod:`irtoolkit.costmodel.mlirfeatures`, and
has its own boosters per target (a :class:`CostModel` fitted on those features, so the same offset
line, quantile interval and persistence) and its own out-of-distribution check: the feature ranges of
*its* training data, and the dialects seen there — a function with ops of a dialect no training row had
(``hw``, ``handshake``, ``torch``...) is flagged whatever its numbers.

    from irtoolkit.costmodel.mlirmodel import load
    m = load()                                       # costmodel/models/default/mlir
    m.predict(text)                                  # under STANDARD_PIPELINE
    m.predict(text, pipeline="builtin.module(...)")
    m.rank(text, pipelines=[p1, p2, p3])             # cheapest first

Training: ``python -m irtoolkit.costmodel.mlirmodel train build/mlirpairs build/mlirpairs_b build/mlirpairs_small
build/mlirpairs_dyn build/mlirgpu`` (CPU pairs from :mod:`irtoolkit.costmodel.dataset.mlirpairs`, GPU pairs from
:mod:`irtoolkit.costmodel.dataset.mlirgpu`; a GPU pipeline's prediction carries kernel registers, a CPU one's
instructions and bytes)
(programs whose seed is a multiple of ``--holdout-every`` are left out, for the evaluation).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from irtools.errors import IrtoolsError

from . import mlirfeatures as MF
from .dataset.mlirpairs import STANDARD_PIPELINE

DEFAULT_MLIR_MODEL = Path(__file__).resolve().parent / "models" / "default" / "mlir"
CPU_TARGETS = ("machine_instructions", "text_bytes", "instructions_executed")
GPU_TARGETS = ("gpu_registers_sm80", "gpu_registers_sm90")   # a GPU pipeline's kernels, from ptxas
TARGETS = CPU_TARGETS + GPU_TARGETS
META = "mlir.json"


@dataclass
class RankedPipeline:
    pipeline: str
    value: float                     # predicted cost summed over the chosen functions
    per_function: dict[str, float]

    def to_json(self) -> dict:
        return {"pipeline": self.pipeline, "value": self.value, "per_function": self.per_function}


def row_features(rows: list[dict]) -> list[dict[str, float]]:
    """Feature dicts of dataset rows (``source``, ``pipeline``, ``function``); each source is parsed once."""
    import irtools

    from .features import _function_like

    out: list[dict[str, float] | None] = [None] * len(rows)
    by_src: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_src.setdefault(r["source"], []).append(i)
    for src, idx in by_src.items():
        mod = irtools.parse_mlir(src)
        al = MF.aliases_of(src)
        fns = {op.sym_name: op for op in mod.walk() if _function_like(op)}
        cache: dict[tuple[str, str], dict] = {}
        for i in idx:
            key = (rows[i]["function"], rows[i]["pipeline"])
            if key not in cache:
                cache[key] = MF.function_features(fns[key[0]], key[1], aliases=al)
            out[i] = cache[key]
    return out  # type: ignore[return-value]


def _dynamic(feats: dict[str, float]) -> bool:
    return bool(feats.get("sig.dynamic_args") or feats.get("la.dynamic_dims"))


def row_labels(rows: list[dict], feats: list[dict[str, float]]) -> list[dict[str, float]]:
    """The labels the model learns: instructions executed only for functions with static shapes (with
    ``?`` dimensions the count is of the harness's sizes, which the IR does not carry)."""
    out = []
    for r, f in zip(rows, feats, strict=True):
        lab = dict(r["labels"])
        if _dynamic(f):
            lab.pop("instructions_executed", None)
        out.append(lab)
    return out


class MlirCostModel:
    """Per-function cost of high-level MLIR under a pipeline.  Keyword arguments go to the inner
    :class:`irtoolkit.costmodel.model.CostModel` (``n_estimators``, ``learning_rate``...)."""

    def __init__(self, *, targets: tuple[str, ...] = TARGETS, **params):
        self.targets = targets
        self.params = params

    def fit(self, rows: list[dict], *, summary: dict | None = None) -> MlirCostModel:
        from .model import CostModel

        if not rows:
            raise IrtoolsError("fit needs at least one row")
        feats = row_features(rows)
        labels = row_labels(rows, feats)
        self.model_ = CostModel(targets=list(self.targets), **self.params).fit(
            feats, labels, feature_names=MF.FEATURE_NAMES, summary=summary)
        import irtools

        seen: set[str] = set()
        for src in {r["source"] for r in rows}:
            for ds in _dialects(irtools.parse_mlir(src)).values():
                seen |= ds
        self.dialects_ = sorted(seen)
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            from .model import NotFittedError

            raise NotFittedError("this MlirCostModel is not fitted: call fit() or irtoolkit.costmodel.mlirmodel.load()")

    @property
    def target_names(self) -> list[str]:
        self._check()
        return self.model_.target_names

    def featurize(self, text: str, pipeline: str | None = None, *, path: str | None = None
                  ) -> tuple[list[str], np.ndarray, list[set[str]]]:
        """(function names, feature matrix, dialects per function) of an MLIR module under ``pipeline``."""
        import irtools

        from . import features as F

        self._check()
        _, src = F.ir_input(text)
        if not isinstance(src, str):
            raise IrtoolsError("the MLIR model reads MLIR text or a path to it")
        mod = irtools.parse_mlir(src, path=path)
        al = MF.aliases_of(src)
        pf = MF.pipeline_features(pipeline or STANDARD_PIPELINE)
        names, rows, dias = [], [], []
        self.dynamic_ = []
        for name, op in _functions(mod):
            names.append(name)
            rows.append(MF.function_features(op, pipeline or STANDARD_PIPELINE, aliases=al, pipe_feats=pf))
            dias.append(MF.dialects(op))
            self.dynamic_.append(_dynamic(rows[-1]))
        return names, F.to_matrix(rows, self.model_.feature_names_), dias

    def predict(self, text: str, pipeline: str | None = None, target: str | list[str] | None = None, *,
                path: str | None = None):
        """Per-function :class:`irtoolkit.costmodel.model.Prediction` of ``text`` lowered by ``pipeline`` (default
        :data:`STANDARD_PIPELINE`); an empty list for a module without functions."""
        names, X, dias = self.featurize(text, pipeline, path=path)
        if not names:
            return []
        dynamic = self.dynamic_
        preds = self.model_.predict_rows(names, X, target)
        known = set(self.dialects_)
        # a GPU pipeline's function has kernel registers, not CPU instructions, and the other way round
        other = CPU_TARGETS if MF.is_gpu_pipeline(pipeline or STANDARD_PIPELINE) else GPU_TARGETS
        for p in preds:
            for t in other:
                p.values.pop(t, None)
        for p, ds, dyn in zip(preds, dias, dynamic, strict=True):
            ie = p.values.get("instructions_executed")
            if dyn and ie is not None:       # depends on sizes the IR does not give
                ie.value = ie.lo = ie.hi = None
            p.ood_reasons = [r.replace("; trained on LLVM IR", "") for r in p.ood_reasons]
            unseen = sorted(ds - known)
            if unseen:
                p.ood = True
                p.ood_score = max(p.ood_score, 1.0)
                p.ood_reasons.insert(0, f"ops of dialects the MLIR model never saw in training: {', '.join(unseen)}")
        return preds

    def rank(self, text: str, pipelines: list[str], target: str = "machine_instructions", *,
             function: str | None = None, path: str | None = None) -> list[RankedPipeline]:
        """The pipelines ordered by predicted ``target`` (cheapest first), summed over the module's
        functions or for ``function`` alone: the decision a compiler takes before lowering."""
        out = []
        for pipe in pipelines:
            preds = self.predict(text, pipe, target, path=path)
            if preds and target not in preds[0].values:
                kind = "a GPU" if MF.is_gpu_pipeline(pipe) else "a CPU"
                raise IrtoolsError(f"{target} is not a figure of {kind} pipeline ({pipe[:80]}...): rank GPU "
                                   f"pipelines by {', '.join(GPU_TARGETS)}, CPU ones by {', '.join(CPU_TARGETS)}")
            per = {p.function: p.values[target].value for p in preds
                   if function is None or p.function == function}
            if function is not None and not per:
                raise IrtoolsError(f"no function {function!r} in the module")
            out.append(RankedPipeline(pipe, float(sum(v for v in per.values() if v is not None)), per))
        return sorted(out, key=lambda r: r.value)

    def save(self, path: str | os.PathLike) -> Path:
        self._check()
        out = self.model_.save(path)
        meta = {"kind": "mlir", "input": "high-level MLIR text + mlir-opt --pass-pipeline",
                "standard_pipeline": STANDARD_PIPELINE, "dialects": self.dialects_,
                "features": "irtoolkit.costmodel.mlirfeatures", "targets": list(self.targets)}
        (out / META).write_text(json.dumps(meta, indent=1) + "\n")
        return out

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> MlirCostModel:
        from .model import CostModel, ModelFormatError

        p = Path(path) if path is not None else DEFAULT_MLIR_MODEL
        if not (p / META).is_file():
            raise ModelFormatError(f"{p} is not an MLIR cost-model folder (no {META}): "
                                   f"run `python -m irtoolkit.costmodel.mlirmodel train`")
        meta = json.loads((p / META).read_text())
        self = cls(targets=tuple(meta["targets"]))
        self.model_ = CostModel.load(p)
        self.dialects_ = list(meta["dialects"])
        return self


def load(path: str | os.PathLike | None = None) -> MlirCostModel:
    """The MLIR model saved at ``path``, or the shipped one (``costmodel/models/default/mlir``)."""
    return MlirCostModel.load(path)


def _functions(mod):
    from .features import _function_like

    out = []
    for op in mod.walk():
        if _function_like(op):
            out.append((op.sym_name or f"<{op.name}#{len(out)}>", op))
    return out


def _dialects(mod) -> dict[str, set[str]]:
    return {name: MF.dialects(op) for name, op in _functions(mod)}


def split_by_program(rows: list[dict], every: int) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows): programs whose seed is a multiple of ``every`` are held out."""
    test = [r for r in rows if r["seed"] % every == 0]
    train = [r for r in rows if r["seed"] % every != 0]
    return train, test


def main(argv: list[str] | None = None) -> int:
    from .dataset.mlirpairs import load_rows

    ap = argparse.ArgumentParser(prog="python -m irtoolkit.costmodel.mlirmodel")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fit on a pair dataset (irtoolkit.costmodel.dataset.mlirpairs) and save")
    t.add_argument("data", nargs="+", help="pair dataset folders (irtoolkit.costmodel.dataset.mlirpairs build)")
    t.add_argument("--out", default=str(DEFAULT_MLIR_MODEL))
    t.add_argument("--holdout-every", type=int, default=5)
    t.add_argument("--n-estimators", type=int, default=400)
    a = ap.parse_args(argv)
    rows = [r for d in a.data for r in load_rows(d)]
    train, test = split_by_program(rows, a.holdout_every)
    progs = sorted({r["seed"] for r in train})
    summary = {"data": a.data, "n_rows": len(train), "programs": len(progs),
               "held_out": f"seeds that are multiples of {a.holdout_every} ({len({r['seed'] for r in test})} programs)",
               "families": sorted({r["family"] for r in train})}
    m = MlirCostModel(n_estimators=a.n_estimators, feature_fraction=0.8).fit(train, summary=summary)
    m.save(a.out)
    print(json.dumps({"rows": len(train), "programs": len(progs), "out": a.out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
