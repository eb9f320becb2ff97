"""Overhead of counting, per backend, against the same work run natively in this process.

For each available backend (perf, callgrind) and each workload (Python: an empty call, an
interpreted loop, a sort; native: a C loop of 0 and of 1M iterations called through the
trampoline) it records:
  * native_cpu_ns: the workload's own CPU time here (minimum of several calls);
  * region_cpu_ns: the CPU time of one measured region in the measuring process (median), which
    includes switching the counters and, for callgrind, writing and parsing a dump;
  * slowdown = region / native, and slowdown_net = (region - the empty region of the same kind)
    / native: the cost of running instrumented, without the fixed per-region cost;
  * call_s: wall time of the whole measure() call (process start, imports, warm-up,
    calibration, repeats): what one count costs;
  * instructions and the subtracted empty-region overhead (baseline) in instructions.
CPU times, not wall times, so that the shared machine's load does not inflate the ratios.
Writes results/count_overhead.json (or --out).  Run: ``.venv/bin/python benchmarks/count_overhead.py``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import count_workloads as W  # noqa: E402

from irtools.measure import measure, measure_native, runner  # noqa: E402


def native_cpu_ns(fn, args, reps=7) -> int:
    fn(*args)
    best = None
    for _ in range(reps):
        t0 = time.process_time_ns()
        fn(*args)
        dt = time.process_time_ns() - t0
        best = dt if best is None else min(best, dt)
    return max(best, 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE.parent / "results"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    avail = runner.available_backends()
    report = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
              "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
              "backends": {b: ("available" if why is None else f"unavailable: {why}") for b, why in avail.items()},
              "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        xs = W.ints(20_000)
        # (name, group, reference, args, setup, native callable)
        workloads = [
            ("empty_call", "python", "count_workloads:empty", [], None, lambda: native_cpu_ns(W.empty, ())),
            ("py_loop_20k", "python", "count_workloads:py_loop", [20_000], "count_workloads:ints",
             lambda: native_cpu_ns(W.py_loop, xs)),
            ("py_sort_20k", "python", "count_workloads:py_sort", [20_000], "count_workloads:ints",
             lambda: native_cpu_ns(W.py_sort, xs)),
        ]
        cc = shutil.which("cc")
        if cc:
            (Path(tmp) / "loop.c").write_text(W.LOOP_C)
            so = Path(tmp) / "libloop.so"
            subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(so), str(Path(tmp) / "loop.c")], check=True)
            spin = ctypes.CDLL(str(so)).spin
            spin.restype, spin.argtypes = ctypes.c_int64, [ctypes.c_int64]
            workloads += [
                ("c_loop_0", "native", f"{so}:spin", [0], None, lambda: native_cpu_ns(spin, (0,))),
                ("c_loop_1M", "native", f"{so}:spin", [1_000_000], None, lambda: native_cpu_ns(spin, (1_000_000,))),
            ]
        for backend, why in avail.items():
            if why is not None:
                continue
            empty: dict[str, float] = {}
            for name, group, ref, wargs, setup, native in workloads:
                t0 = time.monotonic()
                if group == "native":
                    m = measure_native(ref, *wargs, signature="i64(i64)", backend=backend, repeat=args.repeat)
                else:
                    m = measure(ref, *wargs, setup=setup, backend=backend, repeat=args.repeat)
                call_s = time.monotonic() - t0
                nat = native()
                region = statistics.median(m.region_cpu_ns)
                first = group not in empty
                empty.setdefault(group, region)
                row = {"backend": backend, "workload": name, "group": group, "instructions": m.instructions,
                       "baseline": m.baseline, "exact": m.exact, "spread": m.spread, "native_cpu_ns": nat,
                       "region_cpu_ns": region, "region_wall_ns": statistics.median(m.region_ns),
                       "slowdown": region / nat,
                       "slowdown_net": None if first else (region - empty[group]) / nat,
                       "call_s": round(call_s, 2)}
                report["results"].append(row)
                net = "" if first else f" (net x{row['slowdown_net']:.0f})"
                print(f"{backend:>9} {name:>12}: {m.instructions:>12,} instr (overhead {m.baseline:,} subtracted)  "
                      f"native {nat / 1e3:9.1f} us  region {region / 1e3:9.1f} us cpu  x{row['slowdown']:.0f}{net}  "
                      f"measure() {call_s:.1f} s", flush=True)
    report["loadavg_end"] = os.getloadavg()
    (out / "count_overhead.json").write_text(json.dumps(report, indent=1))
    print(f"wrote {out / 'count_overhead.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
