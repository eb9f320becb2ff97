"""What the affine tile / super-vectorise / unroll passes do to one loop nest, decided before lowering.

The MLIR cost model prices a function under a pipeline without running it.  Code size after lowering
is set less by the source ops than by the shape the affine passes leave: how many loops, how many
copies of the innermost body, whether a vectorised loop needs masked transfers, and which loops
keep variable (``min``) bounds.  Those passes follow a few plain rules, read off mlir-opt-22's output
and checked against it in ``tests/test_costmodel_mlirlowering.py``:

* ``affine-loop-tile{tile-size=T}`` splits every loop of a perfect nest into a tile loop and a point
  loop.  A point loop has a constant trip ``min(s, T)`` when the size ``s`` is at most ``T`` or a
  multiple of it; otherwise its upper bound is ``min(iv + T, s)``, a variable trip.
* ``affine-super-vectorize{virtual-vector-size=V}`` (1-D) vectorises a loop that carries no
  reduction and along which every access is either invariant or varies in its last index only
  (matmul's ``j``, an element-wise loop's innermost); its step becomes ``V``.  A trip that ``V``
  does not divide leaves masked transfers.  The vectoriser does not mark its transfers in bounds, so
  ``convert-vector-to-scf`` lowers each to a bounds test and a per-lane fallback: their static code grows
  with the lanes (``sim.lane_mem``), unless a full unroll of an untiled vector loop leaves constant
  indices, which it proves in bounds (1024 floats, vector 8: 177 instructions per copy unrolled by 4,
  8 per copy unrolled fully).
* ``affine-loop-unroll{unroll-factor=F}`` unrolls each innermost loop of constant trip ``t`` (after
  vectorisation): nothing when ``t < F``, fully when ``t == F``, otherwise ``F`` copies plus one
  cleanup copy when ``F`` does not divide ``t``.  A loop bounded by a dynamic size gets ``F`` copies
  and a cleanup loop; one bounded by a tile's ``min`` is left alone.

scf loops are outside the affine passes: they keep their shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SIM_KEYS = ("sim.loops", "sim.var_loops", "sim.copies", "sim.body_static", "sim.mem_static", "sim.vectorized",
            "sim.masked_mem", "sim.full_unrolled", "sim.cleanups", "sim.exec_body", "sim.exec_iters",
            "sim.exec_mem", "sim.lane_mem", "sim.body_cost", "sim.exec_cost", "sim.flat_cost", "sim.exec_lane_mem",
            "sim.dead_ops", "sim.code_est", "sim.exec_est")

#: Machine instructions one scalar op adds after the standard lowering and llc-22 -O2, where it is not 1
#: (``research/mlir_model/op_costs.py``; f32/f64 and i32/i64 alike).  ``maximumf``/``minimumf`` carry
#: IEEE NaN and signed-zero semantics: fifteen instructions where ``addf`` is one.  A libm call ends a
#: function as a tail jump (0) but costs a call in a loop body; 2 is the middle.  ``addi`` merges
#: with the return's move into one ``lea`` (0 measured) but is an instruction in a loop body: 0.5.
OP_COST = {"arith.maximumf": 15.0, "arith.minimumf": 15.0, "arith.divsi": 2.0, "arith.divui": 2.0,
           "arith.remsi": 3.0, "arith.remui": 3.0, "arith.shli": 2.0, "arith.shrsi": 2.0, "arith.shrui": 2.0,
           "arith.maxsi": 2.0, "arith.minsi": 2.0, "arith.maxui": 2.0, "arith.minui": 2.0, "arith.addi": 0.5,
           "arith.remf": 2.0, "math.exp": 2.0, "math.log": 2.0, "math.tanh": 2.0, "math.powf": 2.0,
           "arith.constant": 0.0, "arith.index_cast": 0.0}


def op_cost(name: str) -> float:
    """Machine instructions of one op after lowering (1 unless :data:`OP_COST` says otherwise)."""
    return OP_COST.get(name, 1.0)


@dataclass
class Nest:
    """One loop nest before the affine passes (outermost loop first)."""
    sizes: list                     # trip per loop, None where not constant
    parallel: list                  # per loop: no reduction carried by it
    accesses: list = field(default_factory=list)   # per memory access: per index position, the loops it uses
    body: int = 1                   # compute ops per innermost iteration
    mem: int = 0                    # loads and stores per innermost iteration
    affine: bool = True             # the affine passes apply (linalg → affine loops, affine.for)
    strided: set = field(default_factory=set)       # loops an access reads with a non-unit step
    cost: float = -1.0              # machine instructions of the compute per iteration (-1: ``body``)
    bits: int = 32                  # element width: a vector of V elements fills V * bits / 128 SSE registers


def vectorizable(nest: Nest) -> int | None:
    """The loop the 1-D super-vectoriser picks: the innermost one that carries no reduction and along
    which every access is invariant or contiguous (used in its last index only)."""
    for d in reversed(range(len(nest.sizes))):
        if not nest.parallel[d] or d in nest.strided:
            continue
        if all(all(d not in pos for pos in acc[:-1]) for acc in nest.accesses if acc):
            return d
    return None


@dataclass
class _Loop:
    trip: int | None
    dim: int
    symbolic: bool = False          # a dynamic size (an affine symbol bound), not a tile's min bound
    vector: bool = False
    partial: bool = False


def simulate(nest: Nest, tile: float, vec: float, unroll: float) -> dict[str, float]:
    """The shape the affine passes leave (``SIM_KEYS``), and a static and a dynamic size of it."""
    sizes, n = nest.sizes, len(nest.sizes)
    tile_i, vec_i, unroll_i = int(tile), int(vec), int(unroll)
    affine = nest.affine and n > 0
    loops: list[_Loop] = []
    if affine and tile_i:
        for d, s in enumerate(sizes):
            loops.append(_Loop(-(-s // tile_i) if s else None, d))
        for d, s in enumerate(sizes):
            const = s is not None and (s <= tile_i or s % tile_i == 0)
            loops.append(_Loop(min(s, tile_i) if const else None, d))
    else:
        loops = [_Loop(s, d, symbolic=s is None) for d, s in enumerate(sizes)]
    vd = vectorizable(nest) if (affine and vec_i) else None
    if vd is not None:
        lp = next(lp for lp in reversed(loops) if lp.dim == vd)
        lp.vector = True
        if lp.trip is None:
            lp.partial = True
        else:
            lp.partial = lp.trip % vec_i != 0
            lp.trip = -(-lp.trip // vec_i)
    copies, cleanup, full = 1, 0, 0
    if affine and unroll_i > 1 and loops and loops[-1].trip is not None:
        t = loops[-1].trip
        if t == unroll_i:
            copies, full = t, 1
        elif t > unroll_i:
            copies, cleanup = unroll_i, int(t % unroll_i != 0)
    elif affine and unroll_i > 1 and loops and loops[-1].symbolic:
        copies, cleanup = unroll_i, 1
    f = dict.fromkeys(SIM_KEYS, 0.0)
    f["sim.loops"] = float(len(loops) - full + cleanup)
    f["sim.var_loops"] = float(sum(1 for lp in loops if lp.trip is None))
    f["sim.copies"] = float(copies + cleanup)
    f["sim.body_static"] = float((copies + cleanup) * nest.body)
    f["sim.mem_static"] = float((copies + cleanup) * nest.mem)
    f["sim.vectorized"] = float(vd is not None)
    masked = any(lp.vector and lp.partial for lp in loops)
    f["sim.masked_mem"] = float((copies + cleanup) * nest.mem) if masked else 0.0
    # an untiled vector loop unrolled away leaves constant indices, which the lowering proves in
    # bounds: no per-lane fallback (a tile loop's iv keeps a tiled one out of bounds as far as it knows)
    vloop = next((k for k, lp in enumerate(loops) if lp.vector), None)
    gone = vloop is not None and not tile_i and vloop == len(loops) - 1 and bool(full)
    f["sim.lane_mem"] = float((copies + cleanup) * nest.mem * vec_i) if vd is not None and not gone else 0.0
    cost = nest.cost if nest.cost >= 0 else float(nest.body)
    # an index that sums loops (a convolution's ``oh + kh``) is an add per access
    cost += sum(1 for acc in nest.accesses for pos in acc if len(pos) > 1)
    # a vector op costs its scalar cost per 128-bit register it spans (measured: addf on vector<16xf32>
    # 4 instructions, minimumf 68; research/mlir_model/vec_op_costs.py)
    regs = max(1.0, vec_i * nest.bits / 128) if vd is not None else 1.0
    f["sim.body_cost"] = float((copies + cleanup) * cost * regs)
    f["sim.full_unrolled"] = float(full)
    f["sim.cleanups"] = float(cleanup)
    # dynamic: the innermost body runs once per combination of the loops' trips (a vector loop's trip
    # counted in vector steps, a tile's variable point loop as a full tile); each loop level's
    # iterations pay its overhead (an unrolled innermost level once per copy group)
    pts = math.prod(s for s in sizes) if sizes and all(s is not None for s in sizes) else 0.0
    iters, prod = 0.0, 1.0
    for k, lp in enumerate(loops):
        trip = lp.trip if lp.trip is not None else (-(-tile_i // vec_i) if lp.vector and tile_i else (tile_i or 1))
        prod *= trip
        if k == len(loops) - 1 and copies > 1:
            iters += prod / copies
        else:
            iters += prod
    inner = prod if pts else 0.0
    f["sim.exec_iters"] = float(iters) if pts else 0.0
    f["sim.exec_body"] = float(inner * nest.body)
    f["sim.exec_mem"] = float(inner * nest.mem)
    f["sim.exec_cost"] = float(inner * cost * regs)
    # a transfer the lowering cannot prove in bounds becomes a masked load or store, which x86
    # without AVX-512 scalarises: one test and access per lane, wasted lanes of a short tile included
    f["sim.exec_lane_mem"] = float(inner * nest.mem * vec_i) if f["sim.lane_mem"] else 0.0
    # static size in rough machine instructions: loop control, the body copies, masked transfers'
    # guards (a bounds test and a scalar fallback each)
    f["sim.code_est"] = (5.0 * f["sim.loops"] + 3.0 * f["sim.var_loops"] + (copies + cleanup) * (cost * regs + nest.mem)
                         + 5.0 * f["sim.lane_mem"])
    f["sim.exec_est"] = (f["sim.exec_cost"] + f["sim.exec_mem"] + 3.0 * f["sim.exec_iters"]
                         + 4.0 * f["sim.exec_lane_mem"])
    return f


def add(total: dict[str, float], one: dict[str, float]) -> None:
    for k, v in one.items():
        total[k] = total.get(k, 0.0) + v
