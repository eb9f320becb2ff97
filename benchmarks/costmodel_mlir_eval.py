"""Evaluate the MLIR cost model (high-level MLIR + pipeline → cost of the lowered code) in one run.

    nice -n 10 .venv/bin/python -m irtoolkit.costmodel.dataset.mlirpairs build build/mlirpairs --programs 250 --configs 10
    nice -n 10 .venv/bin/python -m irtoolkit.costmodel.dataset.mlirpairs build build/mlirpairs_small --programs 100 \
        --configs 4 --first-seed 500000 --families small
    nice -n 10 .venv/bin/python -m irtoolkit.costmodel.dataset.mlirgpu build build/mlirgpu --programs 200 --configs 5
    nice -n 10 .venv/bin/python -m irtoolkit.costmodel.dataset.mlirpairs ranking build/mlirrank --programs 10 --configs 20
    nice -n 10 .venv/bin/python -m irtoolkit.costmodel.dataset.mlirpairs corpus build/mlircorpus
    nice -n 10 .venv/bin/python -m irtoolkit.costmodel.mlirmodel train build/mlirpairs build/mlirpairs_b \
        build/mlirpairs_small build/mlirpairs_dyn build/mlirgpu
    nice -n 10 .venv/bin/python benchmarks/costmodel_mlir_eval.py

Sections (all in ``results/costmodel_mlir_eval.json``):

heldout   Generated programs split by program (seeds that are multiples of 5, never trained on):
          MAPE, median APE and Kendall τ per target, per family; against a fitted constant × op count of
          the MLIR function (fitted on the training programs) and against the LLVM-IR model given the
          same MLIR text.  The same figures on the training rows are reported as a smoke test only.
ranking   10 held-out single-kernel linalg programs (seeds 900000+), 20 tile/vector/unroll pipelines
          each that mlir-opt-22 lowers: Kendall τ between predicted and measured machine instructions
          per program, and the measured cost of the predicted-best pipeline against the measured best.
corpus    Functions of the public corpus (``../shared/corpus/mlir``) that the standard pipeline lowers:
          MAPE of the model and of the op-count baseline (fitted on the generated training rows; and,
          for reference, fitted on the corpus itself, in sample), and the share flagged out of distribution.
ood       Share flagged out of distribution: held-out generated functions, corpus functions, and corpus
          functions in dialects outside the upstream CPU set (hw, handshake, calyx, torch...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import machine, write_json  # noqa: E402
from irtoolkit.costmodel import mlirmodel  # noqa: E402
from irtoolkit.costmodel.dataset.mlirpairs import load_rows  # noqa: E402

TARGETS = ("machine_instructions", "text_bytes", "instructions_executed", "gpu_registers_sm80", "gpu_registers_sm90")


def kendall(a, b) -> float | None:
    from scipy.stats import kendalltau

    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(kendalltau(a, b).statistic)


def _metrics(y: np.ndarray, p: np.ndarray) -> dict:
    ape = np.abs(p - y) / y
    return {"n": len(y), "mape": float(ape.mean() * 100), "median_ape": float(np.median(ape) * 100),
            "mae": float(np.mean(np.abs(p - y))), "kendall_tau": kendall(y, p)}


def _predict_rows(model, rows: list[dict]) -> dict[str, np.ndarray]:
    """Predictions per target for dataset rows, one featurisation per (source, pipeline); the rows'
    labels become those the model learns (:func:`irtoolkit.costmodel.mlirmodel.row_labels`)."""
    feats = mlirmodel.row_features(rows)
    for r, lab in zip(rows, mlirmodel.row_labels(rows, feats), strict=True):
        r["labels"] = lab
    from irtoolkit.costmodel import features as F

    X = F.to_matrix(feats, model.model_.feature_names_)
    out = {t: model.model_.predict_matrix(X, t)[0] for t in TARGETS if t in model.model_.boosters_}
    score, _ = model.model_.ood(X)
    out["ood"] = score > model.model_.ood_threshold
    out["ops"] = X[:, model.model_.feature_names_.index("mlir.ops")]
    return out


def _opcount_fit(ops: np.ndarray, y: np.ndarray) -> float:
    """c in y ≈ c × ops, least squares on relative error (the figure MAPE measures)."""
    w = 1.0 / y
    return float(np.sum(w * w * ops * y) / np.sum(w * w * ops * ops))


def _llvm_model_on_text(rows: list[dict]) -> dict[str, np.ndarray]:
    """What `irtools cost` printed before this model: the LLVM-IR model on the MLIR text."""
    from irtoolkit import costmodel

    m = costmodel.load()
    cache: dict[str, dict] = {}
    out = {t: np.full(len(rows), np.nan) for t in TARGETS}
    for i, r in enumerate(rows):
        if r["source"] not in cache:
            cache[r["source"]] = {p.function: p for p in _llvm_predict(m, r["source"])}
        p = cache[r["source"]].get(r["function"])
        if p is not None:
            for t in TARGETS:
                if t in p.values and p.values[t].value is not None:
                    out[t][i] = p.values[t].value
    return out


def _llvm_predict(m, text: str):
    """The LLVM-IR model's own predictions for MLIR text (what it did before the MLIR model existed:
    its featurisation of the MLIR, not the dispatch to ``<model>/mlir``)."""
    names, X = m.featurize(text)
    return m.predict_rows(names, X, [t for t in TARGETS if t in m.boosters_]) if names else []


def heldout(model, rows: list[dict], every: int) -> dict:
    train, test = mlirmodel.split_by_program(rows, every)
    pt, pr = _predict_rows(model, test), _predict_rows(model, train)
    llvm = _llvm_model_on_text(test)
    res: dict = {"programs_train": len({r["seed"] for r in train}), "programs_test": len({r["seed"] for r in test}),
                 "rows_train": len(train), "rows_test": len(test), "targets": {}}
    fams = np.array([r["family"] for r in test])
    for t in TARGETS:
        if t not in pt:
            continue
        yt = np.array([r["labels"].get(t, np.nan) for r in test], dtype=float)
        yr = np.array([r["labels"].get(t, np.nan) for r in train], dtype=float)
        mt, mr = np.nan_to_num(yt) > 0, np.nan_to_num(yr) > 0
        c = _opcount_fit(pr["ops"][mr], yr[mr])
        lm = mt & np.isfinite(llvm[t])
        res["targets"][t] = {
            "model": _metrics(yt[mt], pt[t][mt]),
            "baseline_opcount": {**_metrics(yt[mt], c * pt["ops"][mt]), "c": c},
            "baseline_mean": _metrics(yt[mt], np.full(mt.sum(), float(np.mean(yr[mr])))),
            "llvm_model_on_mlir_text": _metrics(yt[lm], llvm[t][lm]),
            "smoke_test_training_rows": _metrics(yr[mr], pr[t][mr]),
            "by_family": {f: _metrics(yt[mt & (fams == f)], pt[t][mt & (fams == f)])
                          for f in sorted(set(fams)) if (mt & (fams == f)).sum() > 1},
        }
    res["ood_share_heldout"] = float(pt["ood"].mean())
    return res


def ranking(model, rows: list[dict], target: str = "machine_instructions") -> dict:
    by: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        by[r["seed"]].append(r)
    per = []
    for _seed, rs in sorted(by.items()):
        src, fn = rs[0]["source"], rs[0]["function"]
        pipes = [r["pipeline"] for r in rs]
        measured = {r["pipeline"]: r["labels"][target] for r in rs}
        ranked = model.rank(src, pipes, target, function=fn)
        pred = {r.pipeline: r.value for r in ranked}
        y = np.array([measured[p] for p in pipes])
        p = np.array([pred[q] for q in pipes])
        best = float(y.min())
        chosen = measured[ranked[0].pipeline]
        per.append({"program": rs[0]["program"], "family": rs[0]["family"], "function": fn, "pipelines": len(pipes),
                    "kendall_tau": kendall(y, p), "measured_best": best, "measured_of_predicted_best": chosen,
                    "regret": chosen / best - 1, "mape": float(np.mean(np.abs(p - y) / y) * 100)})
    taus = [x["kendall_tau"] for x in per if x["kendall_tau"] is not None]
    return {"target": target, "programs": per, "mean_kendall_tau": float(np.mean(taus)) if taus else None,
            "min_kendall_tau": float(np.min(taus)) if taus else None,
            "programs_best_within_10pct": sum(x["regret"] <= 0.10 for x in per),
            "mean_regret": float(np.mean([x["regret"] for x in per])),
            "baseline_opcount": "an op count is the same for every pipeline of a program: it cannot rank them "
                                "(τ undefined, predicted best = an arbitrary pipeline)"}


def corpus(model, rows: list[dict], train_rows: list[dict]) -> dict:
    pc, pr = _predict_rows(model, rows), _predict_rows(model, train_rows)
    llvm = _llvm_model_on_text(rows)
    res: dict = {"functions": len(rows), "files": len({r["file"] for r in rows}),
                 "by_project": {k: sum(r["file"].startswith(k + "/") for r in rows)
                                for k in ("circt", "xdsl", "torch-mlir")}, "targets": {}}
    for t in ("machine_instructions", "text_bytes"):
        y = np.array([r["labels"].get(t, np.nan) for r in rows], dtype=float)
        yr = np.array([r["labels"].get(t, np.nan) for r in train_rows], dtype=float)
        m, mr = np.nan_to_num(y) > 0, np.nan_to_num(yr) > 0
        c_gen = _opcount_fit(pr["ops"][mr], yr[mr])
        c_self = _opcount_fit(pc["ops"][m], y[m])
        lm = m & np.isfinite(llvm[t])
        indist = m & ~pc["ood"]
        res["targets"][t] = {
            "model": _metrics(y[m], pc[t][m]),
            "model_in_distribution_only": _metrics(y[indist], pc[t][indist]) if indist.sum() > 1 else None,
            "baseline_opcount_fitted_on_generated": {**_metrics(y[m], c_gen * pc["ops"][m]), "c": c_gen},
            "baseline_opcount_fitted_on_corpus_in_sample": {**_metrics(y[m], c_self * pc["ops"][m]), "c": c_self},
            "llvm_model_on_mlir_text": _metrics(y[lm], llvm[t][lm]),
        }
    res["ood_share"] = float(pc["ood"].mean())
    return res


def unfamiliar(model, root: Path, limit: int = 40) -> dict:
    """Share flagged among corpus functions whose dialects are outside the upstream CPU set."""
    from irtoolkit.costmodel.dataset.mlirpairs import _CPU_DIALECTS

    acc = (root / "ACCEPTED-mlir-opt-22.txt").read_text().splitlines()
    flagged = n = files = 0
    examples = []
    for line in acc:
        status, _, rel = line.partition(" ")
        if status != "OK" or files >= limit:
            continue
        try:
            text = (root / rel).read_text()
            preds = model.predict(text, path=str(root / rel))
        except Exception:       # noqa: BLE001 — a file our parser rejects is not this section's question
            continue
        names, _, dias = model.featurize(text, path=str(root / rel))
        keep = [p for p, d in zip(preds, dias, strict=True) if d and not d <= _CPU_DIALECTS]
        if not keep:
            continue
        files += 1
        for p in keep:
            n += 1
            flagged += int(p.ood)
            if len(examples) < 5:
                examples.append({"file": rel, "function": p.function, "ood": p.ood, "reasons": p.ood_reasons[:2]})
    return {"files": files, "functions": n, "ood_share": flagged / max(n, 1), "examples": examples}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", default=["build/mlirpairs", "build/mlirpairs_b", "build/mlirpairs_small",
                                                  "build/mlirpairs_dyn", "build/mlirgpu"])
    ap.add_argument("--ranking-data", default="build/mlirrank")
    ap.add_argument("--corpus-data", default="build/mlircorpus")
    ap.add_argument("--corpus-root", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus" / "mlir"))
    ap.add_argument("--model", default=None, help="MLIR model folder (default: the shipped one)")
    ap.add_argument("--holdout-every", type=int, default=5)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    t0 = time.time()
    model = mlirmodel.load(a.model)
    held = model.model_.summary_.get("held_out", "")
    if f"multiples of {a.holdout_every}" not in held:
        raise SystemExit(f"the model's training summary does not hold out seeds that are multiples of "
                         f"{a.holdout_every} ({held!r}): retrain it with python -m irtoolkit.costmodel.mlirmodel train")
    rows = [r for d in a.data if Path(d).is_dir() for r in load_rows(d)]
    train, _ = mlirmodel.split_by_program(rows, a.holdout_every)
    out = {"machine": machine(), "model": a.model or str(mlirmodel.DEFAULT_MLIR_MODEL),
           "training": model.model_.summary_}
    out["heldout"] = heldout(model, rows, a.holdout_every)
    print(json.dumps({t: v["model"] for t, v in out["heldout"]["targets"].items()}), file=sys.stderr)
    if Path(a.ranking_data).is_dir():
        rrows = load_rows(a.ranking_data)
        out["ranking"] = ranking(model, rrows)
        print(json.dumps({k: v for k, v in out["ranking"].items() if k != "programs"}), file=sys.stderr)
        if "instructions_executed" in model.model_.boosters_ and all(
                "instructions_executed" in r["labels"] for r in rrows):
            out["ranking_executed"] = ranking(model, rrows, "instructions_executed")
            print(json.dumps({k: v for k, v in out["ranking_executed"].items() if k != "programs"}), file=sys.stderr)
    if Path(a.corpus_data).is_dir():
        out["corpus"] = corpus(model, load_rows(a.corpus_data), train)
        print(json.dumps({t: v["model"] for t, v in out["corpus"]["targets"].items()}), file=sys.stderr)
    out["ood"] = {"heldout_generated": out["heldout"]["ood_share_heldout"],
                  "corpus_cpu_dialects": out.get("corpus", {}).get("ood_share"),
                  "corpus_other_dialects": unfamiliar(model, Path(a.corpus_root))}
    out["seconds"] = round(time.time() - t0, 1)
    p = write_json("costmodel_mlir_eval", out, a.out)
    print(f"wrote {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
