"""``irtools count`` and ``irtools compare``: instruction counts from the command line.

Registration is cheap: nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys

BACKENDS_HELP = """\
backends:
  perf       hardware counters through perf_event_open (instructions, cycles, branch misses),
             user mode only; fast, but counts move a little with interrupts (exact: false).
             Needs a CPU that exposes counters (many VMs do not: ENOENT) and
             kernel.perf_event_paranoid <= 2 (or CAP_PERFMON).
  callgrind  valgrind --tool=callgrind with instrumentation switched on after warm-up and
             collection toggled around each measured region; every run gives the same count
             (exact: true); 26-86x slower. Needs Debian's `valgrind` package.
  auto       perf where the CPU has counters, else callgrind, else an error saying what to install.

Every measurement runs in a fresh process with PYTHONHASHSEED=0, one thread
(OMP/MKL/OPENBLAS/NUMBA_NUM_THREADS=1), the JIT target CPU pinned (NUMBA_CPU_NAME,
$IRTOOLS_TARGET_CPU), GC collected then disabled inside the region, a warm-up call first
(JIT compilation is not counted) and the calibrated empty-region overhead subtracted.
"""


def _add_common(p: argparse.ArgumentParser, suppress: bool = False) -> None:
    d = argparse.SUPPRESS if suppress else None
    p.add_argument("--json", action="store_true", default=d if suppress else False,
                   help="print the measurement as one JSON object on one line (instructions, backend, exact, runs, "
                        "pins...); exact is true only when every run gave the same count")
    p.add_argument("--repeat", type=int, default=d, help="measured runs (default 5 for a callable, 1 for a command)")
    p.add_argument("--warmup", type=int, default=d, help="unmeasured calls first (default 1)")
    p.add_argument("--backend", choices=["auto", "perf", "callgrind"], default=d if suppress else "auto",
                   help="counting backend (default auto)")
    p.add_argument("--timeout", type=float, default=d if suppress else 300.0,
                   help="seconds before the measured code is killed (default 300)")
    p.add_argument("--args", dest="call_args", default=d if suppress else "[]", metavar="JSON",
                   help="JSON list of positional arguments for a callable (default [])")
    p.add_argument("--native", action="store_true", default=d if suppress else False,
                   help="the target is native code (numba cfunc, ctypes function, factory, /path/lib.so:symbol)")
    p.add_argument("--signature", default=d, help="native signature, e.g. 'i64(i64,ptr)' (inferred for numba/ctypes)")
    p.add_argument("--setup", default=d, metavar="MODULE:FUNCTION",
                   help="called with the --args before every run (outside the region); returns the real arguments")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "count", help="count the CPU instructions of a callable or a whole command",
        description="Count CPU instructions of a Python callable (module:function) or of a whole "
                    "process (everything after --).",
        epilog="examples:\n  irtools count --json -- python3 -c 'print(1)'\n"
               "  irtools count mypkg.sorting:merge_sort --args '[[3, 1, 2]]'\n\n" + BACKENDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(p)
    p.add_argument("target", nargs=argparse.REMAINDER,
                   help="module:function [options], or -- CMD ARGS... for a whole process")
    p.set_defaults(func=run_count)

    c = subparsers.add_parser(
        "compare", help="compare the instruction counts of two solutions of one task",
        description="Measure two callables (module:function) on the same arguments, or read two "
                    "`irtools count --json` result files, and print their counts and ratios.",
        epilog=BACKENDS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(c)
    c.add_argument("a", help="module:function, or a JSON file written by `irtools count --json`")
    c.add_argument("b", help="the other solution (same forms)")
    c.set_defaults(func=run_compare)


def _split_target(args) -> tuple[str, list[str]]:
    """('process', argv) or ('callable', [ref]); options written after the reference are parsed too."""
    from irtools.cli import UsageError

    rest = list(args.target)
    if rest and rest[0] == "--":
        if len(rest) < 2:
            raise UsageError("nothing to run after --")
        return "process", rest[1:]
    if not rest:
        raise UsageError("give module:function, or -- CMD ARGS... for a whole process")
    ref, extra = rest[0], rest[1:]
    if extra:
        late = argparse.ArgumentParser(prog="irtools count", add_help=False)
        _add_common(late, suppress=True)
        ns, unknown = late.parse_known_args(extra)
        if unknown:
            raise UsageError(f"unexpected arguments after {ref}: {' '.join(unknown)} "
                               "(a whole command goes after --)")
        for k, v in vars(ns).items():
            setattr(args, k, v)
    return "callable", [ref]


def _call_args(args) -> list:
    from irtools.cli import UsageError

    try:
        values = json.loads(args.call_args)
    except ValueError as e:
        raise UsageError(f"--args is not JSON: {e}") from e
    if not isinstance(values, list):
        raise UsageError("--args must be a JSON list of positional arguments")
    return values


def _measure_ref(ref: str, args):
    from irtools.measure import runner

    kw = dict(repeat=args.repeat or 5, warmup=1 if args.warmup is None else args.warmup, backend=args.backend,
              timeout=args.timeout, setup=args.setup)
    if args.native:
        return runner.measure_native(ref, *_call_args(args), signature=args.signature, **kw)
    return runner.measure(ref, *_call_args(args), **kw)


def _is_exact(m) -> bool:
    """``exact`` as the runs show it: a backend that should repeat itself but did not is not exact."""
    return bool(m.exact) and len(set(m.runs)) <= 1


def _to_dict(m) -> dict:
    d = m.to_dict()
    d["exact"] = _is_exact(m)
    return d


def _print_measurement(m) -> None:
    print(f"{m.target}: {m.instructions:,} instructions ({m.backend}{', exact' if _is_exact(m) else ''}; "
          f"median of {len(m.runs)}, spread {m.spread:,}; overhead {m.baseline:,} subtracted)")
    for k, vals in m.extra.items():
        print(f"  {k}: {sorted(vals)[len(vals) // 2]:,}")
    print(f"  runs: {', '.join(f'{r:,}' for r in m.runs)}")
    print(f"  target cpu {m.target_cpu}; {m.backend_version}")


def run_count(args) -> int:
    from irtools.measure import runner

    mode, what = _split_target(args)
    if mode == "process":
        m = runner.measure_process(what, repeat=args.repeat or 1, backend=args.backend, timeout=args.timeout)
    else:
        m = _measure_ref(what[0], args)
    if args.json:
        print(json.dumps(_to_dict(m)))
    else:
        _print_measurement(m)
    return 0


def _load_or_measure(ref: str, args):
    import dataclasses
    from pathlib import Path

    from irtools.cli import InputError
    from irtools.measure.result import Measurement

    if ref.endswith(".json"):
        path = Path(ref)
        if not path.is_file():
            raise InputError(path, "no such file" if not path.exists() else "not a file")
        try:
            d = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(path, f"not JSON ({e})") from e
        need = [f.name for f in dataclasses.fields(Measurement)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [k for k in need if not isinstance(d, dict) or k not in d]
        if missing:
            raise InputError(path, f"not an `irtools count --json` result (no {', '.join(missing[:4])}"
                                   f"{'...' if len(missing) > 4 else ''})")
        try:
            return Measurement.from_dict(d)
        except (ValueError, TypeError) as e:
            raise InputError(path, f"not an `irtools count --json` result: {e}") from e
    return _measure_ref(ref, args)


def run_compare(args) -> int:
    from irtools.measure.errors import MeasureError

    a = _load_or_measure(args.a, args)
    b = _load_or_measure(args.b, args)
    if a.backend != b.backend:
        raise MeasureError(f"cannot compare counts from different backends ({a.backend} vs {b.backend})")
    ratio = b.instructions / a.instructions if a.instructions else float("inf")
    speedup = a.instructions / b.instructions if b.instructions else float("inf")
    out = {"a": a.to_dict(), "b": b.to_dict(), "ratio_b_over_a": ratio, "speedup_a_over_b": speedup,
           "faster": "a" if a.instructions < b.instructions else "b" if b.instructions < a.instructions else "tie",
           "same_result": a.result == b.result}
    out["a"]["exact"], out["b"]["exact"] = _is_exact(a), _is_exact(b)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"A {a.target}: {a.instructions:,} instructions")
    print(f"B {b.target}: {b.instructions:,} instructions")
    print(f"B/A = {ratio:.4f}  (A/B = {speedup:.4f}); faster: {out['faster'].upper() if out['faster'] != 'tie' else 'tie'}"
          f"; backend {a.backend}{' (exact)' if a.exact else ''}")
    if not out["same_result"]:
        print("warning: A and B returned different results", file=sys.stderr)
    return 0
