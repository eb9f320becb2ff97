"""The ``irtools`` command: one subcommand per verb.

Each capability owns its subcommands in its own module, which exposes
``register(subparsers)``; the modules are listed here and nowhere else.  Registration
must be cheap (no TVM, no LightGBM): heavy imports happen inside the command functions.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .errors import IrtoolsError

# module providing register(subparsers) -> registers one or more subcommands
COMMAND_MODULES = [
    "irtools.ir.cli",          # parse, stats
    "irtools.measure.cli",     # count, compare
    "fuzz.cli",                # fuzz (run, report, repro)
    "costmodel.cli",           # cost
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irtools",
        description="Compiler IR toolkit: parse and analyse LLVM IR / MLIR, predict hardware cost, "
        "fuzz TVM, and count CPU instructions.",
        epilog="Run `irtools COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"irtools {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for modname in COMMAND_MODULES:
        importlib.import_module(modname).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except IrtoolsError as e:
        print(f"irtools: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `irtools ... | head`: the reader left; say nothing, as cat and grep do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("irtools: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
