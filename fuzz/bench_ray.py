"""Throughput of a campaign with 1 and with 2 workers, as local fork servers and as Ray actors, in one run
(the machine's load moves between runs; its load average is recorded with each row).

    python -m irtoolkit.fuzz.bench_ray --time 90 --json results/fuzz_ray_throughput.json

Each row: cases run in the fuzzing budget (``execs_per_s``; start-up excluded: the budget starts once
every worker is up), the start-up (Ray's local cluster, then the workers), TVM functions covered, and
what the driver pays per case (the central merge a 64-node campaign would scale with): CPU seconds
of the campaign process per case, the share of it in judging and recording replies (``handle``), and
the size of a reply (its JSON, plus the new coverage sites a Ray reply carries).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def _measured():
    from .engine import Campaign

    class Measured(Campaign):
        """The campaign, timing its own per-reply work."""
        handle_s = 0.0
        reply_bytes = 0
        replies = 0

        def handle(self, req, reply):
            t = time.process_time()
            try:
                return super().handle(req, reply)
            finally:
                self.handle_s += time.process_time() - t
                self.replies += 1
                self.reply_bytes += len(json.dumps(reply)) + 8 * sum(reply.get("new_cov") or [0, 0])

    return Measured


def one(kind: str, workers: int, budget: float, seed: int) -> dict:
    Campaign = _measured()

    started_ray, t_ray = False, 0.0
    if kind == "ray":
        from .cluster import connect

        t0 = time.time()
        _, started_ray = connect("auto", workers)
        t_ray = time.time() - t0
    load0 = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="irtools-bench-") as d:
            camp = Campaign(Path(d) / "c", seed=seed, workers=workers, replay_findings=False,
                            ray="auto" if kind == "ray" else None)
            t0, cpu0 = time.time(), time.process_time()
            st = camp.run(budget, live=False)
            wall, cpu = time.time() - t0, time.process_time() - cpu0
    finally:
        if started_ray:
            import ray

            ray.shutdown()
    return {"pool": kind, "workers": workers, "budget_s": budget, "execs": st["execs"],
            "execs_per_s": round(st["execs"] / budget, 2), "execs_per_s_per_worker": round(st["execs"] / budget / workers, 2),
            "ray_init_s": round(t_ray, 1), "workers_start_and_close_s": round(wall - budget, 1),
            "driver_cpu_ms_per_case": round(1000 * cpu / max(1, st["execs"]), 2),
            "driver_handle_ms_per_case": round(1000 * camp.handle_s / max(1, camp.replies), 2),
            "reply_kb_mean": round(camp.reply_bytes / max(1, camp.replies) / 1024, 2),
            "cov_tvm": st["cov_own"], "findings": st["findings"], "per_worker": st["workers"],
            "load_avg_start": round(load0, 2), "load_avg_end": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m irtoolkit.fuzz.bench_ray", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time", type=float, default=90.0, help="fuzzing seconds per row (default 90)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", default="results/fuzz_ray_throughput.json")
    args = ap.parse_args(argv)
    rows = []
    for kind in ("local", "ray"):
        for workers in (1, 2):
            rows.append(one(kind, workers, args.time, args.seed))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "per_worker"}), flush=True)
    out = {"command": f"python -m irtoolkit.fuzz.bench_ray --time {args.time:g} --seed {args.seed}",
           "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "node": platform.node()},
           "rows": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
