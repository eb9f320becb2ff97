"""Loading a dataset for training, splitting it by origin program, and the metrics reports use.

Splits are by *origin program*: every compile configuration of a program lands on the same side, so a
test score measures programs the model has never seen, not another -O level of a known one.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

from . import targets as T
from .dataset.build import load_rows
from .features import module_features

IR_COUNT = "ir.fp.TotalInstructionCount"     # the static IR-count baseline's one feature


def _feature_cache(path: Path) -> tuple[Path, dict]:
    """Features already computed for this dataset by this version of every source that defines them."""
    from . import features

    version = features.source_digest()
    f = path / f"features-{version}.json"
    if f.is_file():
        try:
            return f, json.loads(f.read_text())
        except json.JSONDecodeError:
            pass
    return f, {}


def load_dataset(path: str | Path, *, progress: bool = False, cache: bool = True):
    """(rows, features) for every row of a dataset folder whose function the parser found.

    A module the parser rejects is skipped with a note on stderr (its rows are dropped, not guessed).
    Features are kept next to the dataset, keyed by a hash of every source that defines them (``features.source_digest``), so retraining does
    not parse everything again.
    """
    import sys

    from irtools.errors import IrtoolsError

    path = Path(path)
    rows = load_rows(path)
    cache_file, cached = _feature_cache(path) if cache else (None, {})
    cache_: dict[str, dict] = {}
    out_rows, feats = [], []
    for r in rows:
        key = r["ir_file"]
        if key not in cache_:
            if key in cached:
                cache_[key] = cached[key]
            else:
                try:
                    cache_[key] = module_features(Path(path, key))
                except IrtoolsError as e:
                    print(f"skipped {key}: {str(e).splitlines()[0]}", file=sys.stderr)
                    cache_[key] = {}
        f = cache_[key].get(r["function"])
        if f is not None:
            out_rows.append(r)
            feats.append(f)
    if cache_file is not None and set(cache_) - set(cached):
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache_))
        tmp.replace(cache_file)
    return out_rows, feats


def split_by_origin(rows: list[dict], *, test_fraction: float = 0.2, salt: str = "irtools") -> np.ndarray:
    """Boolean mask of test rows; a program's side is fixed by a hash of its name (stable, no RNG state)."""
    def side(origin: str) -> bool:
        h = int(hashlib.sha256((salt + origin).encode()).hexdigest()[:8], 16)
        return h / 0xFFFFFFFF < test_fraction
    return np.array([side(r["origin"]) for r in rows])


def unseen_rows(rows: list[dict], feats: list[dict], model) -> tuple[list[dict], list[dict], int]:
    """The rows whose origin program ``model`` was not trained on, and how many were left out.

    Fresh seeds give fresh C programs, but a TVM workload (``tvm_matmul_float32_512x64x64``) recurs
    across seeds with other (or the same) schedules: such rows are variants of a training program."""
    if "train_origins" not in model.summary_:
        print("note: the model does not list its training programs (trained before they were recorded): "
              "no fresh-seed row is left out", file=sys.stderr)
    seen = set(model.summary_.get("train_origins", []))
    keep = [i for i, r in enumerate(rows) if r["origin"] not in seen]
    return [rows[i] for i in keep], [feats[i] for i in keep], len(rows) - len(keep)


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    if len(a) < 2:
        return float("nan")
    return float(kendalltau(a, b).statistic)


def pairwise_accuracy(y: np.ndarray, p: np.ndarray, *, max_pairs: int = 200_000, seed: int = 0) -> float:
    """Share of pairs with different true values whose order the prediction gets right."""
    rng = np.random.default_rng(seed)
    n = len(y)
    if n < 2:
        return float("nan")
    i = rng.integers(0, n, size=max_pairs)
    j = rng.integers(0, n, size=max_pairs)
    keep = y[i] != y[j]
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return float("nan")
    return float(np.mean(np.sign(y[i] - y[j]) == np.sign(p[i] - p[j])))


def top_k_recall(y: np.ndarray, p: np.ndarray, k: int = 10) -> float:
    """Of the k most costly functions, how many are among the k the model ranks most costly."""
    k = min(k, len(y))
    if k == 0:
        return float("nan")
    return len(set(np.argsort(-y)[:k]) & set(np.argsort(-p)[:k])) / k


def regression_metrics(y: np.ndarray, p: np.ndarray, lo: np.ndarray | None = None,
                       hi: np.ndarray | None = None) -> dict:
    y, p = np.asarray(y, float), np.asarray(p, float)
    pos = y > 0
    res = {
        "n": int(len(y)),
        "mae": float(np.mean(np.abs(y - p))),
        "mape": float(np.mean(np.abs(y[pos] - p[pos]) / y[pos])) if pos.any() else float("nan"),
        "median_ape": float(np.median(np.abs(y[pos] - p[pos]) / y[pos])) if pos.any() else float("nan"),
        "r2": float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)) if np.var(y) > 0 else float("nan"),
        "r2_log": (float(1 - np.sum((np.log1p(y) - np.log1p(np.maximum(p, 0))) ** 2)
                         / np.sum((np.log1p(y) - np.log1p(y).mean()) ** 2)) if np.var(np.log1p(y)) > 0
                   else float("nan")),
        "kendall_tau": kendall_tau(y, p),
        "pairwise_accuracy": pairwise_accuracy(y, p),
        "top10_recall": top_k_recall(y, p, 10),
    }
    if lo is not None and hi is not None:
        res["interval_coverage"] = float(np.mean((y >= np.asarray(lo) - 1e-9) & (y <= np.asarray(hi) + 1e-9)))
    return res


def f1_positive(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict:
    t, q = np.asarray(y) > threshold, np.asarray(p) > threshold
    tp, fp, fn = int(np.sum(t & q)), int(np.sum(~t & q)), int(np.sum(t & ~q))
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
    return {"f1": f1, "precision": prec, "recall": rec, "positives": int(t.sum()), "n": int(len(t))}


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def evaluate(model, rows: list[dict], feats: list[dict], *, train_rows: list[dict] | None = None,
             train_feats: list[dict] | None = None) -> dict:
    """Per-target metrics of ``model`` on (rows, feats) plus the baselines, as one JSON-able dict.

    Baselines: predict-the-training-mean, and the static IR instruction count (a log-log linear fit of
    the target on the function's IR instruction count, on the training rows).
    """
    from .features import to_matrix

    X = to_matrix(feats, model.feature_names_)
    ood_score, _ = model.ood(X)
    out: dict = {"n_rows": len(rows), "n_origins": len({r["origin"] for r in rows}),
                 "ood_rate": float(np.mean(ood_score > model.ood_threshold)), "targets": {}}
    for name in model.target_names:
        idx = [i for i, r in enumerate(rows) if name in r["labels"]]
        if len(idx) < 2:
            continue
        y = np.array([rows[i]["labels"][name] for i in idx])
        p, lo, hi = model.predict_matrix(X[idx], name)
        t: dict = {"unit": T.get(name).unit, "model": regression_metrics(y, p, lo, hi)}
        if name in ("spills", "reloads", "gpu_spill_bytes_sm90"):
            t["model"]["spill_classification"] = f1_positive(y, p)
        if train_rows is not None and train_feats is not None:
            ytr = np.array([r["labels"][name] for r in train_rows if name in r["labels"]])
            ntr = np.array([f[IR_COUNT] for r, f in zip(train_rows, train_feats, strict=True)
                            if name in r["labels"]])
            t["baseline_mean"] = regression_metrics(y, np.full(len(y), ytr.mean()))
            a, b = np.polyfit(np.log1p(ntr), np.log1p(ytr), 1)
            nte = np.array([feats[i][IR_COUNT] for i in idx])
            base = np.expm1(a * np.log1p(nte) + b)
            t["baseline_ir_inst_count"] = regression_metrics(y, base)
            if name in ("spills", "reloads"):
                t["baseline_mean"]["spill_classification"] = f1_positive(y, np.full(len(y), ytr.mean()))
        out["targets"][name] = t
    return _clean(out)


def scatter_plot(model, rows, feats, path: str | Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .features import to_matrix

    names = model.target_names
    X = to_matrix(feats, model.feature_names_)
    cols = 3
    nrows = -(-len(names) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.8 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        idx = [i for i, r in enumerate(rows) if name in r["labels"]]
        if not idx:
            continue
        y = np.array([rows[i]["labels"][name] for i in idx])
        p, _, _ = model.predict_matrix(X[idx], name)
        ax.scatter(y + 1, p + 1, s=6, alpha=0.5)
        lim = [1, max(y.max(), p.max()) + 2]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name} ({T.get(name).unit})", fontsize=9)
        ax.set_xlabel("label + 1")
        ax.set_ylabel("predicted + 1")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
