"""Finding the external tools that make labels, and the versions a dataset row records."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from irtools.errors import IrtoolsError


class ToolMissing(IrtoolsError):
    """A labelling tool is not installed; the message says which package provides it."""


_HINTS = {
    "clang-22": "apt-get install clang-22",
    "llc-22": "apt-get install llvm-22",
    "llvm-nm-22": "apt-get install llvm-22",
    "llvm-mca-22": "apt-get install llvm-22",
    "mlir-opt-22": "apt-get install mlir-22-tools",
    "mlir-translate-22": "apt-get install mlir-22-tools",
    "valgrind": "apt-get install valgrind",
    "ptxas": "pip install nvidia-cuda-nvcc-cu12 (ships ptxas)",
}


def _wheel_ptxas() -> str | None:
    # PyPI's nvidia-cuda-nvcc-cu12 puts ptxas in site-packages/nvidia/cuda_nvcc/bin: preferred over
    # whatever CUDA happens to be on PATH, since it is what a fresh install gets.
    try:
        import nvidia.cuda_nvcc as pkg  # type: ignore[import-not-found]
    except ImportError:
        pkg = None
    roots = [Path(p) for p in getattr(pkg, "__path__", [])] if pkg else []
    roots.append(Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
                 / "site-packages" / "nvidia" / "cuda_nvcc")
    for root in roots:
        cand = root / "bin" / "ptxas"
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


@functools.cache
def find(name: str) -> str | None:
    if name == "ptxas":
        return _wheel_ptxas() or shutil.which("ptxas")
    return shutil.which(name)


def require(name: str) -> str:
    path = find(name)
    if path is None:
        raise ToolMissing(f"{name} not found ({_HINTS.get(name, 'install it')})")
    return path


@functools.cache
def version(name: str) -> str:
    """First informative line of the tool's --version output (recorded in every label)."""
    path = require(name)
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    lines = [ln.strip() for ln in (out.stdout + out.stderr).splitlines() if ln.strip()]
    for ln in lines:
        low = ln.lower()
        if "version" in low or low.startswith("valgrind") or "cuda compilation tools" in low:
            return ln
    return lines[0] if lines else "unknown"
