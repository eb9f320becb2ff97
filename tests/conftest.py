"""Shared fixtures: where the public corpus lives and the real LLVM/MLIR tools."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ../shared/corpus beside the checkout (how sessions and CI lay it out); IRTOOLS_CORPUS overrides.
CORPUS = Path(os.environ.get("IRTOOLS_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_dir(*parts: str) -> Path:
    """The corpus folder, or a skip that says why the test did not run."""
    path = CORPUS.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"public corpus not found at {path} (set IRTOOLS_CORPUS)")
    return path


def compare_value_types(a, b, *, strict: bool) -> tuple[int, int, list[tuple[str, str, str]]]:
    """(known, unknown, wrong) types of the values op ``a`` defines (results, block arguments of its
    regions) against the same values of ``b``, the op mlir-opt printed for it.  ``strict`` requires
    equal counts; otherwise pairs stop at the shorter side (custom forms that leave regions or block
    arguments implicit)."""
    values = list(zip(a.results, b.results, strict=strict))
    for ra, rb in zip(a.regions, b.regions, strict=strict):
        for ba, bb in zip(ra.blocks, rb.blocks, strict=strict):
            values += list(zip(ba.arguments, bb.arguments, strict=strict))
    known = unknown = 0
    wrong = []
    for x, y in values:
        if x.type is None:
            unknown += 1
        elif x.type == y.type:
            known += 1
        else:
            wrong.append((a.name, str(x.type), str(y.type)))
    return known, unknown, wrong


def need_tool(name: str) -> str:
    """Path of a real tool (llvm-as-22, mlir-opt-22, valgrind...), or a skip naming the package."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


def asan_build(names: list[str], outdir: Path) -> dict[str, str]:
    """Build the ASan+UBSan variants of C components into ``outdir`` (modules ``_c_<name>``) and return
    the environment a Python that imports them runs in (gcc's libasan preloaded; a report exits 99,
    undefined behaviour 98), or skip when libasan is not installed."""
    lib = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not os.path.isabs(lib):
        pytest.skip("gcc's libasan.so is not installed")
    from irtools import _build

    _build.build_inplace(list(names), sanitize=True, outdir=outdir)
    return dict(os.environ, LD_PRELOAD=lib, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=99",
                UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98")


@pytest.fixture(scope="session")
def corpus_root() -> Path:
    return corpus_dir()


@pytest.fixture(scope="session")
def clang_corpus(tmp_path_factory) -> list[Path]:
    """Real LLVM IR made by clang-22 from the bundled C programs (several -O levels, with -g)."""
    from irtools.examples import build_c_corpus

    need_tool("clang-22")
    # one folder per test session (each xdist worker builds its own: a few seconds)
    return build_c_corpus(tmp_path_factory.mktemp("clang-corpus"))
