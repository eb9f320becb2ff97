"""``summarize``: the numbers ``irtools stats`` prints for an MLIR file.

Counts come straight from the C tables (no Python object per op), so summarizing a large file costs
little more than parsing it.
"""

from __future__ import annotations

from collections import Counter

from .model import F_IMPLICIT, FLAGS, OPW, REG_COUNT, T_BLOCKS, T_OPS, T_REGIONS, Operation

# ops that define a function-like symbol with a body
_FUNCTION_OPS = {"func.func", "llvm.func", "gpu.func", "spirv.func", "hw.module", "transform.named_sequence"}


def _chunks(module_or_chunks):
    if isinstance(module_or_chunks, Operation):
        return [module_or_chunks]
    return list(module_or_chunks)


def summarize(module_or_chunks) -> dict:
    """Counts over one top-level op or a list of them (split-input-file chunks).

    Keys: ``operations``, ``functions`` (func.func / llvm.func / other symbol ops with a region —
    declarations without a body are not counted), ``function_sizes`` (operations in each function's
    body, nested ones included), ``declarations``, ``blocks``, ``regions``,
    ``ops`` (name -> count), ``dialects`` (dialect -> count), ``generic_ops``, ``implicit_ops``,
    ``max_depth``, ``chunks`` and ``bytes`` (of the text the chunks came from).
    """
    tops = _chunks(module_or_chunks)
    ops: Counter = Counter()
    total = blocks = regions = functions = decls = generic = implicit = 0
    seen_files = {}
    max_depth = 0
    sizes: list[int] = []
    for top in tops:
        c = top.chunk
        seen_files[id(c.src)] = len(c.src)
        for op in top.walk():
            total += 1
            name = c.op_name(op._i)
            ops[name] += 1
            flags = c.ops[op._i * OPW + FLAGS]
            generic += flags & 1
            implicit += (flags & F_IMPLICIT) >> 1
            nreg = c.ops[op._i * OPW + REG_COUNT]
            if name in _FUNCTION_OPS or (nreg and name.endswith(".func")):
                if nreg and op.regions[0].blocks:
                    functions += 1
                    sizes.append(sum(1 for _ in op.walk()) - 1)   # operations in its body
                else:
                    decls += 1
        blocks += c.counts[T_BLOCKS]
        regions += c.counts[T_REGIONS]
        if c.counts[T_OPS]:
            from .analysis import nesting_depth

            max_depth = max(max_depth, nesting_depth(top))
    dialects: Counter = Counter()
    for name, n in ops.items():
        k = name.find(".")
        dialects[name[:k] if k > 0 else "(none)"] += n
    return {
        "operations": total,
        "functions": functions,
        "function_sizes": sizes,
        "declarations": decls,
        "blocks": blocks,
        "regions": regions,
        "ops": dict(ops.most_common()),
        "dialects": dict(dialects.most_common()),
        "generic_ops": generic,
        "implicit_ops": implicit,
        "max_depth": max_depth,
        "chunks": len(tops),
        "bytes": sum(seen_files.values()),
    }
