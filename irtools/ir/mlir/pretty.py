"""Result types of pretty (custom-form) ops, for the upstream dialects whose syntax says them.

A pretty op's types are whatever its custom syntax prints; without each op's grammar only some of
them can be read back.  ``result_types`` answers for the forms it knows and returns None (unknown)
for the rest rather than guessing.
"""

from __future__ import annotations

from . import attrs as A

# dialects whose ops print `: T` (or `: T1, T2`) with the result type last, or `: A to B`
_TYPED_DIALECTS = {"arith", "math", "memref", "tensor", "vector", "llvm", "index", "func", "gpu", "scf",
                   "affine", "linalg", "builtin", "cf", "complex", "bufferization", "ub"}
_CMP = {"arith.cmpi", "arith.cmpf", "llvm.icmp", "llvm.fcmp", "index.cmp"}
_LOADS = {"memref.load", "affine.load", "tensor.extract"}
_INDEX = {"memref.dim", "tensor.dim", "memref.rank", "tensor.rank"}
# ops whose one result has exactly the (last) type after ':'
_AS_WRITTEN = {"memref.alloc", "memref.alloca", "memref.get_global", "tensor.empty", "tensor.splat",
               "vector.splat", "memref.realloc", "tensor.generate", "tensor.from_elements", "vector.load",
               "vector.transfer_read", "vector.maskedload", "affine.vector_load"}


def _top_split(text: str, sep: str) -> list[str]:
    """Split at top-level occurrences of sep (outside brackets and strings)."""
    out, depth, start, i, in_str = [], 0, 0, 0, False
    n = len(sep)
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{<":
            depth += 1
        elif c in ")]}>" and not (c == ">" and i and text[i - 1] == "-"):
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            out.append(text[start:i])
            start = i + n
            i += n
            continue
        i += 1
    out.append(text[start:])
    return out


def _types(text: str, aliases) -> list:
    """Types of a comma list (optionally parenthesised); ValueError when one is not a type."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")") and len(_top_split(text, ",")) == 1:
        text = text[1:-1]
    out = []
    for part in _top_split(text, ","):
        if not part.strip():
            continue
        t = A.parse_type(part, aliases)
        if isinstance(t, A.OpaqueType) and not part.strip().startswith("!"):
            raise ValueError(part)  # not a type: some other custom syntax
        out.append(t)
    return out


_LLVM_SAME = {f"llvm.{n}" for n in ("add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "and", "or", "xor", "shl",
                                     "lshr", "ashr", "fadd", "fsub", "fmul", "fdiv", "frem", "fneg", "freeze")}


def result_types(op) -> list | None:
    try:
        return _result_types(op)
    except ValueError:
        return None


def _result_types(op) -> list | None:
    nres = len(op.results)
    if nres == 0:
        return []
    aliases = op.chunk.alias_map
    name = op.name
    dialect = op.dialect
    text = op.type_text
    header = op.chunk.text(op._col(22), op._col(27) - op._col(22))
    # `-> T` at the top level of the type (func.call, llvm.load, llvm.getelementptr...)
    if text and len(_top_split(text, "->")) > 1:
        res = _types(_top_split(text, "->")[-1], aliases)
        return res[:nres] if len(res) >= nres else None
    if dialect not in _TYPED_DIALECTS:
        return None
    parts = _top_split(header, "->")
    if len(parts) > 1 and not text:  # scf.for iter_args / scf.if / linalg on tensors: `-> (T)` before the region
        res = _types(parts[-1], aliases)
        return res if len(res) == nres else None
    if not text:
        return None
    frm = _top_split(text, " from ")
    if len(frm) > 1:  # vector.extract %v[0] : f32 from vector<4xf32>
        res = _types(frm[0], aliases)
        return res if len(res) == nres else None
    for sep in (" to ", " into "):  # casts; vector.insert, vector.reduction, tensor.expand_shape
        to = _top_split(text, sep)
        if len(to) > 1:
            res = _types(to[-1], aliases)
            return res if len(res) == nres else None
    types = _types(text, aliases)
    if not types:
        return None
    if name in _CMP:
        t = types[-1]
        i1 = A.IntegerType(1)
        if isinstance(t, A.VectorType):
            return [A.VectorType(t.shape, i1, t.scalable)]
        if isinstance(t, A.RankedTensorType):
            return [A.RankedTensorType(t.shape, i1)]
        return [i1] if isinstance(t, (A.IntegerType, A.FloatType, A.IndexType)) else None
    if name in _LOADS:
        t = types[0]
        return [t.element_type] if isinstance(t, (A.MemRefType, A.RankedTensorType)) else None
    if name in _INDEX:
        return [A.IndexType()]
    if name in ("llvm.select", "arith.select") and nres == 1:  # `: i1, T` (condition type first)
        return [types[-1]]
    if (name in _AS_WRITTEN or name in _LLVM_SAME or name.startswith("llvm.mlir.")
            or dialect in ("arith", "math", "index")):
        if len(types) == 1 and nres == 1:
            return types
        if len(types) == nres and dialect != "math":
            return types
    return None
