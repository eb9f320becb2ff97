"""MLIR parsing speed: our C parser alone, into the Python model, mlir-opt-22 and iree's bindings, in one run.

Input (issue 5, "Large input"): the llvm dialect import (``mlir-translate-22 --import-llvm``) of the LLVM
benchmark's module -- the SQLite3MC amalgamation compiled by clang-22 -O2 (``_data.py``) -- in its
pretty form and in mlir-opt's generic form, cached under build/bench-data/.

Our times are process CPU time (best of N), so that the other work on a shared machine counts as
little as it can.  mlir-opt-22 (verifier off, so it only parses and prints) is measured three ways:
its own ``--mlir-timing`` "Parser" line (wall), its CPU time (rusage of the child) minus that of an
empty file, and that CPU time times the Parser share of its timing report (its parse in CPU time,
printing left out).  The ratios use the smallest of its parse times.  iree-base-compiler's Python
bindings are a further peer when they are importable.

    .venv/bin/python benchmarks/parse_mlir.py [--out results/parse_mlir.json] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import machine, write_json  # noqa: E402
from _data import CACHE, large_module  # noqa: E402

from irtools.ir.mlir import parse_mlir  # noqa: E402
from irtools.ir.mlir.model import _native  # noqa: E402
from irtools.ir.mlir.samples import llvm_dialect_from_ll  # noqa: E402

OPT = "mlir-opt-22"
OPT_FLAGS = ["--allow-unregistered-dialect", "--mlir-very-unsafe-disable-verifier-on-parsing",
             "--mlir-disable-threading"]
TARGET_MBPS, TARGET_RATIO, TARGET_OPS, TARGET_OPS_S = 100.0, 3.0, 286_000, 1.0


def best_cpu(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def c_parser_seconds(data: bytes, repeat: int) -> float:
    lib, ffi = _native()
    buf = ffi.from_buffer(data)

    def run():
        r = lib.mlp_parse(buf, 0, len(data))
        lib.mlp_free(r)
    return best_cpu(run, repeat)


def model_seconds(path: Path, repeat: int) -> tuple[float, int]:
    count = [0]

    def run():
        mod = parse_mlir(path)
        names = [op.name for op in mod.walk()]  # one view per op, with its name: the model, not just C
        count[0] = len(names)
    return best_cpu(run, repeat), count[0]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def mlir_opt_seconds(path: Path, repeat: int) -> dict:
    parser, cpu, share = [], [], []
    for _ in range(repeat):
        c0 = _children_cpu()
        r = subprocess.run([OPT, *OPT_FLAGS, "--mlir-timing", str(path), "-o", "/dev/null"], capture_output=True,
                           text=True, check=True)
        cpu.append(_children_cpu() - c0)
        m = re.search(r"([\d.]+)\s+\(\s*([\d.]+)%\)\s+Parser", r.stderr)
        if m:
            parser.append(float(m.group(1)))
            share.append(float(m.group(2)) / 100)
    return {"parser_s": min(parser) if parser else None, "cpu_s": min(cpu),
            "parser_share": share[cpu.index(min(cpu))] if share else None}


def iree_seconds(path: Path, repeat: int) -> tuple[float | None, str]:
    """Best CPU time of iree's Python bindings parsing the file (verifier on), or None and the reason."""
    try:
        from iree.compiler import ir  # type: ignore
    except ImportError:
        return None, "iree-base-compiler bindings not importable"
    text = path.read_text()

    def run():
        with ir.Context() as ctx:
            ctx.allow_unregistered_dialects = True
            ir.Module.parse(text)
    try:
        return best_cpu(run, repeat), "ok"
    except Exception as e:  # noqa: BLE001 - a peer that cannot read the input is reported, not fatal
        return None, str(e).strip().splitlines()[-1][:300]


def bench_form(path: Path, startup_cpu: float, repeat: int) -> dict:
    data = path.read_bytes()
    mb = len(data) / 1e6
    c_s = c_parser_seconds(data, repeat)
    m_s, nops = model_seconds(path, repeat)
    opt = mlir_opt_seconds(path, max(2, repeat // 2))
    opt_cpu = max(opt["cpu_s"] - startup_cpu, 1e-9)
    opt_parse_cpu = opt_cpu * opt["parser_share"] if opt["parser_share"] else None
    peer = min(x for x in (opt["parser_s"], opt_parse_cpu, opt_cpu) if x)
    iree, why = iree_seconds(path, max(1, repeat // 2))
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "bytes": len(data), "operations": nops,
        "c_parser_cpu_s": c_s, "c_parser_MBps": mb / c_s,
        "model_cpu_s": m_s, "model_MBps": mb / m_s,
        "model_s_per_286k_ops": m_s * TARGET_OPS / nops,
        "mlir_opt_parser_timer_s": opt["parser_s"],
        "mlir_opt_cpu_minus_startup_s": opt_cpu,
        "mlir_opt_parse_cpu_est_s": opt_parse_cpu,
        "mlir_opt_parse_s": peer, "mlir_opt_MBps": mb / peer,
        "iree_python_cpu_s": iree, "iree_python_status": why, "iree_python_MBps": mb / iree if iree else None,
        "ratios": {"c_parser_vs_mlir_opt": peer / c_s, "model_vs_mlir_opt": peer / m_s,
                   **({"c_parser_vs_iree_python": iree / c_s} if iree else {})},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="JSON path (default results/parse_mlir.json)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    ll = large_module("O2")
    pretty, generic = llvm_dialect_from_ll(ll, CACHE)
    empty = CACHE / "empty.mlir"
    empty.write_text("")
    startup = mlir_opt_seconds(empty, args.repeat)["cpu_s"]
    load_before = os.getloadavg()[0]
    rows = {form: bench_form(path, startup, args.repeat) for form, path in (("generic", generic), ("pretty", pretty))}
    g = rows["generic"]
    result = {
        "benchmark": "parse_mlir",
        "input": f"mlir-translate-22 --import-llvm of {ll.name} (clang-22 -O2 of the SQLite3MC amalgamation); "
                 "generic form: mlir-opt-22 --mlir-print-op-generic",
        "machine": {**machine(), "loadavg_1m_before": load_before},
        "mlir_opt": subprocess.run([OPT, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-2:],
        "mlir_opt_startup_cpu_s": startup,
        "targets": {
            "generic_c_parser_MBps>=100": g["c_parser_MBps"] >= TARGET_MBPS,
            "generic_c_parser_vs_mlir_opt>=3": g["ratios"]["c_parser_vs_mlir_opt"] >= TARGET_RATIO,
            "286k_ops_into_model<1s": g["model_s_per_286k_ops"] < TARGET_OPS_S
                                      and rows["pretty"]["model_s_per_286k_ops"] < TARGET_OPS_S,
        },
        "results": rows,
    }
    out = write_json("parse_mlir", result, args.out)
    print(out.read_text())
    _plot(result, out.with_suffix(".png"))
    return 0


def _plot(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    forms = list(result["results"])
    series = [("irtools C parser", "c_parser_MBps"), ("irtools Python model (parse + walk)", "model_MBps"),
              ("mlir-opt-22 parse", "mlir_opt_MBps"), ("iree Python bindings", "iree_python_MBps")]
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    width = 0.2
    for k, (label, key) in enumerate(series):
        vals = [result["results"][f][key] or 0 for f in forms]
        bars = ax.bar([i + k * width for i in range(len(forms))], vals, width, label=label)
        ax.bar_label(bars, labels=[f"{v:.0f}" if v else "fails" for v in vals], fontsize=7, padding=2)
    for i, f in enumerate(forms):
        r = result["results"][f]
        ax.text(i + width, r["model_MBps"] * 0.5, f"{r['model_cpu_s']:.2f} s\n{r['operations'] / 1e3:.0f}k ops",
                ha="center", fontsize=7, color="white")
    ax.axhline(TARGET_MBPS, ls="--", color="#c44e52", lw=1)
    ax.text(len(forms) - 0.5, TARGET_MBPS, " target 100 MB/s", color="#c44e52", va="bottom", fontsize=8)
    ops = result["results"]["generic"]["operations"]
    ax.set_xticks([i + 1.5 * width for i in range(len(forms))],
                  [f"{f} form ({result['results'][f]['bytes'] / 1e6:.0f} MB, {ops / 1e3:.0f}k ops)" for f in forms])
    ax.set_ylabel("MB/s (CPU time; higher is better)")
    ax.set_title(f"Parsing the llvm-dialect import of SQLite3MC (load {result['machine']['loadavg_1m_before']:.1f})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
