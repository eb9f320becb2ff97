"""The one place that loads the compiled C core.

Every other module asks this one for a component: ``from irtools._native import load``;
``lib, ffi = load("llparse")``.  Loading is lazy (importing irtools costs nothing) and
a missing or stale build fails with a message that says how to fix it.

A component is ``csrc/<name>.c`` with its header; it lives in the extension module
``irtools._c_<ext>`` that ``irtools/_build.py`` (``EXTENSIONS``) puts it in: llfeatures shares
llparse's, so the LLVM parser is linked once.  Each component exports ``<name>_abi_version()``;
:data:`ABI` is the version this Python code was written against, checked at load.
"""

from __future__ import annotations

import importlib
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
    "llfeatures": 2,   # csrc/llfeatures.h LLF_ABI
    "mlirparse": 2,    # csrc/mlirparse.h MLP_ABI
    "counters": 2,     # csrc/counters.c ABI_VERSION
    "covtrace": 1,     # csrc/covtrace.c COVTRACE_ABI
    "gbdt": 2,         # csrc/gbdt.c
}
# components built into another component's extension (irtools/_build.py EXTENSIONS)
EXTENSION: dict[str, str] = {"llfeatures": "llparse"}


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
    return lib, ffi


def abi_version(name: str) -> int:
    lib, _ = load(name)
    return int(getattr(lib, f"{name}_abi_version")())
