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
_LOADS = {"memref.load", "affine.load"}


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
        elif depth == 0 and text.startswith(sep, i) and (sep != " to " or True):
            out.append(text[start:i])
            start = i + n
            i += n
            continue
        i += 1
    out.append(text[start:])
    return out


def _types(text: str, aliases) -> list:
    text = text.strip()
    if text.startswith("(") and text.endswith(")") and len(_top_split(text, ",")) == 1:
        inner = text[1:-1]
        return A.parse_type_list(inner, aliases) if inner.strip() else []
    return A.parse_type_list(text, aliases)


def result_types(op) -> list | None:
    nres = len(op.results)
    if nres == 0:
        return []
    aliases = op.chunk.alias_map
    name = op.name
    dialect = op.dialect
    text = op.type_text
    header = op.chunk.text(op._col(22), op._col(27) - op._col(22))
    # `-> T` at the top level of the header (scf.for iter_args, linalg on tensors, llvm.load...)
    if text and len(_top_split(text, "->")) > 1:
        res = _types(_top_split(text, "->")[-1], aliases)
        return res[:nres] if len(res) >= nres else None
    if dialect not in _TYPED_DIALECTS:
        return None
    parts = _top_split(header, "->")
    if len(parts) > 1 and not text:
        res = _types(parts[-1].split("{")[0] if "{" in parts[-1] and "<{" not in parts[-1] else parts[-1], aliases)
        return res if len(res) == nres else None
    if not text:
        return None
    to = _top_split(text, " to ")
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
        return [t.element_type] if isinstance(t, A.MemRefType) else None
    if len(types) == nres:
        return types
    if nres == 1 and (dialect in ("arith", "math", "index", "complex", "vector", "tensor", "memref")):
        return [types[-1]]
    return None
