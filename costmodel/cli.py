"""``irtools cost``: per-function cost predictions for an LLVM IR or MLIR file."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "cost", help="predict per-function hardware cost (machine instructions, spills, .text bytes, "
                     "instructions executed, GPU registers...) from LLVM IR or MLIR text",
        description="Predict per-function hardware costs of an LLVM IR (.ll) or MLIR (.mlir) file with a "
                    "learned model. Each prediction has an interval and an out_of_distribution flag; "
                    "text that does not parse is reported as file:line:col.")
    p.add_argument("file", help="LLVM IR (.ll) or MLIR (.mlir) text file, or - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON array of objects: function + one key per target")
    p.add_argument("--target", action="append", metavar="NAME",
                   help="only this target (repeatable); default: every target of the model")
    p.add_argument("--model", metavar="DIR", help="model folder (default: the model shipped with irtools)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from irtools.errors import IrtoolsError

    from .api import load

    if args.file == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        path = Path(args.file)
        if not path.is_file():
            raise IrtoolsError(f"{path}: no such file")
        try:
            text, name = path.read_text(), str(path)
        except UnicodeDecodeError:
            raise IrtoolsError(f"{path}: not IR text (LLVM bitcode? run llvm-dis-22 first)") from None
    model = load(args.model)
    preds = model.predict(text, target=args.target, path=name)
    if not preds:
        # not an error: a module of declarations (or MLIR without function-like ops) costs nothing
        print(f"{name}: no function definitions: nothing to predict", file=sys.stderr)
    if args.json:
        json.dump([p.to_json() for p in preds], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    from .targets import CPU_TARGETS, GPU_TARGETS

    # The table shows the targets that make sense for the module (GPU figures of x86 code say
    # nothing); --target or --json give any of them.
    shown = args.target or (GPU_TARGETS if "nvptx" in text[:4096] else CPU_TARGETS)
    if preds:
        print_predictions(preds, f"predicted cost: {args.file}", shown)
    return 0


def print_predictions(preds, title: str, targets) -> None:
    """A table of predictions, one row per (function, target), the interval beside each value."""
    import shutil

    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption="value (10%–90% interval)")
    for col, just in (("function", "left"), ("target", "left"), ("value", "right"), ("unit", "left"),
                      ("in distribution", "left")):
        table.add_column(col, justify=just)
    for p in preds:
        first = True
        for n, v in p.values.items():
            if n not in targets:
                continue
            # fractions and small values (cycles per iteration) keep their decimals; counts do not
            if v.value is None:
                cell = "[dim]– (does not apply)[/dim]"
            else:
                fmt = ".2f" if v.unit == "fraction" else ",.1f" if v.hi < 100 else ",.0f"
                cell = f"{v.value:{fmt}} [dim]({v.lo:{fmt}}–{v.hi:{fmt}})[/dim]"
            flag = ("yes" if not p.ood else "[red]NO[/red]: " + "; ".join(p.ood_reasons[:2])) if first else ""
            table.add_row(p.function if first else "", n, cell, v.unit, flag, end_section=False)
            first = False
        table.add_section()
    Console(width=max(110, shutil.get_terminal_size().columns)).print(table)
