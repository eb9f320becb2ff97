"""The folds every script here uses: a by-package k-fold split of the corpus's *training* packages only
(its test packages untouched), each test fold without the bodies (function_sha) a training fold has."""
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.realcode import evaluate as E


def training_folds(root: str, k: int):
    """(rows, X, package per row, [(train mask, test mask)] * k, union of the test masks)."""
    rows, X = E.split(root)["train"]
    pk = np.array([r["package"] for r in rows])
    fold = np.array([int(hashlib.sha256(("irtools-cv" + p).encode()).hexdigest()[:8], 16) % k for p in pk])
    sha = np.array([r["function_sha"] for r in rows])
    folds = [(fold != f, (fold == f) & ~np.isin(sha, sha[fold != f])) for f in range(k)]
    print(len(set(pk)), "training packages,", len(rows), "rows", flush=True)
    return rows, X, pk, folds, np.any([te for _, te in folds], axis=0)


def generated_training(targets):
    """The generated sources' training split as train_default fits it (features, labels of ``targets``,
    weights: TVM CPU rows at train_default's --tvm-cpu-weight 0.25, the rest 1), the same in every fold."""
    from irtoolkit.costmodel.evaluation import load_dataset, split_by_origin

    root = Path(__file__).resolve().parents[2] / "build"
    grows, gfeats = [], []
    for folder in ("costmodel-dataset", "costmodel-gpu", "costmodel-tvmcpu", "costmodel-mlir"):
        r, f = load_dataset(root / folder)
        grows, gfeats = grows + r, gfeats + f
    held = split_by_origin(grows)
    keep = [i for i in range(len(grows)) if not held[i] and any(t in grows[i]["labels"] for t in targets)]
    print(len(keep), "generated training rows", flush=True)
    return ([gfeats[i] for i in keep],
            [{t: v for t, v in grows[i]["labels"].items() if t in targets} for i in keep],
            [0.25 if grows[i]["source"] == "tvm-llvm" else 1.0 for i in keep])


def fold_rows(rows, X, train_mask, targets):
    """A fold's real training rows in train_default's row form: (rows, feature dicts)."""
    return E.training_rows([r for r, m in zip(rows, train_mask, strict=True) if m], X[train_mask], targets=targets)


def fit_shipped_way(gen, real, real_weight, targets, seed, target_params):
    """A model fitted as train_default fits: the generated rows ``gen`` (features, labels, weights) and the
    fold's real rows ``real`` (from :func:`fold_rows`) at ``real_weight``."""
    from irtoolkit.costmodel.features import FEATURE_NAMES
    from irtoolkit.costmodel.model import CostModel

    (gf, gl, gw), (rrows, rfeats) = gen, real
    return CostModel(targets=targets, random_state=seed, target_params=target_params).fit(
        gf + rfeats, gl + [r["labels"] for r in rrows], weights=gw + [real_weight] * len(rrows),
        feature_names=list(FEATURE_NAMES))


def labels(rows, targets):
    """Each target's labels as a float array over ``rows`` (NaN where a row has none)."""
    return {t: np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float) for t in targets}


def held_out_predictions(rows, X, folds, targets, variants, fit):
    """{(variant, target): predictions of each fold's held-out rows}, where ``fit(variant, real)`` fits a model
    on the fold's real training rows ``real`` (from :func:`fold_rows`)."""
    pred = {(v, t): np.full(len(rows), np.nan) for v in variants for t in targets}
    for f, (tr, te) in enumerate(folds):
        real = fold_rows(rows, X, tr, targets)
        for v in variants:
            t0 = time.time()
            m = fit(v, real)
            for t in targets:
                pred[(v, t)][te] = m.predict_matrix(X[te], t)[0]
            print("fold", f, v, round(time.time() - t0), flush=True)
    return pred


def mape(y, p, mask):
    """The MAPE of ``p`` on the rows of ``mask`` with a positive label, to five places."""
    ok = mask & (y > 0)
    return round(float(np.mean(np.abs(p[ok] - y[ok]) / y[ok])), 5)
