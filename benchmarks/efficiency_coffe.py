"""A COFFE-style efficiency evaluation with real instruction counts.

For three tasks, several real implementations (naive Python, standard library, numba) are
measured with ``irtools.measure`` (callgrind here: exact counts; hardware counters where the CPU
has them).  Correctness is checked against the reference's result; then, per task:

* efficient@k (Peng et al. 2025, COFFE): a solution is efficient when correct and strictly
  cheaper than the best reference; the unbiased pass@k estimator over the solutions;
* DPS / DPS_norm (Liu et al. 2024, EvalPerf) against clusters of the correct solutions' counts;
* speed-up of every solution over the reference.

Writes ``efficiency_coffe.json`` and ``efficiency_coffe.png`` to --out (default results/).
Run: ``.venv/bin/python benchmarks/efficiency_coffe.py [--no-numba] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))   # efficiency_solutions must be importable by the measuring process

import efficiency_solutions as S  # noqa: E402

from irtools.measure import measure  # noqa: E402
from irtools.measure import metrics as M  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE.parent / "results"), help="output folder (default results/)")
    ap.add_argument("--no-numba", action="store_true", help="skip the numba solutions (slow under valgrind)")
    ap.add_argument("--backend", default="auto", choices=["auto", "perf", "callgrind"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    report = {"tasks": {}, "backend": None, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for task, (size, setup, setup_np, solutions, refs) in S.TASKS.items():
        rows = {}
        for name, func in solutions.items():
            is_numba = "numba" in name
            if is_numba and args.no_numba:
                continue
            t0 = time.monotonic()
            m = measure(f"efficiency_solutions:{func}", size, setup=f"efficiency_solutions:{setup_np if is_numba else setup}",
                        repeat=args.repeat, backend=args.backend, timeout=600)
            report["backend"] = m.backend
            rows[name] = {"instructions": m.instructions, "runs": m.runs, "result": m.result, "exact": m.exact,
                          "seconds": round(time.monotonic() - t0, 2), "function": func}
            print(f"{task:>15} {name:>17}: {m.instructions:>13,} instructions  result {m.result}", flush=True)
        expected = rows[refs[0]]["result"]
        for r in rows.values():
            r["correct"] = r["result"] == expected
        ref_counts = [rows[r]["instructions"] for r in refs]
        samples = [n for n in rows if n not in refs]
        correct = [rows[n]["correct"] for n in samples]
        counts = [rows[n]["instructions"] for n in samples]
        for n in rows:
            rows[n]["efficient"] = M.is_efficient(rows[n]["correct"], rows[n]["instructions"], ref_counts)
            rows[n]["speedup_vs_reference"] = ref_counts[0] / max(rows[n]["instructions"], 1)
        correct_counts = [rows[n]["instructions"] for n in rows if rows[n]["correct"]]
        clusters = M.cluster_references(correct_counts)
        for n in rows:
            d = M.dps(rows[n]["instructions"], clusters, rows[n]["correct"])
            rows[n].update(dps=d.dps, dps_norm=d.dps_norm)
        report["tasks"][task] = {
            "size": size, "references": refs, "solutions": rows,
            "efficient_at_1": M.efficient_at_k(correct, counts, ref_counts, 1),
            "efficient_at_3": M.efficient_at_k(correct, counts, ref_counts, 3),
            "pass_at_1": M.pass_at_k(len(correct), sum(correct), 1),
            "clusters": [{"counts": c.counts, "score": c.score} for c in clusters],
        }
        t = report["tasks"][task]
        print(f"{task:>15}: efficient@1 {t['efficient_at_1']:.3f}  efficient@3 {t['efficient_at_3']:.3f}  "
              f"pass@1 {t['pass_at_1']:.3f}", flush=True)

    (out / "efficiency_coffe.json").write_text(json.dumps(report, indent=1))
    plot(report, out / "efficiency_coffe.png")
    print(f"wrote {out / 'efficiency_coffe.json'} and {out / 'efficiency_coffe.png'}")
    return 0


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(report["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4.5))
    for ax, task in zip(axes, tasks, strict=True):
        rows = report["tasks"][task]["solutions"]
        names = sorted(rows, key=lambda n: rows[n]["instructions"])
        colors = ["tab:gray" if not rows[n]["correct"] else "tab:green" if rows[n]["efficient"]
                  else "tab:blue" if n in report["tasks"][task]["references"] else "tab:orange" for n in names]
        ax.barh(names, [max(rows[n]["instructions"], 1) for n in names], color=colors)
        ax.set_xscale("log")
        ax.set_xlabel(f"instructions ({report['backend']})")
        t = report["tasks"][task]
        ax.set_title(f"{task} (n={t['size']})\nefficient@1={t['efficient_at_1']:.2f}  "
                     f"efficient@3={t['efficient_at_3']:.2f}", fontsize=10)
    fig.suptitle("COFFE-style efficiency: green efficient, blue reference, orange correct but slower, "
                 "gray wrong", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
