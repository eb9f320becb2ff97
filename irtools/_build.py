"""cffi builders for the C core (API mode, out of line).

Each C component ``csrc/<name>.c`` belongs to one extension module ``irtools._c_<ext>``
(:data:`EXTENSIONS`); separate extensions keep one build problem from hiding another's, and
components that share code share an extension (llfeatures reads llparse's tables: one parser,
linked once).  The C declarations that Python may use are the region of ``csrc/<name>.h``
between the lines ``/* CFFI-BEGIN */`` and ``/* CFFI-END */``: the header is the single
statement of the contract.

Used three ways:
  * by ``setup.py`` (``cffi_modules``) when the package is installed;
  * ``python irtools/_build.py [NAME ...] [--asan]`` for an in-place build while developing;
  * by the test suite, to build the ASan+UBSan variant into a scratch folder.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"

# extension -> its components (csrc/<name>.c and .h each), the first one naming the extension
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "llparse": ("llparse",       # LLVM IR text -> flat tables
                "llfeatures"),   # cost-model features of LLVM IR text, from those tables
    "mlirparse": ("mlirparse",),  # MLIR text -> flat tables
    "counters": ("counters",),   # perf_event_open + valgrind client requests
    "covtrace": ("covtrace",),   # one-shot int3 breakpoint coverage (fuzzer)
    "gbdt": ("gbdt",),           # LightGBM forests walked a block of rows at a time (cost-model predictions)
}
# headers every extension declares (their CFFI region, no .c): the status codes of csrc/irt_status.h
SHARED_HEADERS: tuple[str, ...] = ("irt_status",)
# component -> the extension that holds it
COMPONENTS: dict[str, str] = {c: ext for ext, cs in EXTENSIONS.items() for c in cs}

BASE_CFLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
SANITIZE_CFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                   "-fno-sanitize-recover=undefined"]

_CDEF_RE = re.compile(r"/\*\s*CFFI-BEGIN\s*\*/(.*?)/\*\s*CFFI-END\s*\*/", re.S)


def available() -> list[str]:
    """The extensions whose every component has its .c and .h."""
    return [e for e, cs in EXTENSIONS.items()
            if all((CSRC / f"{c}.c").exists() and (CSRC / f"{c}.h").exists() for c in cs)]


def _cdef(name: str) -> str:
    m = _CDEF_RE.search((CSRC / f"{name}.h").read_text())
    if not m:
        raise RuntimeError(f"csrc/{name}.h has no /* CFFI-BEGIN */ ... /* CFFI-END */ region")
    return m.group(1)


def make_ffi(name: str, *, sanitize: bool = False, module_prefix: str = "irtools.", relative: bool = True) -> FFI:
    """The builder of extension ``name`` (or of the extension holding component ``name``)."""
    name = COMPONENTS.get(name, name)
    parts = EXTENSIONS[name]
    ffi = FFI()
    ffi.cdef("".join(_cdef(c) for c in (*SHARED_HEADERS, *parts)))
    sources = [str(CSRC / f"{c}.c") for c in parts]
    if relative:  # setup.py wants paths relative to the project root
        sources = [os.path.relpath(s, ROOT) for s in sources]
    cflags = BASE_CFLAGS + (SANITIZE_CFLAGS if sanitize else [])
    ffi.set_source(
        f"{module_prefix}_c_{name}",
        "".join(f'#include "{c}.h"\n' for c in (*SHARED_HEADERS, *parts)),
        sources=sources,
        include_dirs=[str(CSRC)],
        extra_compile_args=cflags,
        extra_link_args=["-fsanitize=address,undefined"] if sanitize else [],
    )
    return ffi


# Module-level builders for setup.py's cffi_modules ("irtools/_build.py:llparse_ffi").
for _n in available():
    globals()[f"{_n}_ffi"] = make_ffi(_n)
CFFI_MODULES = [f"irtools/_build.py:{n}_ffi" for n in available()]


def build_inplace(names: list[str] | None = None, *, sanitize: bool = False, outdir: Path | None = None,
                  verbose: bool = False) -> list[Path]:
    """Compile extensions (named by themselves or by a component they hold) into the package (or, as
    top-level modules ``_c_<ext>``, into ``outdir``).

    Returns the paths of the built extension files.
    """
    out = []
    tmp = ROOT / "build" / ("asan" if sanitize else "inplace")
    tmp.mkdir(parents=True, exist_ok=True)
    for n in dict.fromkeys(COMPONENTS.get(n, n) for n in names or available()):
        ffi = make_ffi(n, sanitize=sanitize, module_prefix="" if outdir else "irtools.", relative=False)
        so = Path(ffi.compile(tmpdir=str(tmp), verbose=verbose))
        dest = Path(outdir) / so.name if outdir else ROOT / so.relative_to(tmp)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if so != dest:
            os.replace(so, dest)
        if not outdir:  # a stale build with another suffix (abi3 from pip, say) must not shadow this one
            for other in dest.parent.glob(f"_c_{n}.*.so"):
                if other != dest:
                    other.unlink()
            for gone in (c for c in EXTENSIONS[n] if c != n):   # a component once built on its own
                for other in dest.parent.glob(f"_c_{gone}.*.so"):
                    other.unlink()
        out.append(dest)
    return out


ASAN_DIR = ROOT / "build" / "asan-modules"

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    asan = "--asan" in sys.argv  # sanitized modules never replace the package's own
    for path in build_inplace(args or None, sanitize=asan, outdir=ASAN_DIR if asan else None,
                              verbose="-v" in sys.argv):
        print(path)
