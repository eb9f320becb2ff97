"""Fuzzer vs Tzer-like baselines, same budget, same machine, one run after the other.

    python benchmarks/fuzz_baselines.py --time 10m --workers 2 --out build/fuzz_baselines

Campaigns: ``full`` (this fuzzer: IR + pass-list mutation, targets, coverage feedback),
``random-passes`` (Tzer's baseline: random pass orders on the seeds, no feedback),
``random-targets`` (the same, with half of the cases compiled for a random one of the fuzzer's
targets: what target variety alone gives), ``ir-only`` (IR mutation with the default pipeline).
All run with the int3 tracer armed, so their coverage is measured the same way.

The figure to compare is the **pipeline** coverage: TVM functions that the compile pipeline
reached (the pass list, the default pipeline it is compared with, code generation), not those
only the fuzzer's own parsing, mutation, printing and oracles reached (``stages.bitmap``).  The
campaign count (all stages) is kept beside it.  Writes ``results.json`` (execs/s per core, both
coverages, ratios against each baseline, findings) and ``coverage.png`` (coverage over time).  No
threshold is asserted here: the numbers are for the report, taken on whatever load the machine
has (say so when quoting them).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def run_mode(mode: str, out: Path, budget: float, workers: int, seed: int) -> dict:
    from irtoolkit.fuzz.engine import Campaign

    if out.exists():
        shutil.rmtree(out)
    camp = Campaign(out, seed=seed, workers=workers, mode=mode, coverage=True)
    load_before = os.getloadavg()
    t0 = time.time()
    stats = camp.run(budget, live=False)
    wall = time.time() - t0
    load_after = os.getloadavg()
    with open(out / "plot_data.csv") as f:
        rows = list(csv.DictReader(f))
    return {
        "mode": mode, "budget_s": budget, "wall_s": wall, "workers": workers, "execs": stats["execs"],
        "execs_per_s": stats["execs"] / wall, "execs_per_s_per_core": stats["execs"] / wall / workers,
        "coverage_tvm": stats["cov_own"], "coverage_llvm": stats["cov_other"],
        "pipeline_tvm": stats.get("cov_pipeline_own", 0), "pipeline_llvm": stats.get("cov_pipeline_other", 0),
        "semantic": stats["semantic"],
        "findings": stats["findings"], "crashes": stats["crashes"], "corpus": stats["corpus"],
        "loadavg_before": load_before, "loadavg_after": load_after,
        "child_cpu_ms_per_case": 1000 * stats["stage_s"].get("cpu", 0.0) / max(1, stats["execs"]),
        "stage_ms_per_case": {k: round(1000 * v / max(1, stats["execs"]), 2) for k, v in stats["stage_s"].items()},
        "builds_skipped": stats["builds_skipped"], "by_op": stats["by_op"],
        "series": [[float(r["time"]), int(r["execs"]), int(r["coverage"]), int(r["coverage_llvm"]),
                    int(r.get("pipeline") or 0), int(r.get("pipeline_llvm") or 0)] for r in rows],
    }


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for r in results:
        t = [s[0] for s in r["series"]]
        line, = a.plot(t, [s[4] for s in r["series"]], label=r["mode"])
        a.plot(t, [s[2] for s in r["series"]], ls=":", color=line.get_color())
        b.plot(t, [s[4] + s[5] for s in r["series"]], label=r["mode"], color=line.get_color())
    a.set_title("TVM functions: compile pipeline (solid), all stages (dotted)")
    b.set_title("TVM + LLVM functions reached by the compile pipeline")
    for ax in (a, b):
        ax.set_xlabel("seconds")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    from irtoolkit.fuzz.cli import parse_duration

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time", default="10m", help="budget per campaign (default 10m)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "build" / "fuzz_baselines"))
    from irtoolkit.fuzz.engine import MODES

    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--results", default=str(ROOT / "results"),
                    help="also copy the JSON and the plot here as fuzz_baselines.{json,png} ('' for no copy)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budget = parse_duration(args.time)
    results = []
    for mode in args.modes.split(","):
        print(f"== {mode}: {budget:.0f} s on {args.workers} workers", flush=True)
        r = run_mode(mode, out / mode, budget, args.workers, args.seed)
        print(f"   execs {r['execs']} ({r['execs_per_s_per_core']:.2f}/s/core), pipeline coverage tvm "
              f"{r['pipeline_tvm']} llvm {r['pipeline_llvm']} (all stages: tvm {r['coverage_tvm']} llvm "
              f"{r['coverage_llvm']}), findings {r['findings']}, load {r['loadavg_before'][0]:.1f}"
              f"->{r['loadavg_after'][0]:.1f}", flush=True)
        results.append(r)
    by = {r["mode"]: r for r in results}
    summary = {"load_note": "measured on a shared 2-core machine under load from other users",
               "results": results}
    for base, key in (("random-passes", "random"), ("random-targets", "random_targets")):
        if "full" in by and base in by:
            f, rnd = by["full"], by[base]
            summary[f"pipeline_ratio_full_vs_{key}_tvm"] = f["pipeline_tvm"] / max(1, rnd["pipeline_tvm"])
            summary[f"pipeline_ratio_full_vs_{key}_all"] = (f["pipeline_tvm"] + f["pipeline_llvm"]) / max(
                1, rnd["pipeline_tvm"] + rnd["pipeline_llvm"])
            summary[f"coverage_ratio_full_vs_{key}_tvm"] = f["coverage_tvm"] / max(1, rnd["coverage_tvm"])
    summary.update(budget_s=budget, workers=args.workers, seed=args.seed, cpus=os.cpu_count())
    if "full" in by:
        summary["execs_per_s_per_core_full"] = by["full"]["execs_per_s_per_core"]
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    plot(results, out / "coverage.png")
    if args.results:
        res = Path(args.results)
        res.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "results.json", res / "fuzz_baselines.json")
        shutil.copyfile(out / "coverage.png", res / "fuzz_baselines.png")
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}, indent=1))
    print(f"wrote {out / 'results.json'} and {out / 'coverage.png'}" + (f" (and into {args.results})" if args.results else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
