"""The learned cost model: one LightGBM regressor per target plus two quantile models for an interval.

scikit-learn conventions: ``__init__`` only stores keyword arguments; ``fit`` computes and returns
``self``; fitted state ends in ``_``.  On disk a model is a folder of LightGBM text boosters and one
``manifest.json`` (feature names, targets and units, training-data summary and feature ranges,
versions) — never pickle.  Every prediction carries an out-of-distribution verdict computed from the
training feature ranges, so an input unlike anything seen in training is flagged, not silently priced.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import platform
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from irtools.errors import IrtoolsError

from . import features as F
from . import targets as T

FORMAT = "irtools-costmodel"
FORMAT_VERSION = 2          # 2: features from the project's parsers (irtools.parse_llvm / parse_mlir)


class NotFittedError(IrtoolsError):
    """A model method that needs fitted boosters was called before ``fit`` or ``load``."""


class ModelFormatError(IrtoolsError):
    """A model folder that is missing files or was written by an incompatible version."""


@dataclass
class TargetPrediction:
    value: float | None       # None: the target does not exist for this function (a loop target, no loops)
    lo: float | None
    hi: float | None
    unit: str

    def to_json(self) -> dict:
        """value, lo, hi rounded to what the model can say (4 decimals for fractions, 2 otherwise);
        ``None`` where the target does not apply to the function."""
        nd = 4 if self.unit == "fraction" else 2
        r = (lambda v: None if v is None else round(v, nd) + 0.0)  # + 0.0: no -0.0
        return {"value": r(self.value), "lo": r(self.lo), "hi": r(self.hi), "unit": self.unit}


@dataclass
class Prediction:
    function: str
    values: dict[str, TargetPrediction]
    ood: bool
    ood_score: float
    ood_reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        d: dict = {"function": self.function}
        for name, tp in self.values.items():
            d[name] = tp.to_json()
        d["out_of_distribution"] = self.ood
        d["ood_score"] = round(self.ood_score, 4)
        d["ood_reasons"] = self.ood_reasons
        return d


def _weighted_quantile(x: np.ndarray, q: float, w: np.ndarray) -> float:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return float(x[order][min(np.searchsorted(cw, q * cw[-1]), len(x) - 1)])


def _versions() -> dict[str, str]:
    import lightgbm

    import irtools

    return {"lightgbm": lightgbm.__version__, "numpy": np.__version__, "irtools": irtools.__version__,
            "python": platform.python_version()}


class CostModel:
    """Per-function hardware-cost predictions from LLVM IR text.

    Parameters are keyword-only and stored as given.  ``quantiles`` bounds the interval each
    prediction carries; a row whose out-of-distribution score (see :meth:`ood`: 1.0 is an interval as
    wide as the widest 10% of the training functions') exceeds ``ood_threshold`` is flagged.  Features
    come from :mod:`irtoolkit.costmodel.features` (the project's parsers).
    """

    def __init__(self, *, targets: list[str] | None = None, n_estimators: int = 600, learning_rate: float = 0.03,
                 num_leaves: int = 31, min_child_samples: int = 5, feature_fraction: float = 0.3, quantiles: tuple[float, float] = (0.1, 0.9),
                 n_estimators_quantile: int = 100, ood_threshold: float = 1.0, random_state: int = 0,
                 offset: bool = True, target_params: dict[str, dict] | None = None):
        self.targets = targets
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.quantiles = quantiles
        self.n_estimators_quantile = n_estimators_quantile
        self.ood_threshold = ood_threshold
        self.random_state = random_state
        self.offset = offset
        # per-target overrides of the point booster's num_leaves / n_estimators / learning_rate (and
        # objective, alpha, min_child_samples, feature_fraction, lambda_l2): the size targets of real
        # code gain from deeper, longer boosting where the rest would only grow the model
        self.target_params = target_params

    # ------------------------------------------------------------------ training
    def _params(self, objective: str, alpha: float | None = None) -> dict:
        # the quantile models only bound an interval: fewer, smaller trees at a faster rate keep the
        # shipped model small
        quant = alpha is not None
        p = {"objective": objective, "learning_rate": self.learning_rate * (2 if quant else 1),
             "num_leaves": max(self.num_leaves // 2, 3) if quant else self.num_leaves,
             "min_data_in_leaf": self.min_child_samples, "verbosity": -1, "seed": self.random_state,
             "deterministic": True, "num_threads": 1,
             "feature_fraction": self.feature_fraction if not quant else 0.9, "bagging_fraction": 0.9,
             "bagging_freq": 1, "force_col_wise": True}
        if alpha is not None:
            p["alpha"] = alpha
        return p

    def _point(self, name: str) -> tuple[dict, int]:
        """(LightGBM parameters, rounds) of a target's point booster."""
        over = (self.target_params or {}).get(name, {})
        p = self._params("regression")
        if "num_leaves" in over:
            p["num_leaves"] = int(over["num_leaves"])
        if "learning_rate" in over:
            p["learning_rate"] = float(over["learning_rate"])
        if "min_child_samples" in over:
            p["min_data_in_leaf"] = int(over["min_child_samples"])
        for key in ("feature_fraction", "lambda_l2"):
            if key in over:
                p[key] = float(over[key])
        if "objective" in over:       # e.g. "huber" (with "alpha") or "regression_l1" on the residual
            p["objective"] = str(over["objective"])
            if "alpha" in over:
                p["alpha"] = float(over["alpha"])
        return p, int(over.get("n_estimators", self.n_estimators))

    def _xform(self, name: str, y: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(y, 0)) if T.get(name).log_scale else y

    def _inverse(self, name: str, z: np.ndarray) -> np.ndarray:
        return np.expm1(z).clip(min=0) if T.get(name).log_scale else z

    def fit(self, feats, labels, *, feature_names: list[str] | None = None, summary: dict | None = None,
            weights: list[float] | None = None) -> CostModel:
        """Fit on per-function rows; returns ``self``.

        ``feats`` is a list of feature dicts, or a matrix ``X`` (rows × ``feature_names``, default
        :data:`irtoolkit.costmodel.features.FEATURE_NAMES`).  ``labels`` is a list of label dicts (a missing
        label is skipped per target), a dict ``{target: values}``, or, for a model made with one
        target (``CostModel(targets=["spills"])``), one array ``y``: ``model.fit(X, y)``.
        ``weights`` (one per row) weigh rows in the boosters and in each target's offset line, e.g. to
        keep a large group of one kind of kernel from bending the fit of the others."""
        import lightgbm as lgb

        feats, labels = self._rows(feats, labels, feature_names)

        if len(feats) != len(labels) or not feats:
            raise IrtoolsError(f"fit needs as many label rows as feature rows, and at least one "
                               f"(got {len(feats)} and {len(labels)})")
        names = list(feature_names or F.FEATURE_NAMES)
        if feature_names is None:
            extra = sorted({k for d in feats for k in d if k not in set(names)})
            names += extra
        X = F.to_matrix(feats, names)
        W = np.ones(len(feats)) if weights is None else np.asarray(weights, dtype=np.float64)
        if len(W) != len(feats) or not np.all(W > 0):
            raise IrtoolsError("fit needs one positive weight per row")
        wanted = self.targets or [t for t in T.TARGETS if any(t in lab for lab in labels)]
        self.feature_names_ = names
        self.boosters_: dict[str, dict[str, object]] = {}
        self.target_info_: dict[str, dict] = {}
        for name in wanted:
            T.get(name)
            mask = np.array([name in lab and lab[name] is not None and math.isfinite(lab[name]) for lab in labels])
            if mask.sum() < 4:
                continue
            y = np.array([labels[i][name] for i in np.flatnonzero(mask)], dtype=np.float64)
            z = self._xform(name, y)
            Xt, Wt = X[mask], W[mask]
            self.target_info_[name] = {"offset": self._fit_offset(name, Xt, z, Wt)}
            z = z - self._offset(name, Xt)
            prm, rounds = self._point(name)
            # the interval boosters share the Dataset at the default leaf size: a point booster with a
            # larger one must not pre-filter the features they split on
            pre = prm["min_data_in_leaf"] == self.min_child_samples
            ds = lgb.Dataset(Xt, z, weight=None if weights is None else Wt, feature_name=[_safe(n) for n in names],
                             free_raw_data=False, params={"verbosity": -1, "min_data_in_bin": 1,
                                                          "feature_pre_filter": pre})
            point = lgb.train(prm, ds, num_boost_round=rounds)
            lo = lgb.train(self._params("quantile", self.quantiles[0]), ds,
                           num_boost_round=self.n_estimators_quantile)
            hi = lgb.train(self._params("quantile", self.quantiles[1]), ds,
                           num_boost_round=self.n_estimators_quantile)
            self.boosters_[name] = {"point": point, "lo": lo, "hi": hi}
            if T.get(name).gated and 0 < (y > 0).sum() < len(y):
                gds = lgb.Dataset(Xt, (y > 0).astype(np.float64), weight=None if weights is None else Wt,
                                  feature_name=[_safe(n) for n in names], free_raw_data=False,
                                  params={"verbosity": -1, "min_data_in_bin": 1})
                self.boosters_[name]["gate"] = lgb.train({**prm, "objective": "binary"}, gds, num_boost_round=rounds)
            self.target_info_[name].update({"n_train": int(mask.sum()), "label_min": float(y.min()),
                                            "label_max": float(y.max()), "label_mean": float(y.mean())})
            # the interval width that 90% of the training functions stay under, the rows weighted as in
            # the fit (a source of many rows weighted down does not set it alone): the yardstick of
            # the out-of-distribution verdict (see ood)
            w = _weighted_quantile(self._width(name, Xt), 0.90, Wt)
            self.target_info_[name]["width_q90"] = max(w, 1e-6)
        if not self.boosters_:
            raise IrtoolsError("no target had enough labelled rows to fit")
        self._fit_ranges(X)
        self.summary_ = dict(summary or {})
        self.summary_.setdefault("n_rows", len(feats))
        return self

    def _rows(self, feats, labels, feature_names):
        """(feature dicts, label dicts) from any of the forms ``fit`` takes."""
        if hasattr(feats, "shape"):
            X = np.asarray(feats, dtype=np.float64)
            names = list(feature_names or F.FEATURE_NAMES)
            if X.ndim != 2 or X.shape[1] != len(names):
                raise IrtoolsError(f"fit needs X with one column per feature name ({len(names)}), got shape "
                                   f"{X.shape}")
            feats = [dict(zip(names, row, strict=True)) for row in X.tolist()]
        if isinstance(labels, dict):
            cols = {t: np.asarray(v, dtype=np.float64).tolist() for t, v in labels.items()}
            labels = [{t: c[i] for t, c in cols.items()} for i in range(len(next(iter(cols.values()), [])))]
        elif hasattr(labels, "shape") or (labels and not isinstance(labels[0], dict)):
            if not self.targets or len(self.targets) != 1:
                raise IrtoolsError("fit(X, y) with one array y needs a model of one target: "
                                   "CostModel(targets=[NAME]); else give {target: values}")
            labels = [{self.targets[0]: float(v)} for v in np.asarray(labels, dtype=np.float64).ravel()]
        return feats, labels

    def _fit_ranges(self, X: np.ndarray) -> None:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)    # columns no row has (mlir.* in LLVM data)
            self.feat_min_ = np.nanmin(np.where(np.isnan(X), np.inf, X), axis=0)
            self.feat_max_ = np.nanmax(np.where(np.isnan(X), -np.inf, X), axis=0)
            self.feat_mean_ = np.nan_to_num(np.nanmean(X, axis=0))
            self.feat_std_ = np.nan_to_num(np.nanstd(X, axis=0))
        self.feat_min_[~np.isfinite(self.feat_min_)] = 0.0
        self.feat_max_[~np.isfinite(self.feat_max_)] = 0.0
        imp = np.zeros(len(self.feature_names_))
        for bs in self.boosters_.values():
            g = np.asarray(bs["point"].feature_importance("gain"), dtype=np.float64)
            if g.sum() > 0:
                imp += g / g.sum()
        self.feat_weight_ = imp / imp.sum() if imp.sum() > 0 else imp

    def _offset_column(self, name: str, fname: str, x: np.ndarray) -> np.ndarray:
        if T.get(name).log_scale and ".log_" not in fname:
            return np.log1p(np.maximum(x, 0))
        return x

    def _fit_offset(self, name: str, X: np.ndarray, z: np.ndarray, w: np.ndarray, k: int = 4) -> dict | None:
        """A least-squares line on the ``k`` size features that explain most of the target.

        The boosters then learn the residual of that line.  Trees are piecewise constant: alone they
        price a function between two training sizes at one of the two, and the steps cost accuracy
        on exactly the smooth size relations (instructions, bytes, executed instructions) a line gets
        right.  Hashed n-gram buckets are left to the trees.
        """
        if not self.offset or len(z) < 8 or np.var(z) == 0:
            return None
        scored = []
        for j, fname in enumerate(self.feature_names_):
            x = X[:, j]
            if fname.startswith(("ng.", "tok.")) or np.isnan(x).any():
                continue
            x = self._offset_column(name, fname, x)
            if np.var(x) == 0:
                continue
            r = np.corrcoef(x, z)[0, 1]
            if np.isfinite(r) and r > 0:
                scored.append((r * r, j))
        scored.sort(reverse=True)
        if not scored or scored[0][0] < 0.5:
            return None
        idx = [j for _, j in scored[:k]]
        A = np.column_stack([self._offset_column(name, self.feature_names_[j], X[:, j]) for j in idx]
                            + [np.ones(len(z))])
        sw = np.sqrt(w)     # row weights (ones when fit was given none)
        coef, *_ = np.linalg.lstsq(A * sw[:, None], z * sw, rcond=None)
        return {"index": idx, "feature": [self.feature_names_[j] for j in idx], "coef": coef[:-1].tolist(),
                "intercept": float(coef[-1]), "r2_best_single": float(scored[0][0]),
                "fill": [float(np.median(X[:, j])) for j in idx]}

    def _offset(self, name: str, X: np.ndarray) -> np.ndarray:
        off = self.target_info_.get(name, {}).get("offset")
        if not off:
            return np.zeros(X.shape[0])
        out = np.full(X.shape[0], off["intercept"])
        for j, fname, c, fill in zip(off["index"], off["feature"], off["coef"], off["fill"], strict=True):
            col = np.where(np.isnan(X[:, j]), fill, X[:, j])
            out += c * self._offset_column(name, fname, col)
        return out

    def update(self, feats: list[dict[str, float]], labels: list[dict[str, float]], *,
               rounds: int = 50) -> CostModel:
        """Continue boosting every target's models on new rows; widens the feature ranges."""
        import lightgbm as lgb

        self._check()
        X = F.to_matrix(feats, self.feature_names_)
        for name, bs in self.boosters_.items():
            mask = np.array([name in lab and lab[name] is not None and math.isfinite(lab[name]) for lab in labels])
            if mask.sum() == 0:
                continue
            y = np.array([labels[i][name] for i in np.flatnonzero(mask)], dtype=np.float64)
            z = self._xform(name, y) - self._offset(name, X[mask])
            ds = lgb.Dataset(X[mask], z, feature_name=[_safe(n) for n in self.feature_names_],
                             params={"verbosity": -1, "min_data_in_bin": 1}, free_raw_data=False)
            bs["point"] = lgb.train(self._point(name)[0], ds, num_boost_round=rounds, init_model=bs["point"],
                                    keep_training_booster=True)
            for key, q in (("lo", self.quantiles[0]), ("hi", self.quantiles[1])):
                bs[key] = lgb.train(self._params("quantile", q), ds, num_boost_round=max(rounds // 2, 1),
                                    init_model=bs[key], keep_training_booster=True)
            if "gate" in bs:
                gds = lgb.Dataset(X[mask], (y > 0).astype(np.float64), params={"verbosity": -1, "min_data_in_bin": 1},
                                  feature_name=[_safe(n) for n in self.feature_names_], free_raw_data=False)
                bs["gate"] = lgb.train({**self._point(name)[0], "objective": "binary"}, gds, num_boost_round=rounds,
                                       init_model=bs["gate"], keep_training_booster=True)
            self.target_info_[name]["n_train"] += int(mask.sum())
        with np.errstate(all="ignore"):
            self.feat_min_ = np.fmin(self.feat_min_, np.nanmin(np.where(np.isnan(X), np.inf, X), axis=0))
            self.feat_max_ = np.fmax(self.feat_max_, np.nanmax(np.where(np.isnan(X), -np.inf, X), axis=0))
        self.summary_["n_rows"] = self.summary_.get("n_rows", 0) + len(feats)
        self.summary_["updates"] = self.summary_.get("updates", 0) + 1
        return self

    # ------------------------------------------------------------------ prediction
    def _check(self) -> None:
        if not hasattr(self, "boosters_"):
            raise NotFittedError("this CostModel is not fitted: call fit() or costmodel.load()")

    @property
    def target_names(self) -> list[str]:
        self._check()
        return list(self.boosters_)

    def predict_matrix(self, X: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, lo, hi) arrays for the rows of ``X`` (columns in ``feature_names_`` order) and one
        target, in the target's unit; lo and hi are the ``quantiles`` of the interval."""
        self._check()
        if target not in self.boosters_:
            raise IrtoolsError(f"this model has no target {target!r}; it predicts {', '.join(self.boosters_)}")
        bs = self.boosters_[target]
        off = self._offset(target, X)
        p = self._inverse(target, self._raw(bs["point"], X) + off)
        lo = self._inverse(target, self._raw(bs["lo"], X) + off)
        hi = self._inverse(target, self._raw(bs["hi"], X) + off)
        if "gate" in bs:    # the classifier's log-odds: > 0 says the count is not zero
            nonzero = self._raw(bs["gate"], X) > 0
            p = np.where(nonzero, np.maximum(p, 1.0), 0.0)
        cap = self.prediction_cap(target)
        if cap is not None:
            p, lo, hi = np.minimum(p, cap), np.minimum(lo, cap), np.minimum(hi, cap)
        return p, np.minimum(lo, p), np.maximum(hi, p)

    # How far past its largest training label a prediction may go.  The offset line extrapolates in
    # log space on purpose (a function larger than any trained on is priced by the size line), but
    # an estimate feature that is itself unbounded (the inclusive executed-instructions estimate of a
    # real function deep in a call graph) took real-code predictions to 1e30 instructions per call.
    CAP_FACTOR = 10.0

    def prediction_cap(self, target: str) -> float | None:
        """The largest value the model predicts for ``target``: ``CAP_FACTOR`` × its largest training
        label (None for a target learnt on a linear scale or a model without that record)."""
        hi = self.target_info_.get(target, {}).get("label_max")
        return None if hi is None or not T.get(target).log_scale else self.CAP_FACTOR * float(hi)

    # rows a booster predicts through LightGBM before its trees are read into a C forest (~0.15 s for
    # 600 trees, paid back after about this many rows: a one-file CLI call never pays it)
    FOREST_AFTER_ROWS = 2048

    def _raw(self, booster, X: np.ndarray) -> np.ndarray:
        """The booster's raw prediction: LightGBM's, or the same numbers from :class:`irtoolkit.costmodel.gbdt.Forest`
        once enough rows went through it to pay for building the forest."""
        cache = self.__dict__.setdefault("_forests", {})
        entry = cache.get(id(booster))
        if entry is None or entry[0] is not booster:     # keyed by identity: fit/update make new boosters
            entry = cache[id(booster)] = [booster, None, 0]
        if entry[1] is None and entry[2] + len(X) >= self.FOREST_AFTER_ROWS:
            from .gbdt import Forest

            entry[1] = Forest.from_booster(booster) or False     # False: LightGBM for good
        if entry[1]:
            return entry[1].predict(X)
        entry[2] += len(X)
        # one thread: predictions are per module and small, where OpenMP start-up costs more than it gains
        return booster.predict(X, num_threads=1, raw_score=True)

    # the share (importance-weighted) of relied-on features an input may lack before it is flagged
    MISSING_SHARE = 0.05
    # targets whose interval widths judge a row, in this order of preference (at most two are read);
    # an NVPTX kernel is judged by a GPU target, the CPU ones do not apply to it
    WIDTH_TARGETS = ("machine_instructions", "text_bytes")
    GPU_WIDTH_TARGETS = ("gpu_registers_sm80",)

    def _width(self, target: str, X: np.ndarray) -> np.ndarray:
        """Width of the prediction interval: log units for a log-scale target, its own units otherwise."""
        bs = self.boosters_[target]
        return np.abs(self._raw(bs["hi"], X) - self._raw(bs["lo"], X))

    def _width_targets(self, gpu: bool = False) -> list[str]:
        have = [t for t in self.boosters_ if self.target_info_.get(t, {}).get("width_q90")]
        if gpu and any(t in have for t in self.GPU_WIDTH_TARGETS):
            return [t for t in self.GPU_WIDTH_TARGETS if t in have]
        return ([t for t in self.WIDTH_TARGETS if t in have] or have)[:2]

    def _width_ratios(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Each judging target's interval width over its training yardstick, 0 where it does not judge."""
        cpu, gpu = self._width_targets(), self._width_targets(gpu=True)
        kernel = np.zeros(len(X), dtype=bool)
        if gpu != cpu and "gpu.is_kernel" in self.feature_names_:
            with np.errstate(invalid="ignore"):
                kernel = X[:, self.feature_names_.index("gpu.is_kernel")] > 0
        use = {t: ~kernel for t in cpu}
        if kernel.any():
            for t in gpu:
                use[t] = use.get(t, np.zeros(len(X), dtype=bool)) | kernel
        ratio = {}
        for t, rows in use.items():
            if rows.all():   # the common case: no copy of X
                ratio[t] = self._width(t, X) / self.target_info_[t]["width_q90"]
            else:
                ratio[t] = np.zeros(len(X))
                if rows.any():
                    ratio[t][rows] = self._width(t, X[rows]) / self.target_info_[t]["width_q90"]
        return ratio

    def ood(self, X: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
        """Out-of-distribution score per row (flagged above ``ood_threshold``) and the reasons.

        The verdict is the model's own uncertainty: a row whose prediction interval is wider than
        that of 90% of the training functions, weighted as in the fit (score = width / that width; an
        NVPTX kernel is judged by its GPU register interval), checked against unseen
        packages of real code, where such rows have clearly larger errors than the rest (README).  A
        range check is not: functions larger than any in training are priced well by the size line,
        and were flagged with *smaller* errors than the rest.  Two rules stay: a feature the model
        relies on that the input lacks (an MLIR function has no LLVM features) flags the row (score
        = missing importance share / ``MISSING_SHARE``), and so does a feature 50 standard deviations
        from the training mean.  Out-of-range features are named in the reasons either way.

        Models saved before the interval verdict (no ``width_q90`` in their manifest) keep the range
        score: the importance-weighted share of out-of-range features, over ``MISSING_SHARE``.
        """
        self._check()
        span = self.feat_max_ - self.feat_min_
        margin = 0.1 * span + 1e-9
        nan = np.isnan(X)
        with np.errstate(invalid="ignore"):
            out = ((X < self.feat_min_ - margin) | (X > self.feat_max_ + margin)) & ~nan
        w = self.feat_weight_
        relied = w > 0
        missing = nan & relied
        ratio = self._width_ratios(X)
        widths = list(ratio)
        if widths:
            score = (missing @ w) / self.MISSING_SHARE
            for r in ratio.values():
                score = np.maximum(score, r)
        else:
            score = ((out | missing) @ w) / self.MISSING_SHARE
        scale = np.where(self.feat_std_ > 0, self.feat_std_, np.maximum(np.abs(self.feat_mean_), 1.0))
        z = np.abs(np.nan_to_num(X) - self.feat_mean_) / scale
        zmax = z.max(axis=1) if X.shape[1] else np.zeros(X.shape[0])
        far = zmax > 50
        score[far] = np.maximum(score[far], 2.0 * self.ood_threshold)
        # words only for the rows that have something to say: most rows of in-distribution input have none
        reasons: list[list[str]] = [[] for _ in range(X.shape[0])]
        wide = {t: r > 1.0 for t, r in ratio.items()}
        noted = missing.any(axis=1) | (out & relied).any(axis=1) | far
        for r in wide.values():
            noted |= r
        for i in np.flatnonzero(noted):
            r = reasons[i]
            for t in widths:
                if wide[t][i]:
                    r.append(f"the {t} interval is {ratio[t][i]:.1f}x wider than for 90% of the training "
                             "functions")
            mi = np.flatnonzero(missing[i])
            if len(mi):
                top = mi[np.argsort(-w[mi])][:3]
                r.append(f"{len(mi)} features the model relies on are missing "
                         f"({', '.join(self.feature_names_[j] for j in top)}...; trained on LLVM IR)")
            idx = np.flatnonzero(out[i] & relied)
            idx = idx[np.argsort(-w[idx])][:5]
            r += [f"{self.feature_names_[j]}={X[i, j]:g} outside training range "
                  f"[{self.feat_min_[j]:g}, {self.feat_max_[j]:g}]" for j in idx]
            if far[i]:
                j = int(z[i].argmax())
                if j not in idx:
                    r.append(f"{self.feature_names_[j]}={X[i, j]:g} is {z[i, j]:.0f} std from the training mean")
        return score, reasons

    def featurize(self, ir, *, path: str | None = None) -> tuple[list[str], np.ndarray]:
        """(function names, feature matrix in ``feature_names_`` order) of one module: LLVM IR or MLIR
        text, a path, or a parsed module.  LLVM IR is featurised in C (``irtoolkit.costmodel.features.feature_matrix``)."""
        self._check()
        _, names, X = F.feature_matrix(ir, self.feature_names_, path=path)
        return names, X

    def predict(self, ir, target: str | list[str] | None = None, *, path: str | None = None,
                pipeline: str | None = None) -> list[Prediction]:
        """Per-function predictions for one module (LLVM IR or MLIR text, a path, or a parsed module);
        an empty list for a module that defines no function (declarations only).

        MLIR text goes to the MLIR model saved beside this one (``<model>/mlir``, see
        :mod:`irtoolkit.costmodel.mlirmodel`), priced as lowered by ``pipeline`` (an ``mlir-opt --pass-pipeline``
        string; default ``irtoolkit.costmodel.dataset.mlirpairs.STANDARD_PIPELINE``)."""
        mlir = self._mlir_model(ir, path, pipeline)
        if mlir is not None:
            return mlir.predict(ir, pipeline, target, path=path)
        names, X = self.featurize(ir, path=path)
        return self.predict_rows(names, X, target) if names else []

    def predict_function(self, ir, function: str, target: str | None = None, *, path: str | None = None):
        """The prediction for one function of a module, by name: a :class:`Prediction`, or with
        ``target`` its value (``None`` where the target does not apply).  ``KeyError`` names the
        functions there are when ``function`` is not one of them.

            >>> model.predict_function(text, "dot", "spills")
        """
        preds = {p.function: p for p in self.predict(ir, target, path=path)}
        if function not in preds:
            raise KeyError(f"no function {function!r} defined here (there are: {', '.join(preds) or 'none'})")
        p = preds[function]
        return p if target is None else p.values[target].value

    # ---- MLIR input: dispatch to the MLIR model (irtoolkit.costmodel.mlirmodel), kept apart from the above
    def _mlir_model(self, ir, path: str | None, pipeline: str | None):
        """The MLIR model for MLIR text input (None for LLVM IR, or MLIR with no MLIR model beside this
        one and no ``pipeline`` asked for: then the LLVM model prices it and flags it)."""
        p, src = F.ir_input(ir)
        is_mlir = isinstance(src, str) and F.input_kind(src, path or p) == "mlir"
        if not is_mlir:
            if pipeline is not None:
                raise IrtoolsError("a pipeline applies to MLIR input; this is LLVM IR")
            return None
        if "_mlir" not in self.__dict__:
            from .mlirmodel import META, MlirCostModel

            folder = Path(getattr(self, "path_", "")) / "mlir"
            self._mlir = MlirCostModel.load(folder) if (folder / META).is_file() else None
        if self._mlir is None and pipeline is not None:
            raise IrtoolsError("this model has no MLIR model beside it (<model>/mlir): it cannot price a pipeline")
        return self._mlir

    def rank(self, ir, pipelines: list[str], target: str = "machine_instructions", *,
             function: str | None = None, path: str | None = None):
        """MLIR input: the ``pipelines`` ordered by predicted ``target``, cheapest first
        (:meth:`irtoolkit.costmodel.mlirmodel.MlirCostModel.rank`)."""
        mlir = self._mlir_model(ir, path, pipelines[0] if pipelines else None)
        if mlir is None:
            raise IrtoolsError("rank compares lowering pipelines of MLIR input; this is LLVM IR")
        return mlir.rank(ir, pipelines, target, function=function, path=path)

    def predict_batch(self, irs, target: str | list[str] | None = None) -> list[list[Prediction]]:
        """Predictions for many modules: features per module, one booster call per target for all."""
        per = [self.featurize(ir) for ir in irs]
        if not any(names for names, _ in per):
            return [[] for _ in per]
        flat = self.predict_rows([n for names, _ in per for n in names], np.vstack([X for _, X in per]), target)
        out, k = [], 0
        for names, _ in per:
            out.append(flat[k:k + len(names)])
            k += len(names)
        return out

    def predict_rows(self, names: list[str], X: np.ndarray, target: str | list[str] | None = None
                     ) -> list[Prediction]:
        """Predictions for rows of a feature matrix (columns in ``feature_names_`` order), one per name."""
        self._check()
        wanted = [target] if isinstance(target, str) else list(target or self.boosters_)
        cols = {}
        for t in wanted:
            p, lo, hi = self.predict_matrix(X, t)
            cols[t] = (p.tolist(), lo.tolist(), hi.tolist(), T.get(t).unit)
            # a target that does not apply to a row gives None: GPU figures only for NVPTX kernels
            gpu = T.get(t).domain == "gpu-static"
            gate = "gpu.is_kernel" if gpu else T.get(t).applies_if
            if gate in self.feature_names_:
                col = X[:, self.feature_names_.index(gate)]
                with np.errstate(invalid="ignore"):
                    # NaN: unknown, kept, except for GPU targets (MLIR and x86 functions are not kernels)
                    absent = np.flatnonzero(~(col > 0) if gpu else col <= 0)
                for c in cols[t][:3]:
                    for i in absent.tolist():
                        c[i] = None
        score, reasons = self.ood(X)
        flagged = (score > self.ood_threshold).tolist()
        score = score.tolist()
        return [Prediction(fn, {t: TargetPrediction(c[0][i], c[1][i], c[2][i], c[3]) for t, c in cols.items()},
                           flagged[i], score[i], reasons[i])
                for i, fn in enumerate(names)]

    def feature_importance(self, target: str, top: int = 20) -> list[tuple[str, float]]:
        self._check()
        g = np.asarray(self.boosters_[target]["point"].feature_importance("gain"), dtype=np.float64)
        tot = g.sum() or 1.0
        order = np.argsort(-g)[:top]
        return [(self.feature_names_[j], float(g[j] / tot)) for j in order if g[j] > 0]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model to the folder ``path`` (made if needed): each booster in LightGBM's
        own text format (gzip) and ``manifest.json`` (hyper-parameters, feature names, targets,
        versions).  No pickle.  Returns the folder; :meth:`load` reads it back to the same predictions."""
        self._check()
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        targets = {}
        for name, bs in self.boosters_.items():
            files = {}
            for kind, b in bs.items():
                # LightGBM's text format, gzipped (about 6x smaller: the shipped model stays small);
                # mtime 0 so that the same model gives the same bytes
                fname = f"{name}.{kind}.txt.gz"
                with open(out / fname, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                    gz.write(_compact(b.model_to_string()).encode())
                files[kind] = fname
            t = T.get(name)
            targets[name] = {"unit": t.unit, "domain": t.domain, "source": t.source, "log_scale": t.log_scale,
                             "description": t.description, "files": files, **self.target_info_[name],
                             "top_features": self.feature_importance(name, 10)}
        params = {k: getattr(self, k) for k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                                                "feature_fraction",
                                                "quantiles", "n_estimators_quantile", "ood_threshold",
                                                "random_state", "offset", "target_params")}
        params["quantiles"] = list(self.quantiles)
        params["targets"] = self.targets
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "params": params,
                    "feature_names": self.feature_names_, "targets": targets,
                    "feature_stats": {"min": self.feat_min_.tolist(), "max": self.feat_max_.tolist(),
                                      "mean": self.feat_mean_.tolist(), "std": self.feat_std_.tolist(),
                                      "weight": self.feat_weight_.tolist()},
                    "training": self.summary_, "versions": _versions()}
        tmp = out / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1) + "\n")
        os.replace(tmp, out / "manifest.json")
        return out

    @classmethod
    def load(cls, path: str | os.PathLike, targets: Sequence[str] | None = None) -> CostModel:
        """The model saved by :meth:`save` in the folder ``path``; ``ModelFormatError`` for a folder
        that is not one, or one written by an incompatible version.  ``targets`` loads only those
        targets' boosters (reading all 14 of the default model takes ~1.5 s; one, a tenth of that)."""
        import lightgbm as lgb

        p = Path(path)
        mf = p / "manifest.json"
        if not mf.is_file():
            raise ModelFormatError(f"{p} is not a cost-model folder (no manifest.json)")
        try:
            m = json.loads(mf.read_text())
        except json.JSONDecodeError as e:
            raise ModelFormatError(f"{mf}: not valid JSON ({e})") from None
        if m.get("format") != FORMAT or m.get("format_version") != FORMAT_VERSION:
            raise ModelFormatError(f"{mf}: format {m.get('format')} v{m.get('format_version')} is not "
                                   f"{FORMAT} v{FORMAT_VERSION}")
        params = dict(m["params"])
        params["quantiles"] = tuple(params["quantiles"])
        if not any("width_q90" in info for info in m["targets"].values()):
            # saved before the interval verdict: its threshold was a raw share of features
            params["ood_threshold"] = params["ood_threshold"] / cls.MISSING_SHARE
        self = cls(**params)
        self.feature_names_ = list(m["feature_names"])
        self.boosters_ = {}
        self.target_info_ = {}
        if targets is not None:
            unknown = sorted(set(targets) - set(m["targets"]))
            if unknown:
                raise ModelFormatError(f"{p}: no target {', '.join(unknown)}; it has {', '.join(m['targets'])}")
        for name, info in m["targets"].items():
            if targets is not None and name not in targets:
                continue
            bs = {}
            for kind, fname in info["files"].items():
                fp = p / fname
                if not fp.is_file():
                    raise ModelFormatError(f"{p}: booster file {fname} for target {name} is missing")
                if fname.endswith(".gz"):
                    bs[kind] = lgb.Booster(model_str=gzip.decompress(fp.read_bytes()).decode())
                else:
                    bs[kind] = lgb.Booster(model_file=str(fp))
            self.boosters_[name] = bs
            self.target_info_[name] = {k: info.get(k) for k in ("n_train", "label_min", "label_max", "label_mean",
                                                                 "offset", "width_q90")}
        st = m["feature_stats"]
        self.feat_min_, self.feat_max_ = np.array(st["min"]), np.array(st["max"])
        self.feat_mean_, self.feat_std_ = np.array(st["mean"]), np.array(st["std"])
        self.feat_weight_ = np.array(st["weight"])
        self.summary_ = m.get("training", {})
        self.versions_ = m.get("versions", {})
        self.path_ = str(p)
        return self


# Per-node statistics LightGBM writes but never reads to predict or to continue training (about 40% of
# the text); ``tree_sizes`` indexes the full text, so it goes too (LightGBM then reads trees in order).
# ``split_gain`` stays: feature importance by gain reads it.
_UNREAD = frozenset(("internal_value", "internal_weight", "internal_count", "leaf_weight", "leaf_count",
                     "tree_sizes"))


def _compact(text: str) -> str:
    """A booster's text without the fields LightGBM does not need to predict: the same trees, half the bytes."""
    return "\n".join(line for line in text.split("\n") if line.split("=", 1)[0] not in _UNREAD)


def _safe(name: str) -> str:
    # LightGBM rejects some characters in feature names (JSON specials); keep names readable
    return "".join(c if c.isalnum() or c in "._" else "_" for c in name)
