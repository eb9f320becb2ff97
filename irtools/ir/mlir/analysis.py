"""Analyses over the MLIR model: op histograms, nesting, loop nests, shapes, and cost-model features.

``feature_vector(op)`` returns a flat ``dict[str, float]`` whose keys are fixed (``FEATURE_KEYS``),
so rows from different ops line up as columns:

* ``ops``, ``blocks``, ``regions``, ``max_depth``: size and nesting of the op's subtree;
* ``dialect.<name>`` for each of ``DIALECTS`` (op counts per dialect), ``dialect.other``;
* ``kind.<name>``: arithmetic (``arith``/``math`` ops, split in ``int``, ``float``), ``memory`` (loads, stores,
  allocations), ``control`` (branches, calls, yields/returns), ``vector`` ops;
* ``loops``, ``loop_depth``, ``loop_trip_product`` (product of constant trip counts along the deepest
  nest, 0 when any is unknown), ``loops_const_trip`` (loops with a constant trip count);
* ``shaped_values``, ``max_rank``, ``dynamic_dims``, ``elements_static`` (sum of static element
  counts of memref/tensor/vector results and block arguments), ``elem_bits_mean``;
* ``values``, ``uses_mean`` (average uses per value).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from . import attrs as A
from .model import Operation

DIALECTS = ("builtin", "func", "arith", "math", "scf", "cf", "affine", "memref", "tensor", "linalg", "vector",
            "llvm", "gpu")
LOOP_OPS = ("scf.for", "affine.for", "scf.parallel", "affine.parallel")
_MEMORY = re.compile(r"\.(load|store|alloc|alloca|dealloc|getelementptr|transfer_read|transfer_write|gather|"
                     r"scatter|copy|subview|extract_slice|insert_slice)$")
_CONTROL = re.compile(r"\.(br|cond_br|switch|call|call_indirect|return|yield|condition|terminator)$")

FEATURE_KEYS = (("ops", "blocks", "regions", "max_depth")
                + tuple(f"dialect.{d}" for d in DIALECTS) + ("dialect.other",)
                + ("kind.int", "kind.float", "kind.memory", "kind.control", "kind.vector")
                + ("loops", "loop_depth", "loop_trip_product", "loops_const_trip")
                + ("shaped_values", "max_rank", "dynamic_dims", "elements_static", "elem_bits_mean")
                + ("values", "uses_mean"))


def op_histogram(op: Operation) -> Counter:
    """Op name -> count over the op's subtree (the op included)."""
    return Counter(o.name for o in op.walk())


def dialect_histogram(op: Operation) -> Counter:
    return Counter(o.dialect or "(none)" for o in op.walk())


def nesting_depth(op: Operation) -> int:
    """Deepest region nesting below ``op`` (0 for an op without regions)."""
    best = 0
    stack = [(op, 0)]
    while stack:
        o, d = stack.pop()
        best = max(best, d)
        for r in o.regions:
            for b in r.blocks:
                stack.extend((c, d + 1) for c in b.operations)
    return best


def constant_int(value) -> int | None:
    """The integer a value holds when an ``arith.constant``/``llvm.mlir.constant`` defines it."""
    owner = getattr(value, "owner", None)
    if not isinstance(owner, Operation) or owner.name not in ("arith.constant", "llvm.mlir.constant",
                                                              "index.constant"):
        return None
    if owner.is_generic:
        a = owner.properties.get("value") or owner.attributes.get("value")
        return a.value if isinstance(a, A.IntegerAttr) else None
    m = re.search(r"(?:constant\s*\(?)(-?\d+)\b(?!\.)", owner.text)
    return int(m.group(1)) if m else None


def _affine_const(a) -> int | None:
    if isinstance(a, A.AffineMapAttr):
        m = re.fullmatch(r"\s*\(\s*\)\s*->\s*\(\s*(-?\d+)\s*\)\s*", a.text)
        return int(m.group(1)) if m else None
    return None


def _affine_consts(a) -> list[int] | None:
    """The results of a constant affine map ``() -> (0, 4)``."""
    if not isinstance(a, A.AffineMapAttr):
        return None
    m = re.fullmatch(r"\s*\(\s*\)\s*->\s*\(([-\d,\s]*)\)\s*", a.text)
    try:
        return [int(x) for x in m.group(1).split(",")] if m else None
    except ValueError:
        return None


def _trip(lb, ub, step) -> int | None:
    if lb is None or ub is None or not step:
        return None
    return max(0, -(-(ub - lb) // step))


@dataclass(frozen=True)
class Loop:
    op: Operation
    depth: int            # 1 for an outermost loop
    trip_counts: tuple    # one per induction variable; None where not constant

    @property
    def trip_count(self) -> int | None:
        if any(t is None for t in self.trip_counts):
            return None
        return math.prod(self.trip_counts)


def trip_counts(op: Operation) -> tuple:
    """Constant trip count per induction variable of a loop op (None where unknown)."""
    name = op.name
    if name == "scf.for":
        ops = op.operands
        if len(ops) < 3:
            return (None,)
        lb, ub, st = (constant_int(v) for v in ops[:3])
        return (_trip(lb, ub, st),)
    if name == "scf.parallel":
        n = len(op.regions[0].blocks[0].arguments) if op.regions and op.regions[0].blocks else 0
        ops = op.operands
        if n == 0 or len(ops) < 3 * n:
            return (None,)
        return tuple(_trip(constant_int(ops[k]), constant_int(ops[n + k]), constant_int(ops[2 * n + k]))
                     for k in range(n))
    if name == "affine.for":
        if op.is_generic:
            p = {**op.attributes, **op.properties}
            step = p.get("step")
            return (_trip(_affine_const(p.get("lowerBoundMap")), _affine_const(p.get("upperBoundMap")),
                          step.value if isinstance(step, A.IntegerAttr) else None),)
        m = re.match(r"[^=]*=\s*(-?\d+)\s+to\s+(-?\d+)(?:\s+step\s+(\d+))?\s*\{", op.text)
        return (_trip(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)),) if m else (None,)
    if name == "affine.parallel" and op.is_generic:
        p = {**op.attributes, **op.properties}
        lbs, ubs = _affine_consts(p.get("lowerBoundsMap")), _affine_consts(p.get("upperBoundsMap"))
        steps = p.get("steps")
        steps = [a.value for a in steps] if isinstance(steps, A.ArrayAttr) else None
        if lbs is None or ubs is None or steps is None or not len(lbs) == len(ubs) == len(steps):
            return (None,)
        return tuple(_trip(a, b, s) for a, b, s in zip(lbs, ubs, steps, strict=True))
    if name == "affine.parallel" and not op.is_generic:
        m = re.match(r"[^=]*=\s*\(([^)]*)\)\s*to\s*\(([^)]*)\)(?:\s*step\s*\(([^)]*)\))?", op.text)
        if m:
            lbs, ubs = m.group(1).split(","), m.group(2).split(",")
            steps = m.group(3).split(",") if m.group(3) else ["1"] * len(lbs)
            out = []
            for a, b, s in zip(lbs, ubs, steps, strict=False):
                try:
                    out.append(_trip(int(a), int(b), int(s)))
                except ValueError:
                    out.append(None)
            return tuple(out)
    return (None,)


def loops(op: Operation) -> list[Loop]:
    """Every loop op under ``op`` in pre-order, with its loop depth and constant trip counts."""
    out = []
    stack = [(op, 0)]
    while stack:
        o, d = stack.pop()
        if o.name in LOOP_OPS:
            d += 1
            out.append(Loop(o, d, trip_counts(o)))
        children = [c for r in o.regions for b in r.blocks for c in b.operations]
        stack.extend((c, d) for c in reversed(children))
    return out


def loop_nests(op: Operation) -> list[list[Loop]]:
    """Perfect-or-not nests as paths from each outermost loop to each innermost loop below it."""
    nests, path = [], []
    for lp in loops(op):
        path = path[:lp.depth - 1] + [lp]
        if nests and len(path) > 1 and nests[-1] == path[:-1]:
            nests[-1] = list(path)
        else:
            nests.append(list(path))
    return nests


@dataclass(frozen=True)
class ShapeInfo:
    kind: str             # tensor, memref, vector
    shape: tuple          # None for dynamic dims
    element_type: object
    rank: int

    @property
    def static_elements(self) -> int | None:
        if any(d is None for d in self.shape):
            return None
        return math.prod(self.shape)


def _shape_info(t) -> ShapeInfo | None:
    if isinstance(t, (A.RankedTensorType, A.MemRefType, A.VectorType)):
        kind = {A.RankedTensorType: "tensor", A.MemRefType: "memref", A.VectorType: "vector"}[type(t)]
        return ShapeInfo(kind, t.shape, t.element_type, len(t.shape))
    if isinstance(t, (A.UnrankedTensorType, A.UnrankedMemRefType)):
        return ShapeInfo("tensor" if isinstance(t, A.UnrankedTensorType) else "memref", (), t.element_type, -1)
    return None


def shapes(op: Operation) -> list[ShapeInfo]:
    """Shapes and element types of every shaped result and block argument under ``op``."""
    out = []
    for o in op.walk():
        vals = list(o.results)
        for r in o.regions:
            for b in r.blocks:
                vals.extend(b.arguments)
        for v in vals:
            s = _shape_info(v.type)
            if s is not None:
                out.append(s)
    return out


def _bits(t) -> int:
    if isinstance(t, A.IntegerType):
        return t.width
    if isinstance(t, A.FloatType):
        return t.width
    if isinstance(t, A.IndexType):
        return 64
    return 0


def feature_vector(op: Operation) -> dict[str, float]:
    """Fixed-key numeric features of ``op``'s subtree (see the module docstring for the keys)."""
    f = dict.fromkeys(FEATURE_KEYS, 0.0)
    nvalues = nuses = 0
    stack = [(op, 0)]
    while stack:
        o, d = stack.pop()
        f["ops"] += 1
        f["max_depth"] = max(f["max_depth"], d)
        name, dia = o.name, o.dialect
        f[f"dialect.{dia}" if dia in DIALECTS else "dialect.other"] += 1
        if dia in ("arith", "math"):
            types = [r.type for r in o.results]
            if any(isinstance(t, A.FloatType) or isinstance(getattr(t, "element_type", None), A.FloatType)
                   for t in types) or name.endswith("f"):
                f["kind.float"] += 1
            else:
                f["kind.int"] += 1
        if _MEMORY.search(name):
            f["kind.memory"] += 1
        if _CONTROL.search(name):
            f["kind.control"] += 1
        if dia == "vector":
            f["kind.vector"] += 1
        res = o.results
        nvalues += len(res)
        for v in res:
            nuses += len(v.uses)
        for r in o.regions:
            f["regions"] += 1
            for b in r.blocks:
                f["blocks"] += 1
                nvalues += len(b.arguments)
                stack.extend((c, d + 1) for c in b.operations)
    ls = loops(op)
    f["loops"] = len(ls)
    f["loop_depth"] = max((lp.depth for lp in ls), default=0)
    f["loops_const_trip"] = sum(1 for lp in ls if lp.trip_count is not None)
    nests = loop_nests(op)
    if nests:
        deepest = max(nests, key=len)
        trips = [lp.trip_count for lp in deepest]
        f["loop_trip_product"] = float(math.prod(trips)) if all(t is not None for t in trips) else 0.0
    sh = shapes(op)
    f["shaped_values"] = len(sh)
    f["max_rank"] = max((s.rank for s in sh), default=0)
    f["dynamic_dims"] = sum(sum(1 for d in s.shape if d is None) for s in sh)
    f["elements_static"] = float(sum(s.static_elements or 0 for s in sh))
    bits = [_bits(s.element_type) for s in sh if _bits(s.element_type)]
    f["elem_bits_mean"] = sum(bits) / len(bits) if bits else 0.0
    f["values"] = nvalues
    f["uses_mean"] = nuses / nvalues if nvalues else 0.0
    return {k: float(v) for k, v in f.items()}
