"""Benchmark inputs made by the project itself: a large real C program from a package
registry, compiled by clang-22.

The program is the SQLite3 Multiple Ciphers amalgamation (``sqlite3.c``, 13 MB of C, MIT and
public domain) from the ``apsw-sqlite3mc`` source distribution on PyPI.  It is fetched once
through PyPI's JSON API, checked against the digest PyPI publishes, and cached under
``build/bench-data/`` with its compiled IR.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench-data"
SDIST = ("apsw-sqlite3mc", "3.54.0.0")
MEMBER = "sqlite3/sqlite3.c"
CLANG = "clang-22"

# name -> clang flags; the names are used in file names and JSON results
VARIANTS = {"O2": ["-O2"], "O2g": ["-O2", "-g"]}


def _fetch_sdist() -> Path:
    name, version = SDIST
    meta_url = f"https://pypi.org/pypi/{name}/json"  # pinned below: the release, and its digest
    with urllib.request.urlopen(meta_url, timeout=60) as r:
        meta = json.load(r)
    (entry,) = [u for u in meta["releases"][version] if u["packagetype"] == "sdist"]
    dest = CACHE / entry["filename"]
    if not dest.exists():
        url = urllib.parse.urljoin(meta_url, entry["url"])
        tmp = _scratch(dest)
        with urllib.request.urlopen(url, timeout=300) as r, open(tmp, "wb") as f:
            shutil.copyfileobj(r, f)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        if digest != entry["digests"]["sha256"]:
            tmp.unlink()
            raise RuntimeError(f"{url}: sha256 {digest} does not match PyPI's {entry['digests']['sha256']}")
        tmp.rename(dest)
    return dest


def _scratch(dest: Path) -> Path:
    """A name beside ``dest`` that no other process writes: two benchmarks (or test workers) making
    the same file each write their own and the last rename wins, whole."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.part{dest.suffix}")


def large_c_source() -> Path:
    """Path of the large C file (downloaded and unpacked on first use)."""
    out = CACHE / "sqlite3mc.c"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = _fetch_sdist()
    with tarfile.open(sdist) as tar:
        (member,) = [m for m in tar.getmembers() if m.name.endswith("/" + MEMBER)]
        data = tar.extractfile(member).read()
    tmp = _scratch(out)
    tmp.write_bytes(data)
    tmp.rename(out)
    return out


def large_module(variant: str = "O2") -> Path:
    """The large C program compiled to LLVM IR text by clang-22 (``-O2`` or ``-O2 -g``)."""
    out = CACHE / f"sqlite3mc.{variant}.ll"
    if out.exists():
        return out
    src = large_c_source()
    tmp = _scratch(out)
    subprocess.run([CLANG, *VARIANTS[variant], "-S", "-emit-llvm", "-o", str(tmp), str(src)],
                   check=True, capture_output=True)
    tmp.rename(out)
    return out


if __name__ == "__main__":
    for v in VARIANTS:
        p = large_module(v)
        print(f"{p}  {p.stat().st_size / 1e6:.1f} MB")
