"""Generic-form printer.

``print_generic(op)`` writes ops parsed from the generic form back in the generic form, from the
parsed pieces (name, operands, successors, properties, regions, attributes, type).  Ops parsed
from a pretty form are written as their own source text: their custom syntax is the only exact
statement of their operands' types and properties, and mlir-opt reads it back to the same op.
Elided terminators are not printed (the reader adds them again), the implicit module is printed as
``"builtin.module"() ({...}) : () -> ()``, and the chunk's aliases and dialect resources come first
and last, so the output is a complete file that ``mlir-opt --allow-unregistered-dialect`` accepts.
SSA and block names are the original ones, so uses inside pretty text stay valid.
"""

from __future__ import annotations

from .model import (
    ATTR_LEN,
    ATTR_OFF,
    END,
    F_GENERIC,
    F_IMPLICIT,
    FLAGS,
    NAME_LEN,
    NAME_OFF,
    NEXT,
    OPD_COUNT,
    OPD_FIRST,
    OPW,
    PROP_LEN,
    PROP_OFF,
    REG_COUNT,
    REG_FIRST,
    RES_COUNT,
    RES_FIRST,
    START,
    SUCC_COUNT,
    SUCC_FIRST,
    T_ALIASES,
    TYPE_LEN,
    TYPE_OFF,
    Operation,
)


def _results(c, i) -> str:
    o = c.ops
    first, n = o[i * OPW + RES_FIRST], o[i * OPW + RES_COUNT]
    if not n or c.vals[first * 7 + 4] <= 0:  # no results, or results the text leaves unnamed
        return ""
    groups = []
    v = c.vals
    k = first
    while k < first + n:
        off, ln = v[k * 7 + 3], v[k * 7 + 4]
        m = k + 1
        while m < first + n and v[m * 7 + 3] == off:
            m += 1
        name = c.text(off, ln)
        groups.append(name if m - k == 1 else f"{name}:{m - k}")
        k = m
    return ", ".join(groups) + " = "


def _print_op(c, i, indent: str, out: list[str]) -> None:
    o = c.ops
    base = i * OPW
    flags = o[base + FLAGS]
    if flags & F_IMPLICIT:
        if o[base + REG_COUNT]:  # the implicit module
            out.append(f'{indent}"{c.op_name(i)}"() (')
            _print_regions(c, i, indent, out)
            out.append(") : () -> ()\n")
        return
    if not flags & F_GENERIC:
        out.append(indent + c.text(o[base + START], o[base + END] - o[base + START]) + "\n")
        return
    parts = [indent, _results(c, i), '"', c.text(o[base + NAME_OFF], o[base + NAME_LEN]), '"(']
    d = c.opds
    first, n = o[base + OPD_FIRST], o[base + OPD_COUNT]
    parts.append(", ".join(c.text(d[k * 4 + 1], d[k * 4 + 2]) for k in range(first, first + n)))
    parts.append(")")
    first, n = o[base + SUCC_FIRST], o[base + SUCC_COUNT]
    if n:
        s = c.succs
        parts.append("[" + ", ".join(c.text(s[k * 4 + 1], s[k * 4 + 2]) for k in range(first, first + n)) + "]")
    if o[base + PROP_LEN] > 0:
        parts.append(" <" + c.text(o[base + PROP_OFF], o[base + PROP_LEN]) + ">")
    out.append("".join(parts))
    if o[base + REG_COUNT]:
        out.append(" (")
        _print_regions(c, i, indent, out)
        out.append(")")
    tail = []
    if o[base + ATTR_LEN] > 0:
        tail.append(" " + c.text(o[base + ATTR_OFF], o[base + ATTR_LEN]))
    tail.append(" : " + c.text(o[base + TYPE_OFF], o[base + TYPE_LEN]) + "\n")
    out.append("".join(tail))


def _print_regions(c, i, indent: str, out: list[str]) -> None:
    r = c.ops[i * OPW + REG_FIRST]
    inner = indent + "  "
    for k in range(c.ops[i * OPW + REG_COUNT]):
        if k:
            out.append(", ")
        out.append("{\n")
        b = c.regs[r * 5 + 1]
        entry = True
        while b >= 0:
            bw = b * 10
            nargs = c.blks[bw + 3]
            if c.blks[bw + 8] > 0 or nargs or not c.blks[bw + 6]:  # an empty block needs its label to exist
                name = c.text(c.blks[bw + 7], c.blks[bw + 8]) if c.blks[bw + 8] > 0 else f"^bb_irtools{b}"
                args = []
                for v in range(c.blks[bw + 2], c.blks[bw + 2] + nargs):
                    t = c.text(c.vals[v * 7 + 5], c.vals[v * 7 + 6]) if c.vals[v * 7 + 6] > 0 else "none"
                    args.append(f"{c.text(c.vals[v * 7 + 3], c.vals[v * 7 + 4])}: {t}")
                out.append(f"{indent}{name}" + (f"({', '.join(args)})" if args else "") + ":\n")
            elif not entry:
                out.append(f"{indent}^bb_irtools{b}:\n")
            op = c.blks[bw + 4]
            while op >= 0:
                _print_op(c, op, inner, out)
                op = c.ops[op * OPW + NEXT]
            b = c.blks[bw + 1]
            entry = False
        r = c.regs[r * 5 + 3]
        out.append(indent + "}")


def print_generic(op: Operation, *, aliases: bool = True) -> str:
    """The op (and everything nested) as text; the top-level op comes with its file's aliases."""
    c = op.chunk
    out: list[str] = []
    top = op.parent is None
    if top and aliases:
        a = c.aliases
        w = c.widths[T_ALIASES]
        for k in range(c.counts[T_ALIASES]):
            out.append(f"{c.text(a[k * w + 1], a[k * w + 2])} = {c.text(a[k * w + 3], a[k * w + 4])}\n")
    _print_op(c, op._i, "", out)
    if top and aliases:
        from .model import _native

        lib, ffi = _native()
        off, ln = ffi.new("int *"), ffi.new("int *")
        if lib.mlp_resources(c._res, off, ln):
            out.append("\n" + c.text(off[0], ln[0]) + "\n")
    return "".join(out)
