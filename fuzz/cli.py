"""``irtools fuzz``: run a campaign, write its HTML report, replay or reduce a finding.

    irtools fuzz --time 10m --out DIR [--seed N] [--workers N] [--resume] [--ray auto|ADDRESS]
    irtools fuzz report DIR            # DIR/report.html
    irtools fuzz repro DIR/findings/X  # run the finding's reproducer.py
    irtools fuzz reduce DIR/findings/X # delta-debug pass list and IR, keeping the signature

As libFuzzer and AFL++ do: --time is the wall time of the whole command (start-up, the campaign,
then the reduction of new findings, which gets at most --reduce-time and never more than a fifth
of --time); a summary ends the run and points to `irtools fuzz report`; the exit status is 1 when
the run found something new, 0 when it did not, 2 for bad usage.  The live status line goes to
stderr (when it is a terminal); stdout holds only the summary.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from irtools.cli import InputError, UsageError

from .engine import MODES

EXIT_FINDINGS = 1


class FuzzUsageError(UsageError):
    pass


def parse_duration(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise FuzzUsageError(f"bad --time {text!r} (use 90, 90s, 10m or 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _need_tvm() -> None:
    """One line naming the extra, before anything is written.  TVM is imported, not only looked up:
    a wheel whose shared library does not load fails here too, not as a traceback mid-campaign."""
    try:
        import tvm  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name not in ("tvm", "tvm_ffi"):
            raise InputError("irtools fuzz", f"TVM does not import (no module {e.name!r}): "
                                             "pip install 'irtoolkit[tvm]'") from e
        raise InputError("irtools fuzz", "TVM is not installed: pip install 'irtoolkit[tvm]'") from e
    except ImportError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError("irtools fuzz", f"TVM does not import ({first}): pip install 'irtoolkit[tvm]'") from e


def _findings(out) -> dict[str, str]:
    """signature folder name -> kind, for the findings on disk."""
    import json
    from pathlib import Path

    root = Path(out) / "findings"
    found = {}
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if d.is_dir() and not d.name.startswith(".") and (d / "meta.json").is_file():
            try:
                found[d.name] = json.loads((d / "meta.json").read_text()).get("kind", "?")
            except ValueError:
                found[d.name] = "?"
    return found


def run_report(args) -> int:
    from .report import write_report

    print(write_report(args.path))
    return 0


def run_repro(args) -> int:
    import subprocess

    script = os.path.join(args.path, "reproducer.py")
    if not os.path.exists(script):
        raise InputError(args.path, "not a finding folder (no reproducer.py)")
    rc = subprocess.call([sys.executable, script])
    if rc < 0:  # killed by a signal: say so, and exit as a shell would (128 + signal)
        import signal

        print(f"reproducer killed by {signal.Signals(-rc).name}", file=sys.stderr)
        return 128 - rc
    return rc


def run_reduce(args) -> int:
    if not os.path.exists(os.path.join(args.path, "meta.json")):
        raise InputError(args.path, "not a finding folder (no meta.json)")
    _need_tvm()
    from .reduce import reduce_finding

    print(reduce_finding(args.path, workers=1))
    return 0


def run_campaign(args) -> int:
    t0 = time.monotonic()
    if not args.out:
        raise FuzzUsageError("--out DIR is required")
    budget = parse_duration(args.time)  # checked before --out is created: a corrected rerun is not refused
    if args.reduce_time < 0:
        raise FuzzUsageError("--reduce-time must be >= 0")
    _need_tvm()
    started_ray = False
    if args.ray:
        from .cluster import ClusterError, connect

        try:  # before --out is made: a wrong address or a cluster without TVM nodes is refused cleanly
            args.workers, started_ray = connect(args.ray, args.workers)
        except ClusterError as e:
            raise FuzzUsageError(str(e)) from e
    try:
        return _campaign(args, t0, budget)
    finally:
        if started_ray:
            import ray

            ray.shutdown()


def _campaign(args, t0: float, budget: float) -> int:
    seed = args.seed
    if seed == 0:
        seed = int.from_bytes(os.urandom(4), "little") or 1
        print(f"irtools fuzz: --seed 0, using seed {seed}", file=sys.stderr)
    from rich.console import Console

    from .engine import Campaign, CampaignError

    before = set(_findings(args.out))
    try:
        camp = Campaign(args.out, seed=seed, workers=args.workers or os.cpu_count() or 1, mode=args.mode,
                        coverage=not args.no_coverage, resume=args.resume, case_timeout=args.case_timeout,
                        console=Console(stderr=True), ray=args.ray)
    except CampaignError as e:
        raise FuzzUsageError(str(e)) from e
    reserve = min(args.reduce_time, budget / 5)
    fuzz_s = max(1.0, budget - reserve - (time.monotonic() - t0))
    live = not args.quiet and sys.stderr.isatty()
    stats = camp.run(fuzz_s, max_execs=args.runs if args.runs > 0 else None, live=live)
    found = _findings(args.out)
    new = sorted(set(found) - before)
    left = budget - (time.monotonic() - t0)
    if reserve > 0 and new and left > 1:
        from .reduce import reduce_all

        reduce_all(args.out, budget_s=left)
    print(summary(args.out, stats, found, new, time.monotonic() - t0, budget))
    return EXIT_FINDINGS if new else 0


def summary(out, stats: dict, found: dict[str, str], new: list[str], wall: float, budget: float) -> str:
    from collections import Counter

    kinds = Counter(found[n] for n in new)
    by_kind = ", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "none"
    lines = [
        f"irtools fuzz: done in {wall:.0f} s (budget {budget:.0f} s, start-up and reduction included)",
        f"  cases run       {stats.get('execs', 0):,}",
        f"  new findings    {len(new)} unique ({by_kind}); {len(found)} in {out}/findings",
    ]
    lines += [f"    {out}/findings/{n}" for n in new[:10]]
    if len(new) > 10:
        lines.append(f"    ... and {len(new) - 10} more")
    lines.append(f"  report          irtools fuzz report {out}")
    if new:
        lines.append(f"  replay one      irtools fuzz repro {out}/findings/{new[0]}")
    return "\n".join(lines)


def register(subparsers) -> None:
    p = subparsers.add_parser("fuzz", help="coverage-guided joint IR + pass-list fuzzing of TVM",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--time", default="10m",
                   help="wall time of the whole run, start-up and reduction included: 90s, 10m, 1h (default 10m)")
    p.add_argument("--out", help="campaign folder (refused if non-empty without --resume)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed; 0 picks one and prints it (default 0)")
    p.add_argument("--workers", type=int, default=0,
                   help="fork-server workers (default: all cores; with --ray, one per 'tvm' slot of the cluster)")
    p.add_argument("--ray", metavar="auto|ADDRESS", default=None,
                   help="run the workers as Ray actors: 'auto' starts a local Ray cluster, an address joins one "
                        "(its TVM nodes advertise the 'tvm' resource); the folder and --resume are the same")
    p.add_argument("--resume", action="store_true", help="continue the campaign in --out")
    p.add_argument("--runs", type=int, default=-1, help="stop after this many cases (-1: no limit)")
    p.add_argument("--mode", default="full", choices=MODES,
                   help="full (default); the others are the baselines of benchmarks/fuzz_baselines.py")
    p.add_argument("--no-coverage", action="store_true", help="do not arm the int3 tracer")
    p.add_argument("--case-timeout", type=float, default=10.0, help="seconds before a case is a hang (default 10)")
    p.add_argument("--reduce-time", type=float, default=60.0,
                   help="seconds for reducing new findings, out of --time (at most a fifth of it; "
                        "default 60, 0: none)")
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.set_defaults(func=run_campaign)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=False,
                           description="without an action, run a campaign")
    r = sub.add_parser("report", help="write DIR/report.html for a campaign folder",
                       description="Write DIR/report.html: coverage and findings over time, the findings "
                                   "table and the campaign's statistics. Prints the page's path.")
    r.add_argument("path", metavar="DIR", help="campaign folder (the --out of a campaign)")
    r.set_defaults(func=run_report)
    x = sub.add_parser("repro", help="run a finding's reproducer.py",
                       description="Run FINDING/reproducer.py in a fresh Python; exits with its status "
                                   "(128 + signal when a signal killed it).")
    x.add_argument("path", metavar="FINDING", help="a finding folder: DIR/findings/NAME")
    x.set_defaults(func=run_repro)
    d = sub.add_parser("reduce", help="delta-debug a finding's pass list and IR",
                       description="Shrink FINDING's pass list and IR while it keeps its signature; "
                                   "writes the reduced case next to the original.")
    d.add_argument("path", metavar="FINDING", help="a finding folder: DIR/findings/NAME")
    d.set_defaults(func=run_reduce)
