"""Def-use chains: who uses each instruction, argument, global and constant.

A use is an (instruction, operand index) pair over LLVM's operand list
(``Instruction.operands``); a ``phi``'s incoming blocks are not uses, as in LLVM.  Uses
inside constant expressions (``getelementptr (i8, ptr @g, i64 4)``) are attributed to the
instruction that holds the expression, with ``via`` naming the constant, so that "which
instructions touch ``@g``" has one answer whatever the spelling.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from irtools.ir import llvm as lt

__all__ = ["DefUse", "Use", "global_uses"]


@dataclass(frozen=True)
class Use:
    user: object                               # the Instruction (or global) holding the operand
    index: int                                 # position in ``user.operands`` (-1: initializer)
    via: object | None = field(default=None, compare=False)  # the constant expression it is in


class DefUse:
    """Def-use chains of one function (every block, reachable or not)."""

    def __init__(self, fn):
        self.function = fn
        self._uses: dict[int, list[Use]] = {}
        self._values: dict[int, object] = {}
        for inst in fn.instructions():
            for i, op in enumerate(inst.operands):
                self._add(op, Use(inst, i))
                if isinstance(op, lt.Constant):
                    for leaf in _constant_leaves(op):
                        self._add(leaf, Use(inst, i, op))

    def _add(self, value, use: Use) -> None:
        key = id(value)
        self._values[key] = value
        self._uses.setdefault(key, []).append(use)

    def uses(self, value) -> list[Use]:
        """Every use of ``value`` in this function, in instruction order."""
        return list(self._uses.get(id(value), ()))

    def users(self, value) -> list:
        """Distinct instructions that use ``value``, in instruction order."""
        return list(dict.fromkeys(u.user for u in self._uses.get(id(value), ())))

    def num_uses(self, value) -> int:
        return len(self._uses.get(id(value), ()))

    def has_uses(self, value) -> bool:
        return id(value) in self._uses

    def definitions(self) -> list:
        """Values this function defines: its arguments, then non-void instructions."""
        fn = self.function
        return [*fn.arguments, *(i for i in fn.instructions() if not i.type.is_void)]

    def unused_definitions(self) -> list:
        """Arguments and non-void instructions nothing in the function uses."""
        return [v for v in self.definitions() if not self.has_uses(v)]

    def used_globals(self) -> list:
        """Globals and functions this function refers to, directly or inside constants."""
        return [v for v in self._values.values()
                if isinstance(v, lt.Function | lt.GlobalVariable | lt.GlobalAlias | lt.GlobalIFunc)]

    def chains(self) -> dict:
        """``{definition: [users]}`` for every argument and non-void instruction."""
        return {v: self.users(v) for v in self.definitions()}


def _constant_leaves(c, limit: int = 10000) -> Iterable:
    """Values nested inside a constant's operands (globals, other constants), depth first."""
    stack = [c]
    seen = 0
    while stack and seen < limit:
        x = stack.pop()
        seen += 1
        try:
            ops = x.operands if isinstance(x, lt.Constant) else ()
        except AssertionError:  # a forward reference the model left unresolved
            ops = ()
        for o in ops:
            yield o
            if isinstance(o, lt.Constant):
                stack.append(o)


def global_uses(module) -> dict[str, list[Use]]:
    """``{global or function name: uses}`` across the module: instructions and initializers.

    A use from an initializer, aliasee or resolver has the global variable, alias or ifunc as
    ``user`` and index -1.
    """
    out: dict[str, list[Use]] = {}
    named = (lt.Function, lt.GlobalVariable, lt.GlobalAlias, lt.GlobalIFunc)

    def record(value, use: Use) -> None:
        if isinstance(value, named):
            out.setdefault(value.name, []).append(use)

    for fn in module.functions:
        if fn.is_declaration:
            continue
        for inst in fn.instructions():
            for i, op in enumerate(inst.operands):
                record(op, Use(inst, i))
                if isinstance(op, lt.Constant):
                    for leaf in _constant_leaves(op):
                        record(leaf, Use(inst, i, op))
    for g in (*module.globals, *module.aliases, *module.ifuncs):
        try:
            init = g.initializer if isinstance(g, lt.GlobalVariable) else (
                g.aliasee if isinstance(g, lt.GlobalAlias) else g.resolver)
        except AssertionError:
            continue
        if init is None:
            continue
        record(init, Use(g, -1))
        if isinstance(init, lt.Constant):
            for leaf in _constant_leaves(init):
                record(leaf, Use(g, -1, init))
    return out
