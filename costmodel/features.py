"""Features of each function of a module, read by the project's own parsers (no LLVM needed).

LLVM IR is featurised in C, straight from the parser's tables (``csrc/llfeatures.c``, in the llparse
extension): one row per defined function, in module order.  The one definition of every LLVM feature
lives there:
- ``ir.*``: LLVM's func-properties (``ir.fp.*``), opcode and result-type histograms, CFG and loop
  shape, argument counts;
- ``x.*``: what a cost needs beyond those counts: constant trip counts of the natural loops and a
  static estimate of instructions executed (block size x trip counts of the enclosing loops, calls to
  functions of the module added one level deep), the same estimate in machine operations (vector ops
  split to the target's native width, memset/memcpy priced per register moved), vector widths, memory
  accesses in loops, memset/memcpy lengths, and register pressure (the most values live at once, in
  values and in 32-bit registers);
- ``cpu.*`` from the function's target attributes, ``gpu.*`` for NVPTX kernels (shared-memory
  bytes, thread-index reads, barriers, launch bounds);
- ``lo.*``: what x86-64 code generation makes of the IR beyond a count (calls and tail calls, argument
  moves, callee-saved registers for values live across calls, casts, loads, address arithmetic and
  compares that fold away, fall-through branches, switches, divisions, stack protectors) and
  ``lo.est``, their sum as an estimate of machine instructions, and ``lo.bytes`` of code size: measured on
  real packages, where the
  counts alone were no better than a constant times the IR instruction count;
- a language view: hashed opcode n-grams and hashed bigrams of the normalised tokens of the function's
  own text span (as learned MLIR cost models read IR as text), with a stable hash (crc32).
What C cannot compute for a function (an integer past 128 bits, constant expressions nested too deep)
is NaN in the columns it decides, with a reason per row (:func:`c_feature_rows`, :func:`c_reason_names`).
tests/test_costmodel_llvm_oracle.py checks the features against opt-22's own analyses; the rest are
checked against a small reference in tests/llvm_feature_reference.py.

MLIR goes through ``irtools.parse_mlir``; each ``func.func``/``llvm.func`` gets
:func:`irtools.ir.mlir.analysis.feature_vector` as ``mlir.*`` and nothing else: a model trained on
LLVM IR then sees its LLVM features missing, which its out-of-distribution check reports.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from irtools.analysis.features import FEATURE_VECTOR_KEYS
from irtools.errors import IrtoolsError, ParseError
from irtools.ir import llvm as lt
from irtools.ir.mlir.analysis import FEATURE_KEYS as MLIR_KEYS

__all__ = ["FEATURE_NAMES", "c_columns", "c_feature_rows", "c_reason_names", "feature_matrix", "featurize",
           "module_features", "source_digest", "to_matrix"]

CPU_FEATURES = ("sse4.2", "avx", "avx2", "fma", "avx512f", "bmi2")
NGRAM_BUCKETS = 64
TOKEN_BUCKETS = 64

EXTRA = ("n_loops_const_trip", "n_loops_unknown_trip", "max_trip", "log_trip_product_max", "insts_depth1",
         "insts_depth2", "insts_depth3plus", "log_est_dyn_insts", "log_est_dyn_mem", "log_est_dyn_fp",
         "log_est_dyn_vector", "log_est_dyn_insts_incl", "n_calls_defined", "n_mem_intrinsics", "log_memop_bytes",
         "max_vector_width", "max_vector_bits", "vector_values", "vector_loads", "vector_stores", "loads_in_loops",
         "stores_in_loops", "gep_const_only", "gep_multi_index", "const_int_operands", "fp_ops", "int_ops",
         "max_live", "max_live_regs", "mean_live", "values", "wide_values",
         "max_phi_per_block", "max_block_insts", "unrolled_chain", "log_est_machine_ops")
LOWERING = ("est", "calls", "tail_calls", "call_cost", "moved_args", "call_args", "stack_args", "live_across_max",
            "live_across_sum", "csr", "frame", "ssp", "vararg", "mem_inline", "free_intrinsics", "free_casts",
            "gep_folded", "load_folded", "cmp_fused", "cmp_unfused", "zext_free", "zext_i1", "br_fallthrough",
            "empty_blocks", "switch_cases", "switch_cost", "div_const", "div_var64", "minmax", "const_stores",
            "big_consts", "rets", "bytes", "pressure", "pressure_gpr", "pressure_fp", "across_gpr_max",
            "across_fp_max", "across_fp_sum", "across_gpr_excess", "over_gpr", "over_fp", "disp8", "disp32", "rip",
            "imm8", "imm32", "imm_mov", "long_branches", "got", "mem_tail", "dup_blocks")
GPU = ("is_kernel", "shared_bytes", "shared_accesses", "global_loads", "global_stores", "special_reg_reads",
       "barriers", "max_threads", "fma_ops", "i64_ops")

FEATURE_NAMES: list[str] = (
    [f"ir.{k}" for k in FEATURE_VECTOR_KEYS] + [f"x.{k}" for k in EXTRA]
    + [f"cpu.{c}" for c in CPU_FEATURES] + ["cpu.prefer_vector_width"] + [f"gpu.{k}" for k in GPU]
    + [f"ng.{i}" for i in range(NGRAM_BUCKETS)] + [f"tok.{i}" for i in range(TOKEN_BUCKETS)]
    + [f"lo.{k}" for k in LOWERING] + [f"mlir.{k}" for k in MLIR_KEYS])


# ----------------------------------------------------------------------------- MLIR

_MLIR_FUNCTIONS = ("func.func", "llvm.func", "gpu.func")


def _has_body(op) -> bool:
    return bool(op.regions) and any(r.blocks for r in op.regions)


def _function_like(op) -> bool:
    """A symbol with a body of its own: func.func and llvm.func, but also hw.module, firrtl.module,
    spirv.func, handshake.func...; not a container of such symbols (builtin.module, gpu.module)."""
    if op.name in _MLIR_FUNCTIONS:
        return _has_body(op)
    if op.sym_name is None or not _has_body(op):
        return False
    return not any(o.sym_name is not None and _has_body(o)
                   for r in op.regions for b in r.blocks for o in b.operations)


def mlir_module_features(mod) -> dict[str, dict[str, float]]:
    """Function name → ``mlir.*`` features, for each function-like op of a parsed MLIR module; a module
    with ops but none function-like (a test file of top-level ops) is one unit named ``<module>``."""
    from irtools.ir.mlir.analysis import feature_vector as mlir_vector

    out: dict[str, dict[str, float]] = {}
    for op in mod.walk():
        if _function_like(op):
            name = op.sym_name or f"<{op.name}#{len(out)}>"
            out[name] = {f"mlir.{k}": float(v) for k, v in mlir_vector(op).items()}
    if not out and any(o is not mod for o in mod.walk()):
        out["<module>"] = {f"mlir.{k}": float(v) for k, v in mlir_vector(mod).items()}
    return out


_LLVM_HINT = re.compile(r"^\s*(define|declare|target\s+(datalayout|triple)|source_filename|attributes\s+#)", re.M)
_MLIR_HINT = re.compile(r"^\s*(module\b|func\.func|llvm\.func|gpu\.module|\"[\w.]+\"\s*\(|#\w+\s*=\s*affine_map)",
                        re.M)


def input_kind(text: str, path: str | None = None) -> str:
    """``llvm`` or ``mlir``: by the file suffix, else by the first top-level keyword in the text."""
    if path:
        suffix = Path(path).suffix
        if suffix == ".ll":
            return "llvm"
        if suffix == ".mlir":
            return "mlir"
    a = _LLVM_HINT.search(text)
    # only an MLIR keyword before the first LLVM one counts: a match starting before a.start() also
    # ends there (a.start() begins a line whose first word is an LLVM keyword), so look no further
    b = _MLIR_HINT.search(text, 0, a.start() if a else len(text))
    if b and (not a or b.start() < a.start()):
        return "mlir"
    return "llvm"


def ir_input(ir) -> tuple[str | None, object]:
    """(path or None, text or parsed module) for IR text, a path, bytes or a parsed module.

    The cost model's front door, laxer than the parsers' ``irtools.ir.source.read_source``: a short
    one-line string naming a ``.ll``/``.mlir``/``.bc`` file is read as that file (``irtools cost
    kernel.ll``), and a module already parsed passes through."""
    if isinstance(ir, lt.Module):
        return None, ir
    if hasattr(ir, "walk") and hasattr(ir, "regions"):
        return None, ir
    if isinstance(ir, os.PathLike) or (isinstance(ir, str) and "\n" not in ir and len(ir) < 4096
                                       and Path(ir).suffix in (".ll", ".mlir", ".bc")):
        p = Path(ir)
        if not p.is_file():
            raise IrtoolsError(f"{p}: no such file")
        try:
            return str(p), p.read_text()
        except UnicodeDecodeError:
            raise IrtoolsError(f"{p}: not IR text (LLVM bitcode? run llvm-dis-22 first)") from None
    if isinstance(ir, bytes):
        return None, ir.decode("utf-8", errors="replace")
    if isinstance(ir, str):
        return None, ir
    raise IrtoolsError(f"cannot read IR from a {type(ir).__name__}: give text, a path or a parsed module")



# ----------------------------------------------------------------------------- entry points

def featurize(ir, *, path: str | None = None) -> tuple[str, dict[str, dict[str, float]]]:
    """(``llvm``/``mlir``, function name -> features) for IR text, a path or a parsed module.

    A dict holds one function per name: where several share one (unnamed functions are all ``""``)
    the last one's features are kept; :func:`feature_matrix` gives every function its row.
    Text that does not parse raises :class:`irtools.errors.ParseError` with ``file:line:col``.
    """
    import irtools

    p, src = ir_input(ir)
    path = path or p
    if _is_llvm(src, path):
        fnames, X = _c_llvm_matrix(_llvm_bytes(src), path, c_columns())
        cols = _C_COLUMNS
        return "llvm", {n: dict(zip(cols, row, strict=True)) for n, row in zip(fnames, X.tolist(), strict=True)}
    if not isinstance(src, str):
        return "mlir", mlir_module_features(src)
    return "mlir", mlir_module_features(irtools.parse_mlir(src, path=path))


def module_features(ir, *, path: str | None = None) -> dict[str, dict[str, float]]:
    """Function name -> feature dict, for every function defined in a module (text, path or parsed)."""
    return featurize(ir, path=path)[1]


def feature_matrix(ir, names: list[str] | None = None, *,
                   path: str | None = None) -> tuple[str, list[str], np.ndarray]:
    """(``llvm``/``mlir``, names of the defined functions in module order, feature matrix).

    The matrix has one row per function and the columns of ``names`` (default :data:`FEATURE_NAMES`);
    a feature a row lacks is NaN: the matrix ``to_matrix`` gives for :func:`featurize`'s dicts.
    LLVM IR is featurised in C (``csrc/llfeatures.c``) straight from the parser's tables.
    """
    names = FEATURE_NAMES if names is None else names
    p, src = ir_input(ir)
    path = path or p
    if _is_llvm(src, path):
        fnames, X = _c_llvm_matrix(_llvm_bytes(src), path, names)
        return "llvm", fnames, X
    kind, feats = featurize(src, path=path)
    return kind, list(feats), to_matrix(list(feats.values()), names)


def _is_llvm(src, path: str | None) -> bool:
    return isinstance(src, lt.Module) or (isinstance(src, str) and input_kind(src, path) == "llvm")


def _llvm_bytes(src) -> bytes:
    """The text the C featuriser reads: a parsed module's own (printed again once it was edited)."""
    if isinstance(src, lt.Module):
        return src.to_bytes()
    return src.encode("utf-8", "surrogateescape")


# ----------------------------------------------------------------------------- what defines a feature

_PKG = Path(__file__).resolve().parent.parent / "irtools"
# every source whose change can change a feature value: this module (names, MLIR features, glue), the C
# featuriser, the parsers whose tables it and the MLIR analysis read, the flags they are compiled with,
# irtools.analysis (FEATURE_VECTOR_KEYS names the ir.* columns) and the object model (a parsed Module
# is featurised from Module.to_bytes(); MLIR features walk the MLIR model)
FEATURE_SOURCES: tuple[str, ...] = (
    "costmodel/features.py", "csrc/llfeatures.c", "csrc/llfeatures.h", "csrc/llparse.c", "csrc/llparse.h",
    "csrc/mlirparse.c", "csrc/mlirparse.h", "irtools/_build.py", "irtools/analysis/*.py", "irtools/ir/**/*.py")


def source_digest(root: Path | None = None) -> str:
    """12 hex digits of sha256 over :data:`FEATURE_SOURCES` (names and bytes): a feature cache key that
    changes whenever a feature's definition may have.  Without the C sources (an installed wheel), the
    compiled extensions that hold the featurisers are hashed instead."""
    import hashlib

    root = _PKG.parent if root is None else Path(root)
    h = hashlib.sha256()
    files = sorted({p for pat in FEATURE_SOURCES for p in root.glob(pat) if p.is_file()})
    if not (root / "csrc" / "llfeatures.c").is_file():
        files += sorted(p for ext in ("llparse", "mlirparse") for p in (root / "irtools").glob(f"_c_{ext}.*"))
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


# ----------------------------------------------------------------------------- the C featuriser

_C_COLUMNS: list[str] | None = None
_C: tuple | None = None                       # (lib, ffi, size_t*, int64_t[4]) once loaded
_SELECT: dict[int, tuple[list[str], object]] = {}


def _c_lib():
    global _C_COLUMNS, _C
    if _C is None:
        from irtools._native import load

        lib, ffi = load("llfeatures")
        _C_COLUMNS = [ffi.string(lib.llf_column_name(i)).decode() for i in range(lib.llf_ncolumns())]
        _C = (lib, ffi, ffi.new("size_t *"), ffi.new("int64_t[4]"))
    return _C[0], _C[1]


def c_columns() -> list[str]:
    """The columns of :func:`c_feature_rows`' matrix: :data:`FEATURE_NAMES` without the ``mlir.*`` ones."""
    _c_lib()
    return list(_C_COLUMNS)


def c_reason_names() -> list[str]:
    """Why a row holds NaN, by bit of :func:`c_feature_rows`' reasons (see csrc/llfeatures.c R_*)."""
    lib, ffi = _c_lib()
    out, k = [], 0
    while (p := lib.llf_reason_name(k)) != ffi.NULL:
        out.append(ffi.string(p).decode())
        k += 1
    return out


def c_feature_rows(data: bytes, *, reasons: bool = False):
    """(function names, X in the C column order, exact flags[, reason bits]) of LLVM IR bytes, or
    None when the text does not parse.  A row is exact when it has no reason: then no column is NaN
    for want of something the featuriser cannot compute."""
    lib, ffi = _c_lib()
    r = _run(data)
    try:
        if not lib.llf_usable(r):
            return None
        return _read_result(r, lib.llf_rows(r), reasons)
    finally:
        lib.llf_free(r)


def _run(data: bytes):
    lib, ffi = _c_lib()
    r = lib.llf_run(data, len(data))
    if r == ffi.NULL:
        raise MemoryError("llfeatures: out of memory")
    return r


def _raise_unusable(r, data: bytes, path: str | None):
    """The ParseError (file:line:col) of a result that stopped at a parse error; IrtoolsError otherwise."""
    lib, ffi = _c_lib()
    off, line, col, msg = ffi.new("size_t *"), ffi.new("int *"), ffi.new("int *"), ffi.new("char **")
    if lib.llf_error(r, off, line, col, msg):
        raise ParseError.in_source(ffi.string(msg[0]).decode("utf-8", "replace"), data, offset=int(off[0]),
                                   line=line[0], col=col[0], path=path)
    raise IrtoolsError("llfeatures: the parser's tables are not the layout the featuriser reads (a stale build?)")


def _c_llvm_matrix(data: bytes, path: str | None, names: list[str]) -> tuple[list[str], np.ndarray]:
    """feature_matrix's (function names, X) of LLVM IR bytes.

    The common case (columns as FEATURE_NAMES lays them out) costs one llf_run, one summary call and
    one copy straight into the returned matrix: the per-module Python glue was as much as a fifth of
    the whole."""
    lib, ffi = _c_lib()
    sel = _selection(names)
    st = _C[3]
    r = _run(data)
    try:
        lib.llf_summary(r, st)
        if not st[0]:
            _raise_unusable(r, data, path)
        n = st[1]
        if isinstance(sel, int):
            fnames = ffi.unpack(lib.llf_names_nul(r), st[3]).decode("utf-8", "surrogateescape").split("\0")
            fnames.pop()
            if len(fnames) == n:   # else a name holds a NUL: the offsets of _read_result tell them apart
                out = np.empty((n, len(names)))
                if n:
                    lib.llf_copy_matrix(r, ffi.from_buffer("double[]", out, require_writable=True), len(names))
                return fnames, out
        fnames, X, _exact = _read_result(r, n)
    finally:
        lib.llf_free(r)
    return fnames, _select_columns(X, names)


def _read_result(r, n: int, reasons: bool = False):
    """(function names, X copied out, exact flags[, reason bits]) of a usable llf_result."""
    lib, ffi, nlen = _C[0], _C[1], _C[2]
    ncol = len(_C_COLUMNS)
    X = np.frombuffer(ffi.buffer(lib.llf_matrix(r), n * ncol * 8), dtype=np.float64).reshape(n, ncol).copy()
    info = np.frombuffer(ffi.buffer(lib.llf_info(r), n * 5 * 4), dtype=np.int32).reshape(n, 5)
    pool = ffi.buffer(lib.llf_names(r, nlen), nlen[0])[:] if n else b""
    fnames = [pool[a:a + b].decode("utf-8", "surrogateescape") for a, b in info[:, 1:3].tolist()]
    exact = info[:, 3] != 0
    if reasons:
        return fnames, X, exact, info[:, 4].copy()
    return fnames, X, exact


def _selection(names: list[str]):
    """How X's columns map to ``names``: k when names begins with the k C columns in their order and
    the rest are unknown to C, else (positions in names, C columns), cached by the list."""
    hit = _SELECT.get(id(names))
    if hit is None or hit[0] != names:   # a list equal to the cached copy: its strings compare by identity
        col = {n: j for j, n in enumerate(_C_COLUMNS)}
        idx = np.array([col.get(n, -1) for n in names], dtype=np.int64)
        k = len(_C_COLUMNS)
        if list(names[:k]) == _C_COLUMNS and (idx[k:] < 0).all():
            sel = k                      # FEATURE_NAMES: the C columns first, in their order
        else:
            sel = (np.nonzero(idx >= 0)[0], idx[idx >= 0])
        if len(_SELECT) > 64:
            _SELECT.clear()
        hit = _SELECT[id(names)] = (list(names), sel)
    return hit[1]


def _select_columns(X: np.ndarray, names: list[str]) -> np.ndarray:
    """X's columns in the order of ``names``, NaN for the names X lacks (the mlir.* ones, unknown ones)."""
    sel = _selection(names)
    out = np.empty((X.shape[0], len(names)))
    if isinstance(sel, int):
        out[:, :sel] = X
        out[:, sel:] = np.nan
    else:
        out.fill(np.nan)
        out[:, sel[0]] = X[:, sel[1]]
    return out


def to_matrix(feats: list[dict[str, float]], names: list[str]) -> np.ndarray:
    """Rows in the order of ``names``; a feature a row lacks is NaN (LightGBM's missing value)."""
    col = {n: j for j, n in enumerate(names)}
    X = np.full((len(feats), len(names)), np.nan, dtype=np.float64)
    for i, d in enumerate(feats):
        for k, v in d.items():
            j = col.get(k)
            if j is not None:
                X[i, j] = v
    return X

