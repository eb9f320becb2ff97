"""A light reader of LLVM IR *function bodies* for feature extraction.

It cuts a module's text into functions, blocks and instructions (opcode, result type, operands,
successors) and needs no LLVM: the cost model must predict where no LLVM is installed.  Structure
that is expensive or subtle (full type parsing, metadata) is left to ``irtools.parse_llvm``; this
reader only needs what the features use, and it is tolerant: an instruction it cannot classify is
counted as ``other`` rather than failing a prediction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DEFINE = re.compile(r'^define\b[^@]*@("(?:[^"\\]|\\.)*"|[-\w$.]+)\s*\(')
_LABEL = re.compile(r'^("(?:[^"\\]|\\.)*"|[-\w$.]+):')
_ASSIGN = re.compile(r'^(%[-\w$.]+|%"[^"]*"|%\d+)\s*=\s*(.*)$')
_ATTR_GROUP = re.compile(r'^attributes\s+#(\d+)\s*=\s*\{(.*)\}\s*$', re.M)
_LABEL_REF = re.compile(r'label\s+(%[-\w$.]+|%"[^"]*"|%\d+)')
_PREFIXES = {"tail", "musttail", "notail", "fast", "nnan", "ninf", "nsz", "arcp", "contract", "afn", "reassoc"}


@dataclass
class Inst:
    opcode: str
    result: str | None
    text: str                       # the instruction without the "%r =" part

    @property
    def operands(self) -> list[str]:
        return re.findall(r'%[-\w$.]+|%"[^"]*"|-?\b\d+\b|\bnull\b|\bzeroinitializer\b', self.text)


@dataclass
class Block:
    name: str
    insts: list[Inst] = field(default_factory=list)

    @property
    def successors(self) -> list[str]:
        if not self.insts:
            return []
        term = self.insts[-1]
        if term.opcode in ("br", "switch", "indirectbr", "invoke", "callbr"):
            return [s.lstrip("%") for s in _LABEL_REF.findall(term.text)]
        return []


@dataclass
class Function:
    name: str
    header: str
    blocks: list[Block]
    attrs: str = ""                 # the text of its attribute groups (target-cpu, target-features...)
    callsites: list = field(default_factory=list)   # (callee, estimated calls), filled by the features

    @property
    def insts(self) -> list[Inst]:
        return [i for b in self.blocks for i in b.insts]

    @property
    def n_args(self) -> int:
        m = _DEFINE.match(self.header)
        start = m.end() if m else self.header.find("(") + 1
        depth, n, seen = 1, 0, False
        for ch in self.header[start:]:
            if ch in "([{<":
                depth += 1
            elif ch in ")]}>":
                depth -= 1
                if depth == 0:
                    break
            elif ch == "," and depth == 1:
                n += 1
            elif not ch.isspace():
                seen = True
        return n + 1 if seen else 0


def _opcode(rhs: str) -> str:
    toks = rhs.split()
    i = 0
    while i < len(toks) and toks[i] in _PREFIXES:
        i += 1
    return toks[i] if i < len(toks) else "other"


def _join_continuations(lines: list[str]) -> list[str]:
    # switch tables and long phis span several lines; glue them to their instruction
    out: list[str] = []
    depth = 0
    for ln in lines:
        if depth > 0 and out:
            out[-1] += " " + ln.strip()
        else:
            out.append(ln)
        depth += ln.count("[") - ln.count("]")
        depth = max(depth, 0)
    return out


def split_functions(text: str) -> list[Function]:
    groups = {m.group(1): m.group(2) for m in _ATTR_GROUP.finditer(text)}
    funcs: list[Function] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _DEFINE.match(lines[i])
        if not m:
            i += 1
            continue
        header = lines[i]
        name = m.group(1).strip('"')
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "}":
            body.append(lines[i])
            i += 1
        i += 1
        refs = re.findall(r"#(\d+)", header[header.rfind(")"):])
        attrs = " ".join(groups.get(r, "") for r in refs)
        blocks: list[Block] = [Block("entry")]
        first = True
        for raw in _join_continuations(body):
            ln = raw.split(";", 1)[0].rstrip() if ";" in raw and '"' not in raw else raw.rstrip()
            s = ln.strip()
            if not s or s.startswith(";"):
                continue
            lm = _LABEL.match(s)
            if lm and not s.startswith("%"):
                label = lm.group(1).strip('"')
                if first and not blocks[0].insts:
                    blocks[0].name = label
                else:
                    blocks.append(Block(label))
                first = False
                continue
            first = False
            am = _ASSIGN.match(s)
            if am:
                blocks[-1].insts.append(Inst(_opcode(am.group(2)), am.group(1), am.group(2)))
            else:
                blocks[-1].insts.append(Inst(_opcode(s), None, s))
        if not blocks[0].insts and len(blocks) == 1:
            continue
        funcs.append(Function(name, header, blocks, attrs))
    # entry blocks without an explicit label get LLVM's implicit number
    return funcs
