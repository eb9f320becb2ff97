"""irtools: read LLVM IR and MLIR fast, predict hardware cost from IR, fuzz TVM, count instructions.

The top-level names are imported lazily so that ``import irtools`` stays cheap and never
loads TVM, LightGBM or the C core before they are needed.
"""

from __future__ import annotations

from .errors import IrtoolsError, NativeLoadError, ParseError

__version__ = "0.1.0"

_LAZY = {
    "parse_llvm": "irtools.ir.llvm",
    "parse_mlir": "irtools.ir.mlir",
    "parse_llvm_file": "irtools.ir.llvm",
    "parse_mlir_file": "irtools.ir.mlir",
}

__all__ = ["IrtoolsError", "NativeLoadError", "ParseError", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'irtools' has no attribute {name!r}")
