"""The modules behind tests/data/llvm_features_golden.npz: a fixed sample of the public corpus (chosen by
hash of the path, so the same files on every machine) and the bundled C programs at -O0/-O2 by clang-22."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import CORPUS

PER_DIR = 40          # files per corpus folder
MAX_BYTES = 200_000   # keep the sample quick to featurise


def corpus_sample(*, with_inexact: bool = False) -> list[tuple[str, bytes]]:
    """PER_DIR files of each corpus folder; with_inexact adds every file where the C featuriser of
    main (Dec 2026) left a row to the Python reference (AutoUpgrade, shared names, big integers)."""
    out = []
    root = CORPUS / "llvm"
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted((p for p in sub.rglob("*.ll") if p.stat().st_size <= MAX_BYTES),
                       key=lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).digest())
        out += [(f"corpus:{p.relative_to(root).as_posix()}", p.read_bytes()) for p in files[:PER_DIR]]
    if with_inexact:
        from irtoolkit.costmodel import features as F

        seen = {k for k, _ in out}
        for p in sorted(root.rglob("*.ll")):
            key = f"corpus:{p.relative_to(root).as_posix()}"
            res = F.c_feature_rows(data := p.read_bytes())
            if key not in seen and res is not None and not res[2].all() and len(data) <= MAX_BYTES:
                out.append((key, data))
    return out


def read_key(key: str, tmp: Path) -> bytes:
    """The module a fixture key names (``corpus:<path under llvm/>`` or ``clang:<file>``)."""
    kind, name = key.split(":", 1)
    if kind == "corpus":
        return (CORPUS / "llvm" / name).read_bytes()
    return (tmp / name).read_bytes()


def clang_sample(tmp: Path) -> list[tuple[str, bytes]]:
    from irtools.examples import build_c_corpus

    return [(f"clang:{p.name}", p.read_bytes()) for p in sorted(build_c_corpus(tmp), key=lambda p: p.name)]
