"""Naming what is measured: importable references (never pickled code) and native signatures."""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass

from .errors import MeasureError

MAIN_ALIAS = "__irtools_main__"


def reference_of(fn) -> tuple[str, str | None]:
    """``("module:qualname", main_file)`` naming ``fn`` so that another process can import it.

    Strings pass through.  Functions of a script run as ``__main__`` are named through the script's
    path, which the harness loads under another name (its ``if __name__ == "__main__"`` block
    does not run again).
    """
    if isinstance(fn, str):
        if ":" not in fn:
            raise MeasureError(f"target {fn!r} is not a reference: write module:function "
                               "(or /path/lib.so:symbol for measure_native)")
        return fn, None
    mod = getattr(fn, "__module__", None)
    qual = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if not mod or not qual or "<locals>" in qual or "<lambda>" in qual:
        raise MeasureError(f"{fn!r} cannot be named by an import path (a lambda or a nested function?); "
                           "define it at module level, or pass 'module:function'")
    main_file = None
    if mod == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        if not main_file:
            raise MeasureError(f"{fn!r} lives in an interactive __main__ with no file: move it into a module")
        main_file = os.path.abspath(main_file)
        mod = MAIN_ALIAS
    return f"{mod}:{qual}", main_file


def is_library_reference(target: str) -> bool:
    path = target.rsplit(":", 1)[0]
    return "/" in path or path.endswith(".so") or ".so." in path


def resolve(target: str, main_file: str | None = None):
    """The object a ``module:qualname`` reference names (imports the module)."""
    modname, _, qual = target.partition(":")
    if not modname or not qual:
        raise MeasureError(f"bad reference {target!r}: expected module:function")
    if modname == MAIN_ALIAS and main_file:
        spec = importlib.util.spec_from_file_location(MAIN_ALIAS, main_file)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[MAIN_ALIAS] = mod
        spec.loader.exec_module(mod)
    else:
        mod = importlib.import_module(modname)
    obj = mod
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


# ---- native signatures -------------------------------------------------------------------

_INT_NAMES = {"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "int", "long", "ptr", "void*", "bool",
              "intp", "uintp", "size_t"}
_FLOAT_NAMES = {"f64", "double", "float64"}


@dataclass(frozen=True)
class Signature:
    """A native function's shape as the C trampoline calls it: ints/pointers or doubles, one return."""

    ret: str            # "void" | "int" | "double"
    args: tuple[str, ...]  # each "int" or "double"

    @classmethod
    def parse(cls, text: str) -> Signature:
        """``"i64(i64, ptr)"``, ``"f64(f64,f64)"``, ``"void(ptr,i64)"``."""
        text = text.replace(" ", "")
        if not text.endswith(")") or "(" not in text:
            raise MeasureError(f"bad signature {text!r}: expected like i64(i64,ptr)")
        ret, _, rest = text[:-1].partition("(")
        args = tuple(_one(a, text) for a in rest.split(",") if a)
        return cls(_one(ret, text, allow_void=True), args)

    def check(self) -> Signature:
        kinds = set(self.args)
        if len(kinds) > 1:
            raise MeasureError(f"native signature {self} mixes integer and double arguments; the trampoline "
                               "calls all-integer (up to 6) or all-double (up to 4) signatures: wrap the function")
        if "double" in kinds and len(self.args) > 4 or "int" in kinds and len(self.args) > 6:
            raise MeasureError(f"native signature {self} has too many arguments (6 integer or 4 double at most)")
        return self

    def __str__(self) -> str:
        return f"{self.ret}({','.join(self.args)})"


def _one(name: str, text: str, allow_void: bool = False) -> str:
    n = name.lower()
    if n in _INT_NAMES or n.endswith("*"):
        return "int"
    if n in _FLOAT_NAMES:
        return "double"
    if allow_void and n in ("void", ""):
        return "void"
    raise MeasureError(f"unsupported type {name!r} in signature {text!r} (integers, pointers, f64, void)")


def _numba_kind(t) -> str:
    from numba.core import types

    if isinstance(t, types.Float):
        if t.bitwidth != 64:
            raise MeasureError(f"numba type {t} is not supported by the trampoline (float64 only)")
        return "double"
    if t == types.void or t == types.none:
        return "void"
    return "int"


def _ctypes_kind(t) -> str:
    if t is None:
        return "void"
    if t is ctypes.c_double:
        return "double"
    if t in (ctypes.c_float, ctypes.c_longdouble):
        raise MeasureError(f"ctypes type {t.__name__} is not supported by the trampoline (c_double only)")
    return "int"


def native_function(obj, signature: str | None) -> tuple[int, Signature, object]:
    """``(address, signature, keepalive)`` of a numba cfunc, a ctypes function, an address, or a
    zero-argument factory returning one of those (how llvmlite and TVM code is built in place)."""
    for _ in range(2):
        if isinstance(obj, int) and not isinstance(obj, bool):
            if not signature:
                raise MeasureError("a raw function address needs signature=, e.g. 'i64(i64)'")
            return obj, Signature.parse(signature).check(), None
        if hasattr(obj, "address") and hasattr(obj, "_sig"):  # numba @cfunc
            sig = Signature.parse(signature) if signature else Signature(
                _numba_kind(obj._sig.return_type), tuple(_numba_kind(a) for a in obj._sig.args))
            return int(obj.address), sig.check(), obj
        if isinstance(obj, ctypes._CFuncPtr):
            sig = Signature.parse(signature) if signature else Signature(
                _ctypes_kind(obj.restype), tuple(_ctypes_kind(a) for a in (obj.argtypes or ())))
            return ctypes.cast(obj, ctypes.c_void_p).value, sig.check(), obj
        if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], int):  # (address, keepalive)
            addr, keep = obj
            if not signature:
                raise MeasureError("a factory returning (address, owner) needs signature=")
            return addr, Signature.parse(signature).check(), keep
        if callable(obj):
            obj = obj()   # a factory: builds the code (compile is outside every measured region)
            continue
        break
    raise MeasureError(f"cannot call {obj!r} natively: expected a numba cfunc, a ctypes function, an address, "
                       "or a factory returning one")


def library_function(target: str, signature: str | None):
    """``/path/lib.so:symbol`` as a ctypes function (signature required)."""
    path, _, sym = target.rpartition(":")
    if not signature:
        raise MeasureError(f"{target}: a shared-library symbol needs signature=, e.g. 'i64(i64)'")
    try:
        lib = ctypes.CDLL(path)
        fn = getattr(lib, sym)
    except (OSError, AttributeError) as e:
        raise MeasureError(f"cannot load {sym!r} from {path}: {e}") from e
    return ctypes.cast(fn, ctypes.c_void_p).value, Signature.parse(signature).check(), (lib, fn)
