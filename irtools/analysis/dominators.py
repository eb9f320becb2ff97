"""Dominator tree and dominance frontiers (Cooper, Harvey and Kennedy's iterative algorithm).

Unreachable blocks are not in the tree (``idom`` is ``None`` for them and for the entry),
as in LLVM's ``DominatorTree``: they dominate nothing and nothing dominates them, except that
LLVM's ``dominates(A, B)`` is true when B is unreachable; :meth:`DominatorTree.dominates`
follows that convention so that loop and feature code can mirror LLVM.
"""

from __future__ import annotations

from collections.abc import Sequence

from .cfg import CFG

__all__ = ["DominatorTree", "immediate_dominators"]


def immediate_dominators(cfg: CFG) -> list[int | None]:
    """``idom[b]`` for each block: ``None`` for the entry and for unreachable blocks."""
    n = len(cfg)
    idom: list[int | None] = [None] * n
    if n == 0:
        return idom
    rpo = cfg.reverse_postorder()
    order = [-1] * n  # position in RPO; -1 for unreachable
    for i, b in enumerate(rpo):
        order[b] = i
    entry = cfg.entry
    doms: list[int] = [-1] * n
    doms[entry] = entry

    def intersect(a: int, b: int) -> int:
        while a != b:
            while order[a] > order[b]:
                a = doms[a]
            while order[b] > order[a]:
                b = doms[b]
        return a

    preds = [[p for p in cfg.unique_preds(b) if order[p] >= 0] for b in range(n)]
    changed = True
    while changed:
        changed = False
        for b in rpo[1:]:
            new = -1
            for p in preds[b]:
                if doms[p] == -1:
                    continue
                new = p if new == -1 else intersect(p, new)
            if new != doms[b]:
                doms[b] = new
                changed = True
    for b in range(n):
        if b != entry and doms[b] != -1:
            idom[b] = doms[b]
    return idom


class DominatorTree:
    """Dominator tree of a :class:`CFG`; blocks are indices."""

    def __init__(self, cfg: CFG):
        self.cfg = cfg
        self.idom = immediate_dominators(cfg)
        n = len(cfg)
        self.children: list[list[int]] = [[] for _ in range(n)]
        for b, d in enumerate(self.idom):
            if d is not None:
                self.children[d].append(b)
        # Pre/post numbers of a DFS over the tree make dominance queries O(1).
        self._pre = [-1] * n
        self._post = [-1] * n
        self.level = [-1] * n
        if n:
            clock = 0
            self.level[cfg.entry] = 0
            stack: list[tuple[int, int]] = [(cfg.entry, 0)]
            self._pre[cfg.entry] = clock
            clock += 1
            while stack:
                node, i = stack[-1]
                kids = self.children[node]
                if i < len(kids):
                    stack[-1] = (node, i + 1)
                    child = kids[i]
                    self.level[child] = self.level[node] + 1
                    self._pre[child] = clock
                    clock += 1
                    stack.append((child, 0))
                else:
                    self._post[node] = clock
                    clock += 1
                    stack.pop()
        self._frontier: list[list[int]] | None = None

    @classmethod
    def from_function(cls, fn) -> DominatorTree:
        return cls(CFG.from_function(fn))

    def is_reachable(self, b: int) -> bool:
        return self._pre[b] >= 0

    def dominates(self, a: int, b: int) -> bool:
        """True when every path from the entry to ``b`` passes through ``a`` (reflexive).

        As in LLVM, an unreachable ``b`` is dominated by everything, and an unreachable ``a``
        dominates nothing else.
        """
        if a == b:
            return True
        if not self.is_reachable(b):
            return True
        if not self.is_reachable(a):
            return False
        return self._pre[a] <= self._pre[b] and self._post[b] <= self._post[a]

    def strictly_dominates(self, a: int, b: int) -> bool:
        return a != b and self.dominates(a, b)

    def dominators(self, b: int) -> list[int]:
        """``b`` and its dominators up to the entry (empty for an unreachable block)."""
        if not self.is_reachable(b):
            return []
        out = [b]
        d = self.idom[b]
        while d is not None:
            out.append(d)
            d = self.idom[d]
        return out

    def nearest_common_dominator(self, a: int, b: int) -> int | None:
        if not (self.is_reachable(a) and self.is_reachable(b)):
            return None
        while not self.dominates(a, b):
            a = self.idom[a]  # type: ignore[assignment]
        return a

    def preorder(self) -> list[int]:
        return sorted((b for b in range(len(self.cfg)) if self._pre[b] >= 0), key=self._pre.__getitem__)

    def postorder(self) -> list[int]:
        """Tree post-order, children in the order they were added (block order)."""
        return sorted((b for b in range(len(self.cfg)) if self._pre[b] >= 0), key=self._post.__getitem__)

    def dominance_frontier(self) -> list[list[int]]:
        """``DF[b]``: blocks where ``b``'s dominance stops (Cooper et al., Fig. 5), sorted."""
        if self._frontier is None:
            n = len(self.cfg)
            df: list[set[int]] = [set() for _ in range(n)]
            for b in range(n):
                if not self.is_reachable(b):
                    continue
                preds = [p for p in self.cfg.unique_preds(b) if self.is_reachable(p)]
                # The entry has an implicit edge from outside, so one back edge makes it a join.
                if len(preds) < (1 if b == self.cfg.entry else 2):
                    continue
                for p in preds:
                    runner: int | None = p
                    while runner is not None and runner != self.idom[b]:
                        df[runner].add(b)
                        runner = self.idom[runner]
            self._frontier = [sorted(s) for s in df]
        return self._frontier

    def iterated_frontier(self, blocks: Sequence[int]) -> list[int]:
        """DF+ of a set of blocks: where SSA construction places phis for their definitions."""
        df = self.dominance_frontier()
        out: set[int] = set()
        work = list(blocks)
        while work:
            b = work.pop()
            for f in df[b]:
                if f not in out:
                    out.add(f)
                    work.append(f)
        return sorted(out)
