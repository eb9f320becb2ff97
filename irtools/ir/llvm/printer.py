"""Printer: a ``Module`` back to LLVM IR text that ``llvm-as`` accepts with the same meaning.

A concrete-syntax printer.  What it REGENERATES from the model:
  * which functions are printed and the order of blocks (``Function.blocks``) and instructions
    (``Block.instructions``), so removed or reordered entries print as they now are;
  * every block label and every ``%result =``;
  * every name reference — operands, phi incoming blocks, callees, branch targets, names inside
    constant expressions and initializers, ``metadata`` operands, debug records, function names and
    parameter names in headers — printed from the referenced object's current name, so renames
    carry through; unnamed values are renumbered (``%0``, ``%1``...) in LLVM's order.
What it COPIES from the source, byte for byte: the text between those references (opcodes, flags,
types, attributes, alignment, metadata attachments), top-level metadata, attribute groups,
type definitions, comdats, module asm and summaries.  Comments and layout are not kept.
Known limits: a block named only inside ``blockaddress(...)`` or ``uselistorder_bb`` is copied as
written, as are references inside specialised metadata nodes (``!DI...(...)``).
"""

from __future__ import annotations

from .module import Argument, Block, Function, Instruction, Module
from .names import format_name


class _Printer:
    def __init__(self, m: Module):
        self.m = m
        self.src = m._src
        self.R = m._t["refs"]
        self.slots: dict[int, int] = {}

    def ref_text(self, vid: int) -> str:
        s = self.slots.get(vid)
        if s is not None:
            return f"%{s}"
        v = self.m._value(vid)
        if isinstance(v, (Instruction, Argument, Block)):
            n = v.name
            if n:
                return "%" + format_name(n)
            return None  # not numbered in this function (removed): keep the source text
        return v.ref

    def subst(self, off: int, end: int, rs: int, re_: int) -> str:
        src = self.src
        R = self.R
        parts = []
        pos = off
        roff, rlen, rvid = R.off, R.len, R.vid
        for k in range(rs, re_):
            o = roff[k]
            if o < pos or o >= end:
                continue
            t = self.ref_text(rvid[k])
            if t is None:
                continue
            parts.append(src[pos:o].decode("utf-8", "surrogateescape"))
            parts.append(t)
            pos = o + rlen[k]
        parts.append(src[pos:end].decode("utf-8", "surrogateescape"))
        return "".join(parts)

    def number(self, f: Function):
        self.slots = slots = {}
        n = 0
        for a in f.arguments:
            if not a.name:
                slots[a._vid] = n
                n += 1
        for b in f.blocks:
            if not b.name:
                slots[b._vid] = n
                n += 1
            for i in b.instructions:
                if not i.name and not i.type.is_void:
                    slots[i._vid] = n
                    n += 1

    def instruction(self, i: Instruction, out: list):
        m = self.m
        IT = m._t["insts"]
        k = i._i
        for off, end, rs, re_ in m._dbg().get(k, ()):
            out.append("    " + self.subst(off, end, rs, re_))
        body = self.subst(IT.off[k], IT.end[k], IT.ref_start[k], IT.ref_end[k])
        if i.type.is_void:
            out.append("  " + body)
        else:
            out.append(f"  {self.ref_text(IT.vid[k]) or i.ref} = {body}")

    def function(self, f: Function, ent_ref_end: int | None, out: list):
        m = self.m
        F = m._t["funcs"]
        k = f._i
        if F.off[k] < 0:  # an intrinsic LLVM declares by itself
            return
        self.number(f)
        head = self.subst(F.off[k], F.hdr_end[k], F.ref_start[k], F.ref_end[k])
        if f.is_declaration:
            out.append(head)
            return
        out.append(head + " {")
        for bi, b in enumerate(f.blocks):
            if bi:
                out.append("")
            out.append((format_name(b.name) if b.name else str(self.slots[b._vid])) + ":")
            for i in b.instructions:
                self.instruction(i, out)
        if F.tail_off[k] >= 0:
            end = F.end[k] - 1
            out.append(self.subst(F.tail_off[k], end, F.tail_ref_start[k],
                                  ent_ref_end if ent_ref_end is not None else len(self.R.off)).rstrip())
        out.append("}")
        self.slots = {}


def print_module(m: Module) -> str:
    p = _Printer(m)
    E = m._t["entities"]
    G = m._t["globals"]
    keep = {f._i for f in m.functions}
    out: list[str] = []
    for e in range(E.n):
        kind, idx = E.kind[e], E.index[e]
        if kind == 1:
            if idx in keep:
                out.append("")
                p.function(m._value(m._t["funcs"].vid[idx]), E.ref_end[e], out)
                out.append("")
        elif kind == 2:
            out.append(p.subst(G.off[idx], G.end[idx], G.ref_start[idx], G.ref_end[idx]))
        else:
            out.append(p.subst(E.off[e], E.end[e], E.ref_start[e], E.ref_end[e]))
    return "\n".join(out) + "\n"


def print_function(f: Function) -> str:
    p = _Printer(f._m)
    E = f._m._t["entities"]
    ent = next((E.ref_end[e] for e in range(E.n) if E.kind[e] == 1 and E.index[e] == f._i), None)
    out: list[str] = []
    p.function(f, ent, out)
    return "\n".join(out)


def print_instruction(i: Instruction) -> str:
    p = _Printer(i._m)
    p.number(i.function)
    out: list[str] = []
    p.instruction(i, out)
    return "\n".join(s.strip() for s in out)


def print_global(g) -> str:
    G = g._m._t["globals"]
    return _Printer(g._m).subst(G.off[g._i], G.end[g._i], G.ref_start[g._i], G.ref_end[g._i])
