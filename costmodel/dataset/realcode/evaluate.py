"""The cost model on real code: features of a corpus, a split by package, figures against baselines.

The unit of the split is the Debian source package: no package has functions on both sides, and a
test function whose body (``function_sha``) also occurs in a training package (vendored gnulib,
copied helpers) is left out of the test rows.  Each
figure comes with, in the same run, the baselines the issue names: the best constant × IR instruction
count (one number fitted **on the test rows themselves**, so the baseline is as strong as a constant
can be), and predict-the-mean.  The out-of-distribution verdict is checked for meaning: the error of
flagged rows against unflagged ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ...evaluation import f1_positive, kendall_tau, regression_metrics
from ...features import FEATURE_NAMES, feature_matrix, source_digest

STATIC = ("machine_instructions", "text_bytes", "spills", "reloads", "stack_bytes", "mca_inner_loop_rthroughput")
EXECUTED = "instructions_executed"      # per call, from the package's test suite (``executed`` command)
LABELLED = (*STATIC, EXECUTED)
IR_COUNT = "ir.fp.TotalInstructionCount"
LO_EST = "lo.est"


def package_side(package: str, test_fraction: float = 0.3, salt: str = "irtools-realcode") -> bool:
    """True for a test package (a stable hash of its name: no RNG state, the same on every machine)."""
    h = int(hashlib.sha256((salt + package).encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < test_fraction


def _package_features(pdir: Path) -> tuple[list[dict], np.ndarray]:
    """Rows and the feature matrix of one labelled package, the features cached beside it."""
    import pyarrow.parquet as pq

    from irtools.errors import IrtoolsError

    rows = pq.read_table(pdir / "functions.parquet").to_pylist()
    _join_executed(pdir, rows)
    # keyed by every source that defines a feature (features.py, llfeatures.c, the parser...)
    cache = pdir / f"features-{source_digest()[:12]}.npz"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if len(z["keys"]) == len(rows) and z["X"].shape[1] == len(FEATURE_NAMES):   # not a stale build's
            return rows, z["X"]
    mods = pq.read_table(pdir / "modules.parquet", columns=["ir_sha256", "text"]).to_pylist()
    by_mod: dict[str, dict[str, np.ndarray]] = {}
    for m in mods:
        try:
            _kind, names, X = feature_matrix(m["text"])
        except IrtoolsError:
            continue
        by_mod[m["ir_sha256"]] = dict(zip(names, X, strict=True))
    X = np.full((len(rows), len(FEATURE_NAMES)), np.nan)
    for i, r in enumerate(rows):
        v = by_mod.get(r["ir_sha256"], {}).get(r["function"])
        if v is not None:
            X[i] = v
    np.savez_compressed(cache, X=X, keys=np.array([f"{r['ir_sha256'][:12]}:{r['function']}" for r in rows]))
    return rows, X


def _join_executed(pdir: Path, rows: list[dict]) -> None:
    """Each row's instructions executed per call, where the package's suite called that very body."""
    import pyarrow.parquet as pq

    f = pdir / "executed.parquet"
    per = {}
    if f.is_file():
        per = {(r["function"], r["function_sha"]): r[EXECUTED]
               for r in pq.read_table(f, columns=["function", "function_sha", EXECUTED]).to_pylist()}
    for r in rows:
        r[EXECUTED] = per.get((r["function"], r["function_sha"]))


def load(root: str | Path, packages: list[str] | None = None, *, progress: bool = False) -> tuple[list[dict], np.ndarray]:
    """(rows, features) of every labelled function of a corpus (rows the featuriser missed dropped)."""
    root = Path(root)
    dirs = sorted(d for d in (root / "packages").iterdir() if (d / "functions.parquet").is_file())
    if packages is not None:
        dirs = [d for d in dirs if d.name in set(packages)]
    all_rows, mats = [], []
    for d in dirs:
        rows, X = _package_features(d)
        ok = ~np.isnan(X).all(axis=1)
        all_rows += [r for r, k in zip(rows, ok, strict=True) if k]
        mats.append(X[ok])
    X = np.vstack(mats) if mats else np.zeros((0, len(FEATURE_NAMES)))
    return all_rows, X


def best_constant(x: np.ndarray, y: np.ndarray) -> float:
    """The c minimising mean |c·x − y| / y: a weighted median of y/x with weights x/y."""
    ok = (x > 0) & (y > 0)
    r, w = y[ok] / x[ok], x[ok] / y[ok]
    order = np.argsort(r)
    cw = np.cumsum(w[order])
    return float(r[order][np.searchsorted(cw, cw[-1] / 2)])


def evaluate(model, rows: list[dict], X: np.ndarray, *, targets=LABELLED) -> dict:
    """Figures of ``model`` on (rows, X) — X in :data:`FEATURE_NAMES` order — with the baselines."""
    Xm = X if list(model.feature_names_) == list(FEATURE_NAMES) else _reorder(X, model.feature_names_)
    ir = X[:, FEATURE_NAMES.index(IR_COUNT)]
    est = np.nan_to_num(X[:, FEATURE_NAMES.index(LO_EST)])
    ood_score, _ = model.ood(Xm)
    flagged = ood_score > model.ood_threshold
    out: dict = {"n_rows": len(rows), "packages": sorted({r["package"] for r in rows}),
                 "ood_rate": float(flagged.mean()) if len(rows) else None, "targets": {}}
    for t in targets:
        if t not in model.boosters_:
            continue
        y = np.array([np.nan if r.get(t) is None else r[t] for r in rows], dtype=float)
        m = np.isfinite(y)
        if m.sum() < 10:
            continue
        p, lo, hi = model.predict_matrix(Xm[m], t)
        ym = y[m]
        res = {"model": regression_metrics(ym, p, lo, hi)}
        c = best_constant(ir[m], ym)
        res["baseline_const_ir_count"] = {"c": c, **regression_metrics(ym, c * ir[m])}
        res["baseline_mean"] = regression_metrics(ym, np.full_like(ym, ym.mean()))
        # the analytic machine-instruction estimate of llfeatures.c, with the same fitted constant
        c_est = best_constant(est[m], ym)
        res["baseline_const_lo_est"] = {"c": c_est, **regression_metrics(ym, c_est * est[m])}
        fm = flagged[m]
        pos = ym > 0
        ape = np.where(pos, np.abs(p - ym) / np.where(pos, ym, 1), np.nan)
        res["ood"] = {"flagged": int(fm.sum()),
                      "mape_flagged": float(np.nanmean(ape[fm])) if (fm & pos).any() else None,
                      "mape_unflagged": float(np.nanmean(ape[~fm])) if (~fm & pos).any() else None}
        if t == "spills":
            res["spill_classification"] = f1_positive(ym, p)
        pk = np.array([r["package"] for r in rows])[m]
        res["per_package"] = {
            k: {"n": int((pk == k).sum()),
                "mape": float(np.nanmean(ape[(pk == k) & pos])) if ((pk == k) & pos).any() else None,
                "mape_baseline": float(np.mean(np.abs(c * ir[m][(pk == k) & pos] - ym[(pk == k) & pos])
                                               / ym[(pk == k) & pos])) if ((pk == k) & pos).any() else None}
            for k in sorted(set(pk))}
        res["kendall_tau"] = kendall_tau(ym, p)
        out["targets"][t] = res
    return out


def _reorder(X: np.ndarray, names: list[str]) -> np.ndarray:
    idx = {n: i for i, n in enumerate(FEATURE_NAMES)}
    out = np.full((X.shape[0], len(names)), np.nan)
    for j, n in enumerate(names):
        if n in idx:
            out[:, j] = X[:, idx[n]]
    return out


def fit_static(rows: list[dict], X: np.ndarray, *, targets=STATIC, **params):
    """A cost model fitted on real rows alone (what real data buys, in one run): the static targets,
    and instructions executed when asked."""
    from ...model import CostModel

    rows, feats = training_rows(rows, X, targets)
    return CostModel(targets=list(targets), **params).fit(feats, [r["labels"] for r in rows],
                                                          feature_names=list(FEATURE_NAMES))


def split(root: str | Path, *, test_fraction: float = 0.3) -> dict:
    """The corpus split by package: ``train``/``test`` as (rows, X), and the split's figures.

    Packages vendor the same code (gnulib in grep, sed, diffutils...): a test function whose body a
    training package also has is not unseen, and is left out of ``test``."""
    rows, X = load(root)
    side = np.array([package_side(r["package"], test_fraction) for r in rows], dtype=bool)
    train_rows = [r for r, t in zip(rows, side, strict=True) if not t]
    seen = {r["function_sha"] for r in train_rows}
    test = side & np.array([r["function_sha"] not in seen for r in rows], dtype=bool)
    test_rows = [r for r, t in zip(rows, test, strict=True) if t]
    figures = {"test_fraction": test_fraction,
               "train_packages": len({r["package"] for r in train_rows}),
               "test_packages": len({r["package"] for r in test_rows}),
               "train_rows": len(train_rows), "test_rows": len(test_rows),
               "test_rows_seen_in_training": int(side.sum() - test.sum()),
               "test_package_names": sorted({r["package"] for r in test_rows})}
    return {"train": (train_rows, X[~side]), "test": (test_rows, X[test]), "figures": figures}


def compare(root: str | Path, *, test_fraction: float = 0.3, out: str | Path | None = None,
            model=None, refit: bool = True) -> dict:
    """``model`` (default: the shipped one) and, with ``refit``, a model fitted on the training packages
    alone, on the test packages."""
    from irtoolkit import costmodel

    sp = split(root, test_fraction=test_fraction)
    (train_rows, Xtr), (test_rows, Xte) = sp["train"], sp["test"]
    res = {"corpus": str(root), "split": sp["figures"]}
    res["shipped_model"] = evaluate(model or costmodel.load(), test_rows, Xte)
    if refit and len(train_rows) >= 100:
        # the suites' counts join the fit where the training packages have enough of them
        with_ex = sum(r.get(EXECUTED) is not None for r in train_rows) >= 50
        res["realcode_model"] = evaluate(fit_static(train_rows, Xtr, targets=LABELLED if with_ex else STATIC),
                                         test_rows, Xte)
    if out:
        Path(out).write_text(json.dumps(res, indent=1, default=float) + "\n")
    return res


def training_rows(rows: list[dict], X: np.ndarray, targets=LABELLED) -> tuple[list[dict], list[dict]]:
    """Real-code rows in the generated datasets' row form (``source`` "realcode", ``origin`` the
    package) with their feature dicts, for :mod:`irtoolkit.costmodel.train_default`."""
    out, feats = [], []
    for r, x in zip(rows, X, strict=True):
        out.append({"source": "realcode", "origin": r["package"], "function": r["function"],
                    "family": r["lang"], "labels": {t: r[t] for t in targets if r.get(t) is not None}})
        feats.append({n: float(v) for n, v in zip(FEATURE_NAMES, x, strict=True) if v == v})
    return out, feats


def summary_lines(res: dict) -> list[str]:
    lines = [f"split by package: {res['split']}"]
    for which in ("shipped_model", "realcode_model"):
        if which not in res:
            continue
        for t, v in res[which]["targets"].items():
            line = (f"{which:15s} {t:28s} n={v['model']['n']:6d} MAPE {100 * v['model']['mape']:6.1f}%  "
                    f"const×IR {100 * v['baseline_const_ir_count']['mape']:6.1f}%  "
                    f"const×lo.est {100 * v['baseline_const_lo_est']['mape']:6.1f}%  mean "
                    f"{100 * v['baseline_mean']['mape']:6.1f}%  τ {v['kendall_tau']:.2f}")
            if "spill_classification" in v:
                line += f"  spill F1 {v['spill_classification']['f1']:.3f}"
            o = v["ood"]
            if o["mape_flagged"] is not None and o["mape_unflagged"] is not None:
                line += f"  OOD {o['flagged']}: {100 * o['mape_flagged']:.1f}% vs {100 * o['mape_unflagged']:.1f}%"
            lines.append(line)
    return lines
