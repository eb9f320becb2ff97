"""cffi builders for the C core (API mode, out of line).

Each C component in ``csrc/`` becomes its own extension module ``irtools._c_<name>`` so that
one component's build problem never hides another's.  The C declarations that Python may use
are the region of ``csrc/<name>.h`` between the lines ``/* CFFI-BEGIN */`` and
``/* CFFI-END */``: the header is the single statement of the contract.

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

# name -> extra C sources besides csrc/<name>.c
COMPONENTS: dict[str, list[str]] = {
    "llparse": [],     # LLVM IR text -> flat tables
    "mlirparse": [],   # MLIR text -> flat tables
    "counters": [],    # perf_event_open + valgrind client requests
    "covtrace": [],    # one-shot int3 breakpoint coverage (fuzzer)
    "llfeatures": ["llparse.c"],  # cost-model features of LLVM IR text (its own copy of the parser)
    "gbdt": [],        # LightGBM forests walked a block of rows at a time (cost-model predictions)
}

BASE_CFLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
SANITIZE_CFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                   "-fno-sanitize-recover=undefined"]

_CDEF_RE = re.compile(r"/\*\s*CFFI-BEGIN\s*\*/(.*?)/\*\s*CFFI-END\s*\*/", re.S)


def available() -> list[str]:
    return [n for n in COMPONENTS if (CSRC / f"{n}.c").exists() and (CSRC / f"{n}.h").exists()]


def make_ffi(name: str, *, sanitize: bool = False, module_prefix: str = "irtools.", relative: bool = True) -> FFI:
    header = (CSRC / f"{name}.h").read_text()
    m = _CDEF_RE.search(header)
    if not m:
        raise RuntimeError(f"csrc/{name}.h has no /* CFFI-BEGIN */ ... /* CFFI-END */ region")
    ffi = FFI()
    ffi.cdef(m.group(1))
    sources = [str(CSRC / f"{name}.c")] + [str(CSRC / s) for s in COMPONENTS[name]]
    if relative:  # setup.py wants paths relative to the project root
        sources = [os.path.relpath(s, ROOT) for s in sources]
    cflags = BASE_CFLAGS + (SANITIZE_CFLAGS if sanitize else [])
    ffi.set_source(
        f"{module_prefix}_c_{name}",
        f'#include "{name}.h"',
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
    """Compile components into the package (or, as top-level modules ``_c_<name>``, into ``outdir``).

    Returns the paths of the built extension files.
    """
    out = []
    tmp = ROOT / "build" / ("asan" if sanitize else "inplace")
    tmp.mkdir(parents=True, exist_ok=True)
    for n in names or available():
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
        out.append(dest)
    return out


ASAN_DIR = ROOT / "build" / "asan-modules"

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    asan = "--asan" in sys.argv  # sanitized modules never replace the package's own
    for path in build_inplace(args or None, sanitize=asan, outdir=ASAN_DIR if asan else None,
                              verbose="-v" in sys.argv):
        print(path)
