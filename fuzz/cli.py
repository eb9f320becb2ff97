"""``irtools fuzz``: run a campaign, write its HTML report, replay or reduce a finding.

    irtools fuzz --time 10m --out DIR [--seed N] [--workers N] [--resume]
    irtools fuzz report DIR            # DIR/report.html
    irtools fuzz repro DIR/findings/X  # run the finding's reproducer.py
    irtools fuzz reduce DIR/findings/X # delta-debug pass list and IR, keeping the signature
"""

from __future__ import annotations

import os
import re
import sys

from irtools.errors import IrtoolsError


class FuzzUsageError(IrtoolsError):
    pass


def parse_duration(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m:
        raise FuzzUsageError(f"bad duration {text!r} (use 90, 90s, 10m or 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _run(args) -> int:
    action = args.action
    if action in ("report", "repro", "reduce"):
        if not args.path:
            raise FuzzUsageError(f"`irtools fuzz {action}` needs a path")
        if action == "report":
            from .report import write_report

            print(write_report(args.path))
            return 0
        if action == "repro":
            import subprocess

            script = os.path.join(args.path, "reproducer.py")
            if not os.path.exists(script):
                raise FuzzUsageError(f"{script} not found")
            rc = subprocess.call([sys.executable, script])
            if rc < 0:  # killed by a signal: say so, and exit as a shell would (128 + signal)
                import signal

                print(f"reproducer killed by {signal.Signals(-rc).name}", file=sys.stderr)
                return 128 - rc
            return rc
        from .reduce import reduce_finding

        print(reduce_finding(args.path, workers=1))
        return 0
    if action is not None:
        raise FuzzUsageError(f"unknown fuzz action {action!r} (report, repro, reduce)")
    if not args.out:
        raise FuzzUsageError("--out DIR is required")
    seed = args.seed
    if seed == 0:
        seed = int.from_bytes(os.urandom(4), "little") or 1
        print(f"irtools fuzz: --seed 0, using seed {seed}")
    from .engine import Campaign, CampaignError

    try:
        camp = Campaign(args.out, seed=seed, workers=args.workers or os.cpu_count() or 1, mode=args.mode,
                        coverage=not args.no_coverage, resume=args.resume, case_timeout=args.case_timeout)
    except CampaignError as e:
        raise FuzzUsageError(str(e)) from e
    stats = camp.run(parse_duration(args.time), max_execs=args.runs if args.runs > 0 else None,
                     live=not args.quiet)
    if args.reduce_time > 0 and stats["findings"]:
        from .reduce import reduce_all

        reduce_all(args.out, budget_s=args.reduce_time)
    print(camp.status_line())
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("fuzz", help="coverage-guided joint IR + pass-list fuzzing of TVM",
                              description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("action", nargs="?", choices=["report", "repro", "reduce"], help="what to do (default: fuzz)")
    p.add_argument("path", nargs="?", help="campaign folder (report) or finding folder (repro, reduce)")
    p.add_argument("--time", default="10m", help="campaign budget: 90s, 10m, 1h (default 10m)")
    p.add_argument("--out", help="campaign folder (refused if non-empty without --resume)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed; 0 picks one and prints it (default 0)")
    p.add_argument("--workers", type=int, default=0, help="fork-server workers (default: all cores)")
    p.add_argument("--resume", action="store_true", help="continue the campaign in --out")
    p.add_argument("--runs", type=int, default=-1, help="stop after this many cases (-1: no limit)")
    p.add_argument("--mode", default="full", choices=["full", "random-passes", "ir-only"],
                   help="full (default); the other two are the baselines")
    p.add_argument("--no-coverage", action="store_true", help="do not arm the int3 tracer")
    p.add_argument("--case-timeout", type=float, default=10.0, help="seconds before a case is a hang (default 10)")
    p.add_argument("--reduce-time", type=float, default=60.0,
                   help="seconds spent reducing new findings after the campaign (default 60, 0: none)")
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.set_defaults(func=_run)
