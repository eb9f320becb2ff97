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
    p.add_argument("--json", action="store_true",
                   help="JSON lines: one object per function (function, one {value, lo, hi, unit} per target "
                        "with null where the target does not apply, out_of_distribution, ood_score, ood_reasons)")
    p.add_argument("--target", action="append", metavar="NAME",
                   help="only this target (repeatable); default: every target of the model")
    p.add_argument("--pipeline", metavar="PIPELINE",
                   help="MLIR input only: the mlir-opt --pass-pipeline string that lowers it (default: the "
                        "standard CPU lowering, irtoolkit.costmodel.dataset.mlirpairs.STANDARD_PIPELINE); the MLIR model "
                        "prices the lowered code from the high-level function and this pipeline; a GPU pipeline "
                        "(gpu-lower-to-nvvm-pipeline, see irtoolkit.costmodel.dataset.mlirgpu.gpu_pipeline) gives "
                        "registers per thread for sm_80/sm_90 instead")
    p.add_argument("--model", metavar="DIR", help="model folder (default: the model shipped with irtools)")
    p.set_defaults(func=run)


def read_input(name: str) -> tuple[str, str]:
    """(text, name) of a file or of standard input (``-``); bad input raises ``InputError``."""
    from pathlib import Path

    from irtools.cli import InputError
    from irtools.ir.cli import BITCODE_MAGIC

    if name == "-":
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        path = Path(name)
        if path.is_dir():
            raise InputError(path, "is a folder: cost reads one file (irtools stats describes a folder)")
        if not path.exists():
            raise InputError(path, "no such file")
        data = path.read_bytes()
    if data[:4] in BITCODE_MAGIC:
        raise InputError(name, "LLVM bitcode, not IR text (llvm-dis-22 turns it into text)")
    if b"\0" in data[:65536]:
        raise InputError(name, "binary file, not IR text")
    return data.decode("utf-8", "surrogateescape"), name


def run(args: argparse.Namespace) -> int:
    from irtools.cli import UsageError

    from .api import load
    from .targets import TARGETS

    unknown = [t for t in args.target or [] if t not in TARGETS]
    if unknown:
        raise UsageError(f"unknown --target {unknown[0]!r} (one of: {', '.join(TARGETS)})")
    text, name = read_input(args.file)
    model = load(args.model)
    preds = model.predict(text, target=args.target, path=name, pipeline=args.pipeline)
    if not preds:
        # not an error: a module of declarations (or MLIR without function-like ops) costs nothing
        print(f"{name}: note: no function definitions: nothing to predict", file=sys.stderr)
    if args.json:
        for p in preds:
            print(json.dumps(p.to_json()))
        return 0
    from .targets import CPU_TARGETS, GPU_TARGETS

    # The table shows the targets that make sense for the module (GPU figures of x86 code say
    # nothing); --target or --json give any of them.
    shown = args.target or (GPU_TARGETS if "nvptx" in text[:4096] else CPU_TARGETS)
    if preds:
        print_predictions(preds, f"predicted cost: {name}", shown)
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
