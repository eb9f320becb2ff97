"""MLIR parsing speed: our C parser alone, into the Python model, and mlir-opt-22, in one run.

Input: the llvm dialect import (``mlir-translate-22 --import-llvm``) of a generated C file compiled
with ``clang-22 -O2``, in its pretty form and in mlir-opt's generic form.  mlir-opt-22's parse time is
its own ``--mlir-timing`` "Parser" line (verifier off, so it is parsing only); its wall time minus
the start-up on an empty file is reported too.  iree-base-compiler's Python bindings are used as a
further peer when they are importable.

    .venv/bin/python benchmarks/parse_mlir.py --out results/parse_mlir.json [--funcs 3000]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from irtools.ir.mlir import parse_mlir  # noqa: E402
from irtools.ir.mlir.model import _native  # noqa: E402
from irtools.ir.mlir.samples import generate_c, llvm_dialect_from_c  # noqa: E402

OPT = "mlir-opt-22"
OPT_FLAGS = ["--allow-unregistered-dialect", "--mlir-very-unsafe-disable-verifier-on-parsing"]


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def c_parser_seconds(data: bytes, repeat: int) -> float:
    lib, ffi = _native()
    buf = ffi.from_buffer(data)

    def run():
        r = lib.mlp_parse(buf, 0, len(data))
        lib.mlp_free(r)
    return best_of(run, repeat)


def model_seconds(path: Path, repeat: int) -> tuple[float, int]:
    count = [0]

    def run():
        mod = parse_mlir(path)
        names = [op.name for op in mod.walk()]  # one view per op, with its name: the model, not just C
        count[0] = len(names)
    return best_of(run, repeat), count[0]


def mlir_opt_seconds(path: Path, repeat: int) -> dict:
    parser, wall = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run([OPT, *OPT_FLAGS, "--mlir-timing", str(path), "-o", "/dev/null"], capture_output=True,
                           text=True, check=True)
        wall.append(time.perf_counter() - t)
        m = re.search(r"([\d.]+)\s+\(\s*[\d.]+%\)\s+Parser", r.stderr)
        if m:
            parser.append(float(m.group(1)))
    return {"parser_s": min(parser) if parser else None, "wall_s": min(wall)}


def iree_seconds(path: Path, repeat: int) -> tuple[float | None, str]:
    """Best time of iree's Python bindings parsing the file (verifier on), or None and the reason."""
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
        return best_of(run, repeat), "ok"
    except Exception as e:  # noqa: BLE001 - a peer that cannot read the input is reported, not fatal
        return None, str(e).strip().splitlines()[-1][:300]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/parse_mlir.json")
    ap.add_argument("--funcs", type=int, default=3000, help="functions in the generated C file")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pretty, generic = llvm_dialect_from_c(generate_c(args.funcs, seed=0), Path(tmp))
        empty = Path(tmp) / "empty.mlir"
        empty.write_text("")
        startup = mlir_opt_seconds(empty, args.repeat)["wall_s"]
        rows = {}
        for form, path in (("generic", generic), ("pretty", pretty)):
            data = path.read_bytes()
            mb = len(data) / 1e6
            c_s = c_parser_seconds(data, args.repeat)
            m_s, nops = model_seconds(path, args.repeat)
            opt = mlir_opt_seconds(path, args.repeat)
            opt_wall = max(opt["wall_s"] - startup, 1e-9)
            row = {
                "bytes": len(data), "operations": nops,
                "c_parser_s": c_s, "c_parser_MBps": mb / c_s,
                "model_s": m_s, "model_MBps": mb / m_s,
                "mlir_opt_parser_s": opt["parser_s"],
                "mlir_opt_parser_MBps": mb / opt["parser_s"] if opt["parser_s"] else None,
                "mlir_opt_wall_minus_startup_s": opt_wall,
                "mlir_opt_wall_MBps": mb / opt_wall,
            }
            iree, why = iree_seconds(path, args.repeat)
            row["iree_python_s"] = iree
            row["iree_python_status"] = why
            row["iree_python_MBps"] = mb / iree if iree else None
            if opt["parser_s"]:
                row["c_vs_mlir_opt_parser"] = opt["parser_s"] / c_s
                row["model_vs_mlir_opt_parser"] = opt["parser_s"] / m_s
            rows[form] = row
    result = {
        "benchmark": "parse_mlir",
        "input": f"clang-22 -O2 of generate_c({args.funcs}) -> mlir-translate-22 --import-llvm",
        "machine": platform.platform(), "python": platform.python_version(),
        "mlir_opt": subprocess.run([OPT, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-2:],
        "mlir_opt_startup_s": startup,
        "results": rows,
    }
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    _plot(result, out.with_suffix(".png"))
    return 0


def _plot(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    forms = list(result["results"])
    series = [("irtools C parser", "c_parser_MBps"), ("irtools Python model", "model_MBps"),
              ("mlir-opt-22 parser", "mlir_opt_parser_MBps"), ("mlir-opt-22 wall - start-up", "mlir_opt_wall_MBps"),
              ("iree Python bindings", "iree_python_MBps")]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.16
    for k, (label, key) in enumerate(series):
        vals = [result["results"][f][key] or 0 for f in forms]
        ax.bar([i + k * width for i in range(len(forms))], vals, width, label=label)
    ax.set_xticks([i + 2 * width for i in range(len(forms))], [f"{f} form" for f in forms])
    ax.set_ylabel("MB/s")
    ax.set_title("Parsing the llvm-dialect import of a large C file")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


if __name__ == "__main__":
    raise SystemExit(main())
