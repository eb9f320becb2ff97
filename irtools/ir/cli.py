"""``irtools parse`` and ``irtools stats``: check IR files, and describe a corpus.

Both take files and folders (searched recursively for ``.ll`` and ``.mlir``) and dispatch on the
suffix: ``.ll`` to the LLVM IR parser, ``.mlir`` to the MLIR parser.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SUFFIXES = {".ll": "llvm", ".mlir": "mlir"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "parse",
        help="check that IR files parse; report errors as file:line:col",
        description="Parse LLVM IR (.ll) and MLIR (.mlir) files and report every error the way a compiler "
        "does (file:line:col: error: message, one line on stderr; --verbose adds the line and a caret). "
        "Exit status 1 if any file fails, 2 for bad usage.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files, folders searched for .ll/.mlir, or - for standard input")
    p.add_argument("--json", action="store_true",
                   help="JSON lines: one object per file (file, ok, error, functions, instructions)")
    p.add_argument("--split-input-file", action="store_true",
                   help="MLIR: treat '// -----' lines as separators between independent inputs")
    p.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: all cores)")
    p.set_defaults(func=cmd_parse)

    s = sub.add_parser(
        "stats",
        help="corpus statistics: modules, functions, blocks, instructions, opcode histogram, sizes",
        description="Describe a corpus of IR files (ComPile-style): counts of modules, functions, blocks "
        "and instructions (operations for MLIR), the opcode histogram and size distributions. Files that "
        "do not parse are reported on stderr and counted; exit status 1 if any failed.",
    )
    s.add_argument("paths", nargs="+", metavar="PATH",
                   help="files, folders searched for .ll/.mlir, or - for standard input")
    s.add_argument("--json", action="store_true",
                   help="JSON lines: one object (files, kinds), on one line")
    s.add_argument("--plot", metavar="OUT.png", help="also draw the opcode histogram and size distributions")
    s.add_argument("--top", type=int, default=15, help="opcodes shown in the table (default 15)")
    s.add_argument("--split-input-file", action="store_true",
                   help="MLIR: treat '// -----' lines as separators between independent inputs")
    s.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: all cores)")
    s.set_defaults(func=cmd_stats)


# --------------------------------------------------------------------------- files


STDIN = "-"
BITCODE_MAGIC = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")


def find_files(paths: list[str]) -> list[Path]:
    """Expand folders into their .ll/.mlir files (sorted); keep named files whatever their suffix.

    A folder with no IR file in it is bad input (``IrtoolsError``), not an empty result.
    """
    from ..cli import InputError

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())
            if not found:
                raise InputError(p, "no .ll or .mlir files in this folder")
            out.extend(found)
        else:
            out.append(p)
    return out


def guess_kind(data: bytes) -> str:
    """``llvm`` or ``mlir`` for text with no file name (standard input), from its first lines."""
    import re

    head = data[:65536]
    if re.search(rb"^\s*(define|declare|target\s+(triple|datalayout)|source_filename|attributes\s+#|"
                 rb"[@%][-\w.$\"]+\s*=\s*(external\s+|private\s+|internal\s+)*(global|constant|type)\b|!\d+\s*=)",
                 head, re.M):
        return "llvm"
    return "mlir"


def _error(res: dict, msg: str, line: int = 0, col: int = 0) -> dict:
    from ..cli import clean

    where = f"{res['file']}:{line}:{col}" if line else res["file"]
    res["error"] = {"message": clean(msg), "line": line, "col": col, "text": clean(f"{where}: error: {msg}")}
    return res


def summarize_file(path: Path, split_input_file: bool = False, data: bytes | None = None) -> dict:
    """Parse one file (``-``: ``data`` read from standard input); never raises for bad input: the
    error is part of the result."""
    from ..errors import ParseError

    stdin = str(path) == STDIN
    res: dict = {"file": "<stdin>" if stdin else str(path), "kind": SUFFIXES.get(path.suffix), "ok": False,
                 "error": None}
    if data is None:
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            return _error(res, "is a folder")
        except OSError as e:
            return _error(res, f"cannot read: {e.strerror}")
    res["bytes"] = len(data)
    if stdin:
        res["kind"] = guess_kind(data)
    if data[:4] in BITCODE_MAGIC:
        return _error(res, "LLVM bitcode, not IR text (llvm-dis-22 turns it into text)")
    if b"\0" in data[:65536]:
        return _error(res, "binary file, not IR text")
    try:
        if res["kind"] == "llvm":
            from .llvm import parse_llvm
            from .llvm.stats import summarize

            summary = summarize(parse_llvm(data, path=res["file"]))
        elif res["kind"] == "mlir":
            from .mlir import parse_mlir
            from .mlir.stats import summarize

            summary = summarize(parse_mlir(data, path=res["file"], split_input_file=split_input_file))
        else:
            return _error(res, f"unknown IR kind for suffix {path.suffix!r} (expected .ll or .mlir)")
    except ParseError as e:
        _error(res, e.message, e.line, e.col)
        from ..cli import clean

        # the line and a caret, shown with --verbose (clang's context; cut, as a line can be megabytes)
        res["error"]["context"] = "\n".join(clean(x, 200) for x in e.format().splitlines()[1:])
        return res
    res["ok"] = True
    res.update(summary)
    return res


def _map(paths: list[Path], split: bool, jobs: int, progress_label: str):
    """Yield summaries in input order, in parallel, with a progress bar on stderr when it is a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if any(str(p) == STDIN for p in paths):
        if len(paths) > 1:
            from ..cli import UsageError

            raise UsageError("- (standard input) cannot be given with other paths")
        yield summarize_file(paths[0], split, sys.stdin.buffer.read())
        return
    jobs = jobs or os.cpu_count() or 1
    show = sys.stderr.isatty() and len(paths) > 50
    with Progress(TextColumn(progress_label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), disable=not show, transient=True) as bar:
        task = bar.add_task(progress_label, total=len(paths))
        if jobs == 1 or len(paths) < 8:
            results = (summarize_file(p, split) for p in paths)
            for r in results:
                bar.advance(task)
                yield r
            return
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for r in pool.map(summarize_file, paths, [split] * len(paths), chunksize=16):
                bar.advance(task)
                yield r


# --------------------------------------------------------------------------- parse


def _diagnose(r: dict, args) -> None:
    print(r["error"]["text"], file=sys.stderr)
    if getattr(args, "verbose", False) and r["error"].get("context"):
        print(r["error"]["context"], file=sys.stderr)


def cmd_parse(args) -> int:
    paths = find_files(args.paths)
    failed = 0
    for r in _map(paths, args.split_input_file, args.jobs, "parsing"):
        failed += not r["ok"]
        if args.json:
            err = r["error"]
            print(json.dumps({
                "file": r["file"], "ok": r["ok"],
                "error": None if err is None else {k: err[k] for k in ("message", "line", "col")},
                "functions": r.get("functions", 0),
                "instructions": r.get("instructions", r.get("operations", 0)),
            }), flush=True)
        if not r["ok"]:  # the diagnostic goes to stderr with --json too
            _diagnose(r, args)
    if not args.json and len(paths) > 1:
        print(f"{len(paths) - failed} of {len(paths)} files parsed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


# --------------------------------------------------------------------------- stats


def aggregate(results: list[dict]) -> dict:
    """Combine per-file summaries into corpus statistics (one entry per IR kind)."""
    import numpy as np

    kinds: dict[str, dict] = {}
    for r in results:
        k = kinds.setdefault(r["kind"] or "unknown", {
            "modules": 0, "failed": 0, "bytes": 0, "functions": 0, "declarations": 0, "blocks": 0,
            "instructions": 0, "opcodes": Counter(), "module_bytes": [], "function_sizes": [],
            "errors": [],
        })
        if not r["ok"]:
            k["failed"] += 1
            k["errors"].append({"file": r["file"], **{f: r["error"][f] for f in ("line", "col", "message")}})
            continue
        k["modules"] += 1
        k["bytes"] += r.get("bytes", 0)
        k["module_bytes"].append(r.get("bytes", 0))
        for f in ("functions", "declarations", "blocks"):
            k[f] += r.get(f, 0)
        k["instructions"] += r.get("instructions", r.get("operations", 0))
        k["opcodes"].update(r.get("opcodes", r.get("ops", {})))
        k["function_sizes"].extend(r.get("function_sizes", []))
    out = {}
    for name, k in kinds.items():
        mb = np.asarray(k.pop("module_bytes") or [0])
        fs = np.asarray(k.pop("function_sizes") or [0])
        k["opcodes"] = dict(k["opcodes"].most_common())
        k["module_bytes"] = {"mean": float(mb.mean()), "median": float(np.median(mb)), "max": int(mb.max())}
        k["function_size"] = {"mean": float(fs.mean()), "median": float(np.median(fs)), "max": int(fs.max()),
                              "p90": float(np.percentile(fs, 90))}
        k["_function_sizes"] = fs  # kept for the plot, dropped from JSON
        out[name] = k
    return out


def cmd_stats(args) -> int:
    paths = find_files(args.paths)
    results = list(_map(paths, args.split_input_file, args.jobs, "reading corpus"))
    for r in results:
        if not r["ok"]:
            _diagnose(r, args)
    failed = sum(not r["ok"] for r in results)
    if failed == len(results):  # nothing to describe: the errors above are the whole answer
        return 1
    stats = aggregate(results)
    if args.plot:
        plot_stats(stats, args.plot, top=max(args.top, 20))
    public = {k: {f: v for f, v in s.items() if not f.startswith("_")} for k, s in stats.items()}
    if args.json:
        print(json.dumps({"files": len(paths), "kinds": public}))
    else:
        print_table(public, args.top)
    if args.plot:
        print(f"plot written to {args.plot}", file=sys.stderr)
    if failed:
        print(f"{len(results) - failed} of {len(results)} files parsed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def print_table(stats: dict, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for kind, s in stats.items():
        unit = "operations" if kind == "mlir" else "instructions"
        t = Table(title=f"{kind.upper()} corpus", show_header=True)
        t.add_column("measure")
        t.add_column("value", justify="right")
        rows = [("modules", s["modules"]), ("failed to parse", s["failed"]), ("bytes", s["bytes"]),
                ("functions (defined)", s["functions"]), ("declarations", s["declarations"]),
                ("blocks", s["blocks"]), (unit, s["instructions"]),
                ("module size, median bytes", f"{s['module_bytes']['median']:.0f}"),
                ("function size, mean / p90 / max", "{mean:.1f} / {p90:.0f} / {max}".format(**s["function_size"]))]
        for name, value in rows:
            t.add_row(name, f"{value:,}" if isinstance(value, int) else value)
        console.print(t)
        h = Table(title=f"top {top} {'ops' if kind == 'mlir' else 'opcodes'}")
        h.add_column("opcode")
        h.add_column("count", justify="right")
        h.add_column("share", justify="right")
        total = sum(s["opcodes"].values()) or 1
        for op, n in list(s["opcodes"].items())[:top]:
            h.add_row(op, f"{n:,}", f"{100 * n / total:.1f}%")
        console.print(h)


def plot_stats(stats: dict, out: str, top: int = 20) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(stats), 2, figsize=(13, 4.5 * len(stats)), squeeze=False)
    for row, (kind, s) in zip(axes, stats.items(), strict=True):
        ops = list(s["opcodes"].items())[:top]
        row[0].barh([o for o, _ in ops][::-1], [n for _, n in ops][::-1], color="#4c72b0")
        row[0].set_title(f"{kind}: top {len(ops)} {'ops' if kind == 'mlir' else 'opcodes'}")
        row[0].set_xlabel("count")
        sizes = s["_function_sizes"]
        if (sizes > 0).any():
            row[1].hist(sizes[sizes > 0], bins=50, log=True, color="#dd8452")
        else:  # declarations only: say so rather than draw an empty log-scale panel
            row[1].text(0.5, 0.5, "no function bodies", ha="center", va="center", transform=row[1].transAxes)
        row[1].set_title(f"{kind}: {'operations' if kind == 'mlir' else 'instructions'} per function")
        row[1].set_xlabel("size")
        row[1].set_ylabel("functions (log)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
