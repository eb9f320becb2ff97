"""Control-flow graph of one function, over block indices.

Blocks are numbered ``0..n-1`` with the entry at 0, the numbering ``Function.blocks`` uses.
Successor lists keep LLVM's multiplicity: a ``switch`` with two cases to the same block has
that block twice, as ``succ_size``/``pred_size`` count it in LLVM.  Unique neighbours are
available separately because most graph algorithms want sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["CFG", "block_names", "postorder", "reverse_postorder", "reachable"]


def postorder(succs: Sequence[Sequence[int]], entry: int = 0) -> list[int]:
    """Depth-first post-order from ``entry``, successors visited in list order.

    The order is that of a recursive DFS (and of LLVM's ``po_iterator``), computed with an
    explicit stack so that deep CFGs do not hit Python's recursion limit.
    """
    n = len(succs)
    if not 0 <= entry < n:
        return []
    seen = [False] * n
    seen[entry] = True
    order: list[int] = []
    stack: list[tuple[int, int]] = [(entry, 0)]
    while stack:
        node, i = stack[-1]
        out = succs[node]
        while i < len(out) and seen[out[i]]:
            i += 1
        if i < len(out):
            stack[-1] = (node, i + 1)
            child = out[i]
            seen[child] = True
            stack.append((child, 0))
        else:
            stack.pop()
            order.append(node)
    return order


def reverse_postorder(succs: Sequence[Sequence[int]], entry: int = 0) -> list[int]:
    order = postorder(succs, entry)
    order.reverse()
    return order


def reachable(succs: Sequence[Sequence[int]], entry: int = 0) -> list[bool]:
    n = len(succs)
    seen = [False] * n
    if not 0 <= entry < n:
        return seen
    seen[entry] = True
    work = [entry]
    while work:
        for s in succs[work.pop()]:
            if not seen[s]:
                seen[s] = True
                work.append(s)
    return seen


class CFG:
    """Successors and predecessors of blocks ``0..n-1`` (entry 0), with multiplicity.

    ``names`` is only for printing and for mapping to other tools' output.
    """

    def __init__(self, succs: Sequence[Sequence[int]], names: Sequence[str] | None = None,
                 entry: int = 0):
        n = len(succs)
        self.entry = entry
        self.succs: list[list[int]] = [list(s) for s in succs]
        for b, out in enumerate(self.succs):
            for s in out:
                if not 0 <= s < n:
                    raise ValueError(f"block {b} has successor {s} outside 0..{n - 1}")
        self.preds: list[list[int]] = [[] for _ in range(n)]
        for b, out in enumerate(self.succs):
            for s in out:
                self.preds[s].append(b)
        self._names: list[str] | None = list(names) if names is not None else None
        self._fn = None
        self._reachable: list[bool] | None = None
        self._po: list[int] | None = None

    @classmethod
    def from_function(cls, fn) -> CFG:
        """The CFG of a parsed ``irtools.ir.llvm.Function`` (a definition).

        Block names are LLVM's: the name, or the slot number of an unnamed block.
        """
        blocks = fn.blocks
        index = {id(b): i for i, b in enumerate(blocks)}
        succs = [[index[id(s)] for s in b.successors] for b in blocks]
        cfg = cls(succs)
        cfg._fn = fn  # names are worked out on first use: they need every instruction's name
        return cfg

    @property
    def names(self) -> list[str]:
        """Block names (slot numbers for unnamed blocks); indices when built from lists."""
        if self._names is None:
            self._names = block_names(self._fn) if self._fn is not None else [str(i) for i in range(len(self))]
        return self._names

    def spelling(self, b: int) -> str:
        """Block ``b`` as LLVM prints it as an operand: ``%entry``, ``%"a b"``, ``%"3"`` or slot ``%3``."""
        from .loops import llvm_local_name

        name = self.names[b]
        unnamed = self._fn is not None and not self._fn.blocks[b].name
        return "%" + (name if unnamed else llvm_local_name(name))

    def __len__(self) -> int:
        return len(self.succs)

    def unique_succs(self, b: int) -> list[int]:
        return list(dict.fromkeys(self.succs[b]))

    def unique_preds(self, b: int) -> list[int]:
        return list(dict.fromkeys(self.preds[b]))

    def edges(self) -> Iterator[tuple[int, int]]:
        """Every edge once per terminator operand (so duplicates appear twice)."""
        for b, out in enumerate(self.succs):
            for s in out:
                yield b, s

    @property
    def reachable(self) -> list[bool]:
        if self._reachable is None:
            self._reachable = reachable(self.succs, self.entry)
        return self._reachable

    def is_reachable(self, b: int) -> bool:
        return self.reachable[b]

    def unreachable_blocks(self) -> list[int]:
        return [b for b, r in enumerate(self.reachable) if not r]

    def postorder(self) -> list[int]:
        if self._po is None:
            self._po = postorder(self.succs, self.entry)
        return list(self._po)

    def reverse_postorder(self) -> list[int]:
        order = self.postorder()
        order.reverse()
        return order

    def critical_edges(self) -> list[tuple[int, int]]:
        """Edges from a block with several successors to one with several predecessors.

        Counted as LLVM's ``SplitCriticalEdge``/func-properties do: per terminator operand,
        with predecessors counted over all blocks, reachable or not.
        """
        return [(b, s) for b, out in enumerate(self.succs) if len(out) > 1
                for s in out if len(self.preds[s]) > 1]

    def back_edges_dfs(self) -> list[tuple[int, int]]:
        """Edges to a block still on the DFS stack (retreating edges of a DFS from entry).

        On a reducible CFG these are exactly the back edges of natural loops.
        """
        n = len(self.succs)
        state = [0] * n  # 0 new, 1 on stack, 2 done
        out_edges: list[tuple[int, int]] = []
        if n == 0:
            return out_edges
        state[self.entry] = 1
        stack: list[tuple[int, int]] = [(self.entry, 0)]
        while stack:
            node, i = stack[-1]
            out = self.succs[node]
            if i < len(out):
                stack[-1] = (node, i + 1)
                child = out[i]
                if state[child] == 1:
                    out_edges.append((node, child))
                elif state[child] == 0:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2
                stack.pop()
        return out_edges


def block_names(fn) -> list[str]:
    """Each block's name, or for an unnamed block the slot number LLVM's printer gives it.

    Slots number unnamed arguments, then, block by block, the block and its unnamed
    non-void instructions, as ``ModuleSlotTracker`` does.
    """
    slot = sum(1 for a in fn.arguments if not a.name)
    out = []
    for b in fn.blocks:
        if b.name:
            out.append(b.name)
        else:
            out.append(str(slot))
            slot += 1
        for inst in b.instructions:
            if not inst.name and not inst.type.is_void:
                slot += 1
    return out
