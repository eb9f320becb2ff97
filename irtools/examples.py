"""Bundled example programs and the small real-IR corpus made from them.

The C sources in ``irtools/data/c/`` are compiled by clang-22 at several optimisation
settings, so that a fresh clone has real LLVM IR to test and demo against without the
public corpus; ``irtools/data/mlir/`` holds MLIR accepted by ``mlir-opt-22``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import IrtoolsError

DATA = Path(__file__).resolve().parent / "data"
CLANG = "clang-22"

# variant name -> clang flags; every C file is compiled once per variant
CLANG_VARIANTS: dict[str, list[str]] = {
    "O0": ["-O0"],
    "O1": ["-O1"],
    "O2": ["-O2"],
    "O2g": ["-O2", "-g"],
    "O3v3": ["-O3", "-march=x86-64-v3", "-funroll-loops"],
}


def c_sources() -> list[Path]:
    return sorted((DATA / "c").glob("*.c"))


def mlir_sources() -> list[Path]:
    return sorted((DATA / "mlir").glob("*.mlir"))


def compile_c(src: Path, out: Path, flags: list[str], *, clang: str = CLANG) -> Path:
    """Compile one C file to LLVM IR text; raises IrtoolsError with clang's message on failure."""
    if shutil.which(clang) is None:
        raise IrtoolsError(f"{clang} is not installed (scripts/setup.sh installs Debian's clang-22)")
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    proc = subprocess.run([clang, *flags, "-S", "-emit-llvm", "-o", str(tmp), str(src)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise IrtoolsError(f"{clang} failed on {src}:\n{proc.stderr}")
    os.replace(tmp, out)  # atomic: concurrent test workers may build the same corpus
    return out


def build_c_corpus(outdir: str | os.PathLike, variants: dict[str, list[str]] | None = None) -> list[Path]:
    """Compile every bundled C file at every variant into ``outdir``; returns the ``.ll`` paths.

    Files already present are reused, so calling this again is cheap.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for src in c_sources():
        for name, flags in (variants or CLANG_VARIANTS).items():
            out = outdir / f"{src.stem}.{name}.ll"
            jobs.append((src, out, flags))
    todo = [j for j in jobs if not j[1].exists()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda j: compile_c(*j), todo))
    return [out for _, out, _ in jobs]
