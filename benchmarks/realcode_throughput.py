"""Throughput of the real-code corpus builder on Ray: the same packages built and labelled with 1 and
with 2 workers, one after the other, on this machine.

    nice -n 10 .venv/bin/python benchmarks/realcode_throughput.py [--packages zlib,lz4,bc,less]

Each run starts its own local Ray cluster with as many CPUs as workers and a fresh output folder;
the packages' build-dependencies are installed before the first timed run (a warm-up ``apt-get
build-dep``), so neither run pays for downloads.  Writes ``results/realcode_throughput.json``:
seconds, packages/hour and labelled functions/second per worker count, and the speed-up of 2 over 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packages", default="zlib,lz4,bc,less", help="comma-separated Debian source packages")
    ap.add_argument("--out", default=str(ROOT / "results" / "realcode_throughput.json"))
    args = ap.parse_args(argv)

    import ray

    from irtoolkit.costmodel.dataset.realcode import corpus, debian

    pkgs = [p for p in args.packages.split(",") if p]
    for p in pkgs:
        debian.check_allowed(p)
    debian.node_setup()
    with open(os.devnull, "w") as quiet:
        for p in pkgs:     # warm-up: the build-deps are on the machine before either timed run
            debian._apt(["build-dep", "-y", "--arch-only", p], 1800, quiet)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    runs = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="irtools-rc-bench-") as td:
            ray.init(num_cpus=workers, log_to_driver=False, include_dashboard=False)
            t0 = time.perf_counter()
            summary = corpus.Corpus(Path(td, "corpus")).run(pkgs, workers=workers, progress=False,
                                                             scratch=str(Path(td, "scratch")))
            dt = time.perf_counter() - t0
            ray.shutdown()
        runs[str(workers)] = {"seconds": round(dt, 1), "summary": summary,
                              "packages_per_hour": round(3600 * len(pkgs) / dt, 1),
                              "functions_per_second": round(summary.get("functions", 0) / dt, 2)}
        print(f"{workers} worker(s): {dt:.0f} s, {summary}", file=sys.stderr)
    res = {"packages": pkgs, "cpus": os.cpu_count(), "runs": runs, "load_average_after": os.getloadavg(),
           "speedup_2_over_1": round(runs["1"]["seconds"] / runs["2"]["seconds"], 2),
           "command": "benchmarks/realcode_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "runs"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
