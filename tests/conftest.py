"""Shared fixtures: where the public corpus lives and the real LLVM/MLIR tools."""

from __future__ import annotations

import os
import shutil
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


def need_tool(name: str) -> str:
    """Path of a real tool (llvm-as-22, mlir-opt-22, valgrind...), or a skip naming the package."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


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
