"""A short demo of every capability on bundled data: ``./scripts/demo.sh`` (or ``python scripts/demo.py``).

Each section runs real tools on the programs in ``irtools/data/``; a section that fails says why
and the demo goes on with the next one (the exit status is then 1).  Outputs go to ``build/demo/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console(highlight=False, width=max(110, shutil.get_terminal_size().columns))
ROOT = Path(__file__).resolve().parent.parent


# Tasks measured by the instruction-count section (module-level so the harness can import them).
def sum_squares_loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def sum_squares_builtin(n: int) -> int:
    return sum(i * i for i in range(n))


def sum_squares_formula(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6


def section(title: str):
    def wrap(fn):
        fn.title = title
        return fn
    return wrap


@section("LLVM IR: parse clang-22 output, stats, analyses, round trip, errors")
def demo_llvm(out: Path) -> None:
    from irtools import ParseError, parse_llvm
    from irtools.analysis.cfg import CFG
    from irtools.analysis.features import function_properties
    from irtools.analysis.loops import LoopInfo
    from irtools.examples import build_c_corpus
    from irtools.ir.cli import aggregate, plot_stats, print_table, summarize_file

    files = build_c_corpus(out / "clang")
    console.print(f"compiled {len(files)} modules from the bundled C programs with clang-22 "
                  "(-O0, -O1, -O2, -O2 -g, -O3 -march=x86-64-v3)")
    t = time.perf_counter()
    stats = aggregate([summarize_file(f) for f in files])
    console.print(f"parsed and summarised in {time.perf_counter() - t:.2f} s")
    plot_stats(stats, str(out / "llvm-stats.png"))
    print_table({k: {f: v for f, v in s.items() if not f.startswith("_")} for k, s in stats.items()}, 8)
    console.print(f"plot: {out / 'llvm-stats.png'}")

    path = out / "clang" / "linalg.O2.ll"
    mod = parse_llvm(path)
    fn = mod.get_function("lu_decompose")
    cfg = CFG.from_function(fn)
    loops = LoopInfo(cfg)
    console.print(f"\n@{fn.name} in {path.name}: {len(fn.blocks)} blocks, "
                  f"{sum(len(b.instructions) for b in fn.blocks)} instructions, "
                  f"{sum(1 for _ in cfg.edges())} CFG edges")
    for loop in (lp for top in loops.top_level for lp in top.preorder()):
        console.print(f"  loop at %{cfg.names[loop.header]}: depth {loop.depth}, {len(loop.blocks)} blocks")
    props = function_properties(fn)
    keys = ["BasicBlockCount", "TotalInstructionCount", "MaxLoopDepth", "LoadInstCount", "StoreInstCount",
            "FloatingPointInstructionCount", "CriticalEdgeCount"]
    console.print("  func-properties (same values as opt-22 print<func-properties>): "
                  + ", ".join(f"{k}={props[k]}" for k in keys if k in props))

    # round trip: our printer's text means the same to llvm-as-22 as the original
    printed = out / "linalg.O2.printed.ll"
    printed.write_text(str(mod))
    dis = [subprocess.run(f"llvm-as-22 {p} -o - | llvm-dis-22 -o -", shell=True, capture_output=True,
                          text=True, check=True).stdout for p in (path, printed)]
    same = dis[0].split("\n", 1)[1] == dis[1].split("\n", 1)[1]  # line 1 names the file
    console.print(f"  printer round trip through llvm-as-22 | llvm-dis-22: {'identical' if same else 'DIFFERENT'}")
    if not same:
        raise RuntimeError("printed module differs from the original after llvm-as | llvm-dis")

    bad = "define i32 @f(i32 %x) {\nentry:\n  %y = add i32 %x, %z\n  ret i32 %y\n}\n"
    try:
        parse_llvm(bad, path="bad.ll")
    except ParseError as e:
        console.print("\nmalformed input gets a compiler-style error:")
        console.print(e.format())


@section("MLIR: dialect-agnostic parsing, generic printing, loop nests")
def demo_mlir(out: Path) -> None:
    from irtools.examples import mlir_sources
    from irtools.ir.mlir import parse_mlir
    from irtools.ir.mlir.analysis import loop_nests, op_histogram
    from irtools.ir.mlir.printer import print_generic

    for src in mlir_sources():
        mod = parse_mlir(src)
        ops = list(mod.walk())
        hist = op_histogram(mod)
        console.print(f"{src.name}: {len(ops)} operations; by dialect: "
                      + ", ".join(f"{d}={n}" for d, n in sorted(hist.items(), key=lambda kv: -kv[1])))
        for nest in loop_nests(mod):
            console.print(f"  loop nest: {nest}")
        generic = out / (src.stem + ".generic.mlir")
        generic.write_text(print_generic(mod))
        ok = subprocess.run(["mlir-opt-22", "--allow-unregistered-dialect", str(generic), "-o", "/dev/null"],
                            capture_output=True).returncode == 0
        console.print(f"  generic form accepted by mlir-opt-22: {ok}")


@section("Instruction counts: three solutions of one task, efficient@k")
def demo_measure(out: Path) -> None:
    from irtools.measure import measure
    from irtools.measure.metrics import efficient_at_k

    n = 2000
    rows = {}
    for fn in (sum_squares_loop, sum_squares_builtin, sum_squares_formula):
        m = measure(fn, n, repeat=3)
        rows[fn.__name__] = m
    t = Table(title=f"sum of squares below {n}")
    for c in ("solution", "instructions", "backend", "exact", "runs"):
        t.add_column(c)
    for name, m in rows.items():
        t.add_row(name, f"{m.instructions:,}", m.backend, str(m.exact), " ".join(f"{r:,}" for r in m.runs))
    console.print(t)
    ref = [rows["sum_squares_builtin"].instructions]
    cands = [rows["sum_squares_loop"].instructions, rows["sum_squares_formula"].instructions]
    console.print(f"efficient@1 of (loop, formula) against the builtin reference: "
                  f"{efficient_at_k([True, True], cands, ref, k=1):.2f}")
    (out / "counts.json").write_text(json.dumps({k: m.to_dict() for k, m in rows.items()}, indent=1))


@section("Cost model: per-function predictions from IR text")
def demo_cost(out: Path) -> None:
    from irtoolkit import costmodel
    from irtoolkit.costmodel.cli import print_predictions

    model = costmodel.load()
    path = out / "clang" / "crypto.O2.ll"
    preds = model.predict(path.read_text(), path=str(path))
    print_predictions(preds[:4], f"{path.name}: predicted by the shipped model",
                      ["machine_instructions", "text_bytes", "spills", "instructions_executed"])


@section("Fuzzer: a short coverage-guided campaign on TVM")
def demo_fuzz(out: Path, seconds: int = 60) -> None:
    campaign = out / "fuzz"
    if campaign.exists():
        import shutil

        shutil.rmtree(campaign)
    cmd = [sys.executable, "-m", "irtools", "fuzz", "--time", f"{seconds}s", "--out", str(campaign),
           "--seed", "1", "--reduce-time", "30"]
    console.print("$ " + " ".join(cmd[2:]).replace("-m irtools", "irtools"))
    rc = subprocess.run(cmd).returncode
    if rc not in (0, 1):  # 1: the campaign found something, as libFuzzer says so
        raise RuntimeError(f"irtools fuzz exited with status {rc}")
    subprocess.run([sys.executable, "-m", "irtools", "fuzz", "report", str(campaign)], check=True)
    stats = json.loads((campaign / "stats.json").read_text())
    console.print({k: stats[k] for k in list(stats)[:12]})


SECTIONS = [demo_llvm, demo_mlir, demo_measure, demo_cost, demo_fuzz]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "build" / "demo"), help="output folder (default build/demo)")
    ap.add_argument("--fuzz-seconds", type=int, default=60, help="length of the fuzzing campaign")
    ap.add_argument("--only", nargs="+", choices=[s.__name__.removeprefix("demo_") for s in SECTIONS],
                    help="run only these sections")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for sec in SECTIONS:
        if args.only and sec.__name__.removeprefix("demo_") not in args.only:
            continue
        console.rule(f"[bold]{sec.title}")
        t = time.perf_counter()
        try:
            if sec is demo_fuzz:
                sec(out, args.fuzz_seconds)
            else:
                sec(out)
        except Exception as e:  # the demo goes on: one broken capability must not hide the others
            failed.append(sec.__name__)
            console.print(f"[red]this section failed: {type(e).__name__}: {e}[/red]")
            console.print(traceback.format_exc(), style="dim")
        console.print(f"[dim]({time.perf_counter() - t:.1f} s)[/dim]")
    console.rule()
    console.print(f"outputs in {out}" + (f"; [red]failed: {', '.join(failed)}[/red]" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        sys.exit(main())
