"""Call graph of a module: direct calls, indirect calls, externals, SCCs and recursion.

Nodes are function names plus one pseudo-node, :data:`UNKNOWN`, the target of every
indirect call (LLVM's "external calling node" plays the same part).  Declarations are nodes
too, marked external.  A call through ``inline asm`` is not a call edge.  Call sites are
``call``, ``invoke`` and ``callbr`` instructions in every block, reachable or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["UNKNOWN", "CallGraph", "CallSite", "strongly_connected_components"]

UNKNOWN = "<unknown>"

CALL_OPCODES = frozenset({"call", "invoke", "callbr"})


def strongly_connected_components(succs: Sequence[Sequence[int]]) -> list[list[int]]:
    """Tarjan's SCCs of a graph over ``0..n-1``, callees before callers (reverse topological).

    Iterative, so long call chains do not hit Python's recursion limit.  Members of each SCC
    are listed in discovery order.
    """
    n = len(succs)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, i = work[-1]
            if i < len(succs[v]):
                work[-1] = (v, i + 1)
                w = succs[v][i]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                comp.reverse()
                out.append(comp)
    return out


@dataclass(frozen=True)
class CallSite:
    caller: str
    callee: str  # a function name, or UNKNOWN for an indirect call
    instruction: object = field(compare=False, repr=False)
    opcode: str = "call"


class CallGraph:
    """Who calls whom in one module."""

    def __init__(self, module):
        self.module = module
        self.functions: list[str] = []
        self.external: set[str] = set()
        self.calls: dict[str, list[CallSite]] = {}
        self.inline_asm_calls: dict[str, int] = {}
        for fn in module.functions:
            self.functions.append(fn.name)
            if fn.is_declaration:
                self.external.add(fn.name)
        known = set(self.functions)
        for fn in module.functions:
            sites: list[CallSite] = []
            asm = 0
            if not fn.is_declaration:
                for inst in fn.instructions():
                    if inst.opcode not in CALL_OPCODES:
                        continue
                    target = _direct_target(inst)
                    if target is _ASM:
                        asm += 1
                        continue
                    name = target if target in known else UNKNOWN
                    sites.append(CallSite(fn.name, name, inst, inst.opcode))
            self.calls[fn.name] = sites
            self.inline_asm_calls[fn.name] = asm
        self._nodes = [*self.functions, UNKNOWN]
        self._index = {name: i for i, name in enumerate(self._nodes)}
        self._callers: dict[str, list[str]] = {name: [] for name in self._nodes}
        for caller, sites in self.calls.items():
            for callee in dict.fromkeys(s.callee for s in sites):
                self._callers[callee].append(caller)

    @property
    def nodes(self) -> list[str]:
        """Every function name, then :data:`UNKNOWN`."""
        return list(self._nodes)

    def callees(self, name: str) -> list[str]:
        """Distinct callees of ``name`` in call-site order (UNKNOWN for indirect calls)."""
        return list(dict.fromkeys(s.callee for s in self.calls.get(name, ())))

    def callers(self, name: str) -> list[str]:
        return list(self._callers.get(name, ()))

    def indirect_call_count(self, name: str) -> int:
        return sum(1 for s in self.calls.get(name, ()) if s.callee == UNKNOWN)

    def edges(self) -> list[tuple[str, str]]:
        return [(caller, callee) for caller in self.functions for callee in self.callees(caller)]

    def sccs(self) -> list[list[str]]:
        """Strongly connected components, callees before callers (a bottom-up order).

        UNKNOWN has no outgoing edges: what an indirect call reaches is not known here.
        """
        succs = [[self._index[c] for c in self.callees(name)] for name in self._nodes]
        return [[self._nodes[i] for i in comp] for comp in strongly_connected_components(succs)]

    def recursive_functions(self) -> set[str]:
        """Functions on a call cycle: in an SCC of two or more, or calling themselves directly."""
        out: set[str] = set()
        for comp in self.sccs():
            if len(comp) > 1:
                out.update(comp)
            elif comp[0] in self.callees(comp[0]):
                out.add(comp[0])
        out.discard(UNKNOWN)
        return out

    def is_recursive(self, name: str) -> bool:
        return name in self.recursive_functions()

    def roots(self) -> list[str]:
        """Defined functions nothing in the module calls directly."""
        return [f for f in self.functions if f not in self.external and not self._callers[f]]


_ASM = object()


def _direct_target(inst):
    """The callee's name for a direct call, ``_ASM`` for inline asm, ``None`` if indirect."""
    from irtools.ir import llvm as lt

    callee = inst.callee
    if isinstance(callee, lt.InlineAsm):
        return _ASM
    if isinstance(callee, lt.Function):
        return callee.name
    if isinstance(callee, lt.GlobalAlias):
        return _resolve_alias(callee, lt)
    if isinstance(callee, lt.Constant) and callee.kind == lt.ConstantKind.EXPR and callee.opcode in (
            "bitcast", "addrspacecast"):
        # old IR calls through a cast of the function (typed pointers)
        inner = callee.operands[0] if callee.operands else None
        if isinstance(inner, lt.Function):
            return inner.name
    return None


def _resolve_alias(alias, lt, limit: int = 32):
    value = alias
    for _ in range(limit):
        if not isinstance(value, lt.GlobalAlias):
            break
        try:
            value = value.aliasee
        except AssertionError:  # an aliasee the model could not resolve
            return None
    return value.name if isinstance(value, lt.Function) else None
