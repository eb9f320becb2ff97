"""GPU pairs for the MLIR cost model: (high-level MLIR function, GPU lowering) → registers per thread.

The linalg ops of a generated program (:func:`irtoolkit.costmodel.dataset.mlirpairs.generate`) become
parallel loops, optionally tiled (``scf-parallel-loop-tiling``: the outer loops map to blocks, the
inner to threads), GPU launches (``gpu-map-parallel-loops``, ``convert-parallel-loops-to-gpu``),
outlined kernels, and PTX through MLIR's own ``gpu-lower-to-nvvm-pipeline``.  ptxas -v then reports each
kernel's registers per thread for sm_80 and sm_90.  A function's label is the most registers any of
its kernels uses (a fill, a matmul and an epilogue are three launches; the heaviest sets what the
function needs).  Functions with no parallel loop (scalar code, scf.for nests) make no kernel and no row.

    python -m irtoolkit.costmodel.dataset.mlirgpu build build/mlirgpu --programs 150 --configs 5

Resumable like the CPU pairs: one JSON-lines shard per ten programs, rejected lowerings recorded in the
shard's ``.errors.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from .. import tools
from .labellers import LabelError, _run, parse_ptxas
from .mlirgen import run_pipeline
from .mlirpairs import BUFFERIZE, LINALG_FAMILIES, _write_atomic, generate, write_shards

ARCHS = ("sm_80", "sm_90")
TILES = (0, 4, 8, 16, 32)
TARGETS = tuple(f"gpu_registers_{a.replace('_', '')}" for a in ARCHS)


def gpu_pipeline(tile: int, arch: str = "sm_80") -> str:
    """The ``--pass-pipeline`` lowering linalg on memrefs (tensors bufferised first) to NVVM and PTX."""
    fn = ["convert-linalg-to-parallel-loops"]
    if tile:
        fn.append(f"scf-parallel-loop-tiling{{parallel-loop-tile-sizes={tile},{tile}}}")
    fn += ["gpu-map-parallel-loops", "convert-parallel-loops-to-gpu"]
    return (f"builtin.module({BUFFERIZE},func.func({','.join(fn)}),gpu-kernel-outlining,"
            f"gpu-lower-to-nvvm-pipeline{{cubin-chip={arch} cubin-features=+ptx80 cubin-format=isa}})")


_BINARY = re.compile(r'gpu\.binary @([\w$.-]+).*?assembly = "((?:[^"\\]|\\.)*)"', re.S)
_KERNEL = re.compile(r"^(.*)_kernel(?:_\d+)?$")


def _unescape(s: str) -> str:
    """An MLIR string attribute's text (``\\0A`` → newline)."""
    return re.sub(r"\\([0-9A-Fa-f]{2}|\\|\")", lambda m: m.group(1) if m.group(1) in ('\\', '"')
                  else chr(int(m.group(1), 16)), s)


def registers(source: str, tile: int, arch: str, workdir: Path) -> dict[str, float]:
    """Function name → the most registers per thread any of its kernels uses on ``arch``."""
    ptxas = tools.require("ptxas")
    out = run_pipeline(source, gpu_pipeline(tile, arch), workdir, "the GPU lowering")
    best: dict[str, float] = {}
    for m in _BINARY.finditer(out.read_text()):
        fn = _KERNEL.match(m.group(1))
        if fn is None:
            continue
        ptx = workdir / "k.ptx"
        ptx.write_text(_unescape(m.group(2)))
        p = _run([ptxas, "-v", f"-arch={arch}", str(ptx), "-o", "/dev/null"], timeout=120)
        for per in parse_ptxas(p.stderr).values():
            if arch in per:
                best[fn.group(1)] = max(best.get(fn.group(1), 0.0), per[arch]["registers"])
    return best


def program_rows(prog, tiles: list[int], workdir: Path) -> tuple[list[dict], list[str]]:
    rows, errors = [], []
    fams = {k.name: k.family for k in prog.kernels}
    for tile in tiles:
        try:
            per = {arch: registers(prog.source, tile, arch, workdir) for arch in ARCHS}
        except LabelError as e:
            errors.append(f"{prog.name} tile={tile}: {e}")
            continue
        for fn, fam in fams.items():
            labels = {t: per[a][fn] for t, a in zip(TARGETS, ARCHS, strict=True) if fn in per[a]}
            if labels:
                rows.append({"program": prog.name, "seed": prog.seed, "function": fn, "family": fam,
                             "config": {"gpu_tile": tile}, "pipeline": gpu_pipeline(tile), "source": prog.source,
                             "labels": labels})
    return rows, errors


def build(out: str | Path, *, programs: int, configs: int, first_seed: int = 300000, per_shard: int = 10,
          progress: bool = True) -> dict:
    """Build (or resume) GPU pairs of ``programs`` programs × ``configs`` tile sizes under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"generator": "irtoolkit.costmodel.dataset.mlirgpu", "first_seed": first_seed, "programs": programs,
            "configs": configs, "archs": list(ARCHS), "targets": list(TARGETS),
            "tools": {t: tools.version(t) for t in ("mlir-opt-22", "ptxas")}}
    _write_atomic(out / "meta.json", json.dumps(meta, indent=1) + "\n")

    def rows_of(seed: int, tmp: Path) -> tuple[list[dict], list[str]]:
        rng = np.random.default_rng([seed, 0x475055])
        tiles = [0] + [int(t) for t in rng.permutation(TILES[1:])[:max(configs - 1, 0)]]
        return program_rows(generate(seed, families=LINALG_FAMILIES), tiles, tmp)
    return write_shards(out, range(first_seed, first_seed + programs), per_shard, rows_of, progress=progress)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m irtoolkit.costmodel.dataset.mlirgpu", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="GPU pairs: generated linalg programs × parallel-loop tile sizes → ptxas registers")
    b.add_argument("out")
    b.add_argument("--programs", type=int, default=150)
    b.add_argument("--configs", type=int, default=5, help="tile sizes per program (the untiled one first)")
    b.add_argument("--first-seed", type=int, default=300000)
    a = ap.parse_args(argv)
    print(json.dumps(build(a.out, programs=a.programs, configs=a.configs, first_seed=a.first_seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
