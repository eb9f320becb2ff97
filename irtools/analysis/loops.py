"""Natural loops, built the way LLVM's ``LoopInfoBase::analyze`` builds them.

A loop is a header plus the blocks that reach one of its back edges (an edge to the header
from a block the header dominates) without passing through the header. Irreducible cycles
have no such header and are not loops, exactly as in LLVM. Loops with the same header are
one loop; loops are disjoint or nested.

The order of ``LoopInfo.top_level``, of each loop's ``children`` and of its ``blocks`` is
LLVM's: the result of ``PopulateLoopsDFS`` (a CFG post-order walk), so
:meth:`LoopInfo.format_llvm` prints what ``opt -passes='print<loops>'`` prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .cfg import CFG
from .dominators import DominatorTree

__all__ = ["Loop", "LoopInfo", "llvm_local_name"]


class Loop:
    """One natural loop; blocks are indices into the function's blocks."""

    __slots__ = ("header", "blocks", "block_set", "parent", "children", "_cfg")

    def __init__(self, header: int, cfg: CFG):
        self.header = header
        self.blocks: list[int] = [header]
        self.block_set: set[int] = {header}
        self.parent: Loop | None = None
        self.children: list[Loop] = []
        self._cfg = cfg

    def __repr__(self) -> str:
        return f"<Loop header={self._cfg.names[self.header]} depth={self.depth} blocks={len(self.blocks)}>"

    def __contains__(self, block: int) -> bool:
        return block in self.block_set

    @property
    def depth(self) -> int:
        d, loop = 1, self.parent
        while loop is not None:
            d, loop = d + 1, loop.parent
        return d

    def outermost(self) -> Loop:
        loop = self
        while loop.parent is not None:
            loop = loop.parent
        return loop

    @property
    def latches(self) -> list[int]:
        """Blocks of the loop with an edge to the header, in block order of ``blocks``."""
        preds = set(self._cfg.preds[self.header])
        return [b for b in self.blocks if b in preds]

    @property
    def exiting_blocks(self) -> list[int]:
        return [b for b in self.blocks if any(s not in self.block_set for s in self._cfg.succs[b])]

    @property
    def exit_blocks(self) -> list[int]:
        """Blocks outside the loop entered from inside it, each once, in discovery order."""
        out: dict[int, None] = {}
        for b in self.blocks:
            for s in self._cfg.succs[b]:
                if s not in self.block_set:
                    out.setdefault(s, None)
        return list(out)

    @property
    def exit_edges(self) -> list[tuple[int, int]]:
        return [(b, s) for b in self.blocks for s in self._cfg.succs[b] if s not in self.block_set]

    def preorder(self) -> Iterator[Loop]:
        yield self
        for child in self.children:
            yield from child.preorder()


class LoopInfo:
    """All natural loops of a function (LLVM's ``LoopInfo`` on the same CFG)."""

    def __init__(self, cfg: CFG, domtree: DominatorTree | None = None):
        self.cfg = cfg
        self.domtree = domtree if domtree is not None else DominatorTree(cfg)
        n = len(cfg)
        self._loop_for: list[Loop | None] = [None] * n
        self.top_level: list[Loop] = []
        if n:
            self._analyze()

    @classmethod
    def from_function(cls, fn) -> LoopInfo:
        return cls(CFG.from_function(fn))

    def _analyze(self) -> None:
        cfg, dt, loop_for = self.cfg, self.domtree, self._loop_for
        for header in dt.postorder():
            backedges = [p for p in cfg.preds[header] if dt.is_reachable(p) and dt.dominates(header, p)]
            if not backedges:
                continue
            loop = Loop(header, cfg)
            work = list(backedges)
            while work:
                b = work.pop()
                sub = loop_for[b]
                if sub is None:
                    if not dt.is_reachable(b):
                        continue
                    loop_for[b] = loop
                    if b == header:
                        continue
                    work.extend(cfg.preds[b])
                else:
                    sub = sub.outermost()
                    if sub is loop:
                        continue
                    sub.parent = loop
                    work.extend(p for p in cfg.preds[sub.header] if loop_for[p] is not sub)
        # PopulateLoopsDFS: blocks and sub-loops are appended in CFG post-order, then reversed.
        for b in cfg.postorder():
            sub = loop_for[b]
            if sub is not None and b == sub.header:
                if sub.parent is not None:
                    sub.parent.children.append(sub)
                else:
                    self.top_level.append(sub)
                sub.blocks[1:] = sub.blocks[:0:-1]
                sub.children.reverse()
                sub = sub.parent
            while sub is not None:
                sub.blocks.append(b)
                sub.block_set.add(b)
                sub = sub.parent

    def __iter__(self) -> Iterator[Loop]:
        return iter(self.top_level)

    def __len__(self) -> int:
        return len(self.top_level)

    def loops(self) -> list[Loop]:
        """Every loop, outer before inner."""
        return [loop for top in self.top_level for loop in top.preorder()]

    def loop_for(self, block: int) -> Loop | None:
        """The innermost loop that contains ``block``."""
        return self._loop_for[block]

    def loop_depth(self, block: int) -> int:
        loop = self._loop_for[block]
        return 0 if loop is None else loop.depth

    def is_header(self, block: int) -> bool:
        loop = self._loop_for[block]
        return loop is not None and loop.header == block

    @property
    def max_depth(self) -> int:
        return max((loop.depth for loop in self.loops()), default=0)

    def format_llvm(self) -> str:
        """The text ``opt -passes='print<loops>'`` prints after its "Loop info" line."""
        lines: list[str] = []

        def emit(loop: Loop, indent: int) -> None:
            parts = []
            latches = set(loop.latches)
            for b in loop.blocks:
                s = self.cfg.spelling(b)
                if b == loop.header:
                    s += "<header>"
                if b in latches:
                    s += "<latch>"
                if any(x not in loop.block_set for x in self.cfg.succs[b]):
                    s += "<exiting>"
                parts.append(s)
            lines.append(" " * indent + f"Loop at depth {loop.depth} containing: " + ",".join(parts))
            for child in loop.children:
                emit(child, indent + 4)

        for top in self.top_level:
            emit(top, 0)
        return "\n".join(lines) + ("\n" if lines else "")


_BARE_NAME = re.compile(r"[-a-zA-Z._0-9]+\Z")


def llvm_local_name(name: str) -> str:
    """A block or value name as LLVM prints it after ``%``: bare, or quoted with escapes.

    A name that starts with a digit is quoted (``%"3"`` is a name, ``%3`` a slot number).
    """
    if _BARE_NAME.match(name) and not name[0].isdigit():
        return name
    out = []
    for ch in name.encode("utf-8"):
        if ch == 0x5C or ch == 0x22 or ch < 0x20 or ch >= 0x7F:
            out.append(f"\\{ch:02X}")
        else:
            out.append(chr(ch))
    return '"' + "".join(out) + '"'
