"""Evaluate the shipped cost model on programs it has never seen, against baselines, in one run.

    .venv/bin/python benchmarks/costmodel_eval.py [--shards 5] [--out results/costmodel_eval.json]

Builds a fresh generated-C dataset from seeds far from the training seeds (``--seed-offset``), so every
program is unseen; reports MAPE, R², Kendall τ, pairwise accuracy, top-10 recall, interval coverage and
spill F1 for the model and for two baselines (predict the training mean; log-log fit on the IR
instruction count), plus the held-out figures recorded when the model was trained.  Writes JSON and a
scatter plot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=int, default=5, help="shards of 4 unseen programs")
    ap.add_argument("--seed-offset", type=int, default=100_000)
    ap.add_argument("--data", default=str(ROOT / "build" / "costmodel-eval"))
    ap.add_argument("--train-data", default=str(ROOT / "build" / "costmodel-dataset"),
                    help="the training dataset, for the baselines (skipped if absent)")
    ap.add_argument("--out", default=str(ROOT / "results" / "costmodel_eval.json"))
    args = ap.parse_args()

    from costmodel import load
    from costmodel.dataset.build import build
    from costmodel.evaluation import evaluate, load_dataset, scatter_plot

    model = load()
    build(args.data, shards=args.shards, per_shard=4, configs_per_program=3, seed_offset=args.seed_offset)
    rows, feats = load_dataset(args.data)
    tr_rows = tr_feats = None
    if Path(args.train_data, "shards").is_dir():
        tr_rows, tr_feats = load_dataset(args.train_data)
    result = {"unseen_programs": evaluate(model, rows, feats, train_rows=tr_rows, train_feats=tr_feats),
              "held_out_at_training": json.loads((Path(model_dir()) / "report.json").read_text())["evaluation"]
              if (Path(model_dir()) / "report.json").is_file() else None,
              "team_targets": {"spill_f1": ">= 0.9", "machine_instructions_mape": "<= 10%",
                               "text_bytes_mape": "<= 10%", "instructions_executed_mape": "<= 15%",
                               "gpu_registers_mae": "<= 4"}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    scatter_plot(model, rows, feats, out.with_suffix(".png"), "default model on unseen programs")
    for name, t in result["unseen_programs"]["targets"].items():
        m = t["model"]
        base = t.get("baseline_ir_inst_count", {}).get("mape")
        print(f"{name:24s} MAPE {m['mape']:.3f}  tau {m['kendall_tau']:.3f}  MAE {m['mae']:.3g}"
              + (f"  (IR-count baseline MAPE {base:.3f})" if base is not None else ""))
    sp = result["unseen_programs"]["targets"].get("spills", {}).get("model", {}).get("spill_classification")
    if sp:
        print(f"spill F1 {sp['f1']:.3f}")
    print(f"wrote {out}")
    return 0


def model_dir() -> Path:
    from costmodel import DEFAULT_MODEL

    return DEFAULT_MODEL


if __name__ == "__main__":
    sys.exit(main())
