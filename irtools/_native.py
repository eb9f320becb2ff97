"""The one place that loads the compiled C core.

Every other module asks this one for a component: ``from irtools._native import load``;
``lib, ffi = load("llparse")``.  Loading is lazy (importing irtools costs nothing) and
a missing or stale build fails with a message that says how to fix it.

Errors follow one convention (``csrc/irt_status.h``): a failed call returns a negative code,
:class:`Status` here, and the component's ``<name>_last_error()`` / ``<name>_last_errno()`` say why;
:func:`failure` reads the three at once for the component's own typed error.  Load checks that the
codes did not drift.  Parsers are the other half: a parse error is part of their result.

A component is ``csrc/<name>.c`` with its header; it lives in the extension module
``irtools._c_<ext>`` that ``irtools/_build.py`` (``EXTENSIONS``) puts it in: llfeatures shares
llparse's, so the LLVM parser is linked once.  Each component exports ``<name>_abi_version()``;
:data:`ABI` is the version this Python code was written against, checked at load.
"""

from __future__ import annotations

import importlib
from enum import IntEnum
from functools import cache
from types import ModuleType

from .errors import NativeLoadError

_HINT = (
    "the C core is built at install time: run `pip install -e .` in the project root "
    "(or `python irtools/_build.py` for an in-place rebuild)"
)

# component -> the ABI version its Python wrappers read (the header's *_ABI constant): bump both together
ABI: dict[str, int] = {
    "llparse": 3,      # csrc/llparse.h LLP_ABI: the table layout irtools/ir/llvm/module.py reads
    "llfeatures": 4,   # csrc/llfeatures.h LLF_ABI
    "mlirparse": 2,    # csrc/mlirparse.h MLP_ABI
    "counters": 3,     # csrc/counters.c ABI_VERSION
    "covtrace": 3,     # csrc/covtrace.c COVTRACE_ABI
    "gbdt": 2,         # csrc/gbdt.c
}
# components built into another component's extension (irtools/_build.py EXTENSIONS)
EXTENSION: dict[str, str] = {"llfeatures": "llparse"}


class Status(IntEnum):
    """The status codes of csrc/irt_status.h, the one Python mapping of them."""

    OK = 0
    ENOMEM = -1        # out of memory
    EARG = -2          # a bad argument from the caller
    ESTATE = -3        # called in the wrong order (not open, armed twice...)
    EIO = -4           # a file could not be opened, read or mapped
    EFORMAT = -5       # the input is not in the format expected
    ESYS = -6          # any other failed system call
    ENOTFOUND = -7     # nothing matches what was asked for
    ENOHARDWARE = -8   # this CPU (or VM) exposes no such counter
    EPERM = -9         # the kernel refuses (perf_event_paranoid, seccomp)
    EUNAVAILABLE = -10  # this build lacks what it needs (valgrind's headers)


@cache
def _module(ext: str) -> ModuleType:
    try:
        return importlib.import_module(f"irtools._c_{ext}")
    except ImportError as e:  # not built, or built for another Python
        raise NativeLoadError(f"cannot load the C extension {ext!r} ({e}); {_HINT}") from e


@cache
def load(name: str):
    """Return ``(lib, ffi)`` of the compiled component ``csrc/<name>.c``, after checking its ABI version."""
    if name not in ABI:
        raise NativeLoadError(f"no C component {name!r} (known: {', '.join(ABI)})")
    mod = _module(EXTENSION.get(name, name))
    lib, ffi = mod.lib, mod.ffi
    get = getattr(lib, f"{name}_abi_version", None)
    if get is None:
        raise NativeLoadError(f"C component {name!r} has no {name}_abi_version(); {_HINT}")
    built = int(get())
    if built != ABI[name]:
        raise NativeLoadError(f"the built C component {name!r} has ABI version {built}, this Python code reads "
                              f"{ABI[name]}: a stale build; {_HINT}")
    for st in Status:
        if getattr(lib, f"IRT_{st.name}", None) != st.value:
            raise NativeLoadError(f"csrc/irt_status.h and irtools/_native.py disagree on IRT_{st.name}; {_HINT}")
    return lib, ffi


def failure(name: str, rc: int) -> tuple[Status, str, int]:
    """(status, message, errno) of the failed call of component ``name`` that returned ``rc`` < 0."""
    lib, ffi = load(name)
    msg = ffi.string(getattr(lib, f"{name}_last_error")()).decode("utf-8", "replace")
    try:
        st = Status(rc)
    except ValueError:
        st, msg = Status.ESYS, f"unknown status {rc} ({msg})"
    return st, msg, int(getattr(lib, f"{name}_last_errno")())


def abi_version(name: str) -> int:
    lib, _ = load(name)
    return int(getattr(lib, f"{name}_abi_version")())
