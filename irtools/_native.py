"""The one place that loads the compiled C core.

Every other module asks this one for a component: ``from irtools._native import load``;
``lib, ffi = load("llparse")``.  Loading is lazy (importing irtools costs nothing) and
a missing or stale build fails with a message that says how to fix it.
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


@cache
def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"irtools._c_{name}")
    except ImportError as e:  # not built, or built for another Python
        raise NativeLoadError(f"cannot load the C component {name!r} ({e}); {_HINT}") from e


def load(name: str):
    """Return ``(lib, ffi)`` of the compiled component ``csrc/<name>.c``."""
    mod = _module(name)
    lib, ffi = mod.lib, mod.ffi
    # Smoke test: every component exports <name>_abi_version(); a mismatch means a stale build.
    get = getattr(lib, f"{name}_abi_version", None)
    if get is None:
        raise NativeLoadError(f"C component {name!r} has no {name}_abi_version(); {_HINT}")
    return lib, ffi


def abi_version(name: str) -> int:
    lib, _ = load(name)
    return int(getattr(lib, f"{name}_abi_version")())
