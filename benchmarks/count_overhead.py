"""Overhead of counting, per backend, against the same work run natively in this process.

For each available backend (perf, callgrind) and each workload (an empty call, an interpreted
loop, a sort, a C loop called natively) it records:
  * native_ns: the workload's own run time here (minimum of several timed calls);
  * region_ns: the wall time of one measured region inside the measuring process (median);
  * slowdown = region_ns / native_ns (callgrind: the 26-86x of DESIGN.md);
  * call_s: the wall time of the whole measure() call (process start, imports, warm-up,
    calibration, repeats), i.e. what one count costs;
  * instructions and the subtracted empty-region overhead (baseline) in instructions.
Writes results/count_overhead.json (or --out).
Run: ``.venv/bin/python benchmarks/count_overhead.py``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
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


def native_ns(fn, args, reps=7) -> int:
    fn(*args)
    best = None
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn(*args)
        dt = time.perf_counter_ns() - t0
        best = dt if best is None else min(best, dt)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE.parent / "results"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    avail = runner.available_backends()
    report = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
              "backends": {b: ("available" if why is None else f"unavailable: {why}") for b, why in avail.items()},
              "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        so = None
        cc = shutil.which("cc")
        if cc:
            (Path(tmp) / "loop.c").write_text(W.LOOP_C)
            so = Path(tmp) / "libloop.so"
            subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(so), str(Path(tmp) / "loop.c")], check=True)
            spin = ctypes.CDLL(str(so)).spin
            spin.restype, spin.argtypes = ctypes.c_int64, [ctypes.c_int64]
        xs = W.ints(20_000)
        workloads = [
            ("empty_call", "count_workloads:empty", [], None, lambda: native_ns(W.empty, ())),
            ("py_loop_20k", "count_workloads:py_loop", [20_000], "count_workloads:ints",
             lambda: native_ns(W.py_loop, xs)),
            ("py_sort_20k", "count_workloads:py_sort", [20_000], "count_workloads:ints",
             lambda: native_ns(W.py_sort, xs)),
        ]
        if so is not None:
            workloads.append(("c_loop_1M", f"{so}:spin", [1_000_000], "native", lambda: native_ns(spin, (1_000_000,))))
        for backend, why in avail.items():
            if why is not None:
                continue
            for name, ref, wargs, setup, native in workloads:
                t0 = time.monotonic()
                if setup == "native":
                    m = measure_native(ref, *wargs, signature="i64(i64)", backend=backend, repeat=args.repeat)
                else:
                    m = measure(ref, *wargs, setup=setup, backend=backend, repeat=args.repeat)
                call_s = time.monotonic() - t0
                nat = native()
                region = statistics.median(m.region_ns)
                row = {"backend": backend, "workload": name, "instructions": m.instructions, "baseline": m.baseline,
                       "exact": m.exact, "spread": m.spread, "native_ns": nat, "region_ns": region,
                       "slowdown": region / nat if nat else None, "call_s": round(call_s, 2)}
                report["results"].append(row)
                print(f"{backend:>9} {name:>12}: {m.instructions:>12,} instr (overhead {m.baseline:,} subtracted)  "
                      f"native {nat / 1e3:9.1f} us  region {region / 1e3:10.1f} us  x{row['slowdown']:.0f}  "
                      f"measure() {call_s:.1f} s", flush=True)
    (out / "count_overhead.json").write_text(json.dumps(report, indent=1))
    print(f"wrote {out / 'count_overhead.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
