"""Features of high-level MLIR functions under a lowering pipeline: the input of the MLIR cost model.

One definition, next to the LLVM ones in :mod:`irtoolkit.costmodel.features` (whose ``mlir.*`` block — the
subtree sizes, dialect and kind counts, loops and trip counts, shapes of
:func:`irtools.ir.mlir.analysis.feature_vector` — is reused as is).  On top of it, from the project's
MLIR parser:

* ``op.<name>``: counts of the common upstream ops, ``op.other`` for the rest;
* ``la.*``: the structured (linalg) ops: their iteration spaces (points, from the operand shapes and
  the indexing maps or the named op's definition), parallel and reduction iterators, body ops per
  point, non-identity maps, dynamic dimensions, the innermost dimension;
* ``sig.*``: the signature (memref and tensor arguments, results, argument bytes);
* ``pipe.*``: the pipeline (tile size, virtual vector size, unroll factor, bufferisation, number of
  passes, hashed pass names) — the same function under two pipelines has two feature rows;
* ``sim.*``: the shape the pipeline's affine passes leave of each loop nest (loops, body copies, the
  vector loop, its transfers), simulated by :mod:`irtoolkit.costmodel.mlirlowering` and checked against
  mlir-opt-22: what a lowering does to code size, stated once so the trees need not learn it;
* ``ng.<k>``: hashed uni- and bi-grams of the function's normalised token stream (the paper's
  language view of the text).
"""

from __future__ import annotations

import math
import re
import zlib

from irtools.ir.mlir import attrs as A
from irtools.ir.mlir.analysis import FEATURE_KEYS as _MLIR_KEYS
from irtools.ir.mlir.analysis import LOOP_OPS, feature_vector, loops, trip_counts

from .mlirlowering import SIM_KEYS, Nest, op_cost, simulate
from .mlirlowering import add as _sim_add

NGRAM_BUCKETS = 64
PASS_BUCKETS = 16

OPS = ("linalg.generic", "linalg.matmul", "linalg.batch_matmul", "linalg.conv_2d_nhwc_hwcf",
       "linalg.depthwise_conv_2d_nhwc_hwc", "linalg.fill", "linalg.transpose", "linalg.copy", "linalg.yield",
       "linalg.add", "linalg.mul", "linalg.matvec", "linalg.dot", "linalg.reduce", "linalg.map",
       "linalg.broadcast", "tensor.empty", "tensor.extract_slice", "tensor.insert_slice", "tensor.extract",
       "tensor.expand_shape", "tensor.collapse_shape", "tensor.pad", "memref.alloc", "memref.load",
       "memref.store", "memref.subview", "memref.dim", "memref.copy", "affine.for", "affine.load",
       "affine.store", "affine.apply", "affine.yield", "scf.for", "scf.if", "scf.yield", "scf.parallel",
       "arith.constant", "arith.addf", "arith.mulf", "arith.subf", "arith.divf", "arith.maximumf",
       "arith.minimumf", "arith.addi", "arith.muli", "arith.cmpi", "arith.cmpf", "arith.select",
       "arith.index_cast", "math.exp", "math.sqrt", "func.return", "func.call", "vector.transfer_read",
       "vector.transfer_write")

LA_KEYS = ("la.ops", "la.points", "la.points_max", "la.log_points", "la.red_points", "la.body_points",
           "la.body_ops", "la.dims_max", "la.par_iters", "la.red_iters", "la.nonident_maps", "la.dynamic_dims",
           "la.inner_dim", "la.operands", "la.operand_bytes", "la.inner_red", "la.inner_strided")
SIG_KEYS = ("sig.self_operand_ops", "sig.args", "sig.memref_args", "sig.tensor_args", "sig.dynamic_args", "sig.results", "sig.arg_bytes")
PIPE_KEYS = ("pipe.tile", "pipe.vector", "pipe.unroll", "pipe.unroll_full", "pipe.bufferize", "pipe.passes",
             "pipe.linalg_to_affine", "pipe.linalg_to_loops", "pipe.gpu", "pipe.gpu_tile") + tuple(
                 f"pipe.h{k}" for k in range(PASS_BUCKETS))
FEATURE_NAMES = ([f"mlir.{k}" for k in _MLIR_KEYS] + [f"op.{o}" for o in OPS] + ["op.other"]
                 + list(LA_KEYS) + list(SIG_KEYS) + list(PIPE_KEYS) + list(SIM_KEYS)
                 + [f"ng.{k}" for k in range(NGRAM_BUCKETS)])

_OPS = frozenset(OPS)


# ----------------------------------------------------------------------------- pipeline

_OPTS = re.compile(r"\{[^{}]*\}")


def pass_names(pipe: str) -> list[str]:
    """The pass and pass-manager names of a ``--pass-pipeline`` string, in order, options removed."""
    return [t.strip() for t in re.split(r"[(),]", _OPTS.sub("", pipe)) if t.strip()]


def _opt_int(pipe: str, key: str) -> int:
    m = re.search(rf"\b{key}\s*=\s*(\d+)", pipe)
    return int(m.group(1)) if m else 0


def is_gpu_pipeline(pipe: str) -> bool:
    """Whether ``pipe`` lowers to a GPU (NVVM or ROCDL kernels): its costs are a kernel's, not a CPU's."""
    return any(k in pipe for k in ("nvvm", "rocdl", "convert-parallel-loops-to-gpu", "gpu-kernel-outlining"))


def pipeline_features(pipe: str) -> dict[str, float]:
    names = [n for n in pass_names(pipe) if n not in ("builtin.module", "func.func")]
    f = dict.fromkeys(PIPE_KEYS, 0.0)
    f["pipe.tile"] = float(_opt_int(pipe, "tile-size")) if "affine-loop-tile" in names else 0.0
    f["pipe.vector"] = float(_opt_int(pipe, "virtual-vector-size")) if "affine-super-vectorize" in names else 0.0
    f["pipe.unroll"] = float(_opt_int(pipe, "unroll-factor") or 4) if "affine-loop-unroll" in names else 1.0
    f["pipe.unroll_full"] = float("unroll-full=1" in pipe or "unroll-full=true" in pipe)
    f["pipe.bufferize"] = float(any("bufferize" in n for n in names))
    f["pipe.passes"] = float(len(names))
    f["pipe.linalg_to_affine"] = float("convert-linalg-to-affine-loops" in names)
    f["pipe.linalg_to_loops"] = float("convert-linalg-to-loops" in names or "convert-linalg-to-parallel-loops" in names)
    f["pipe.gpu"] = float(is_gpu_pipeline(pipe))
    m = re.search(r"parallel-loop-tile-sizes\s*=\s*(\d+)", pipe)
    f["pipe.gpu_tile"] = float(m.group(1)) if m and "scf-parallel-loop-tiling" in names else 0.0
    for n in names:
        f[f"pipe.h{zlib.crc32(n.encode()) % PASS_BUCKETS}"] += 1
    return f


# ----------------------------------------------------------------------------- linalg iteration spaces

_MAP = re.compile(r"affine_map<\(([^)]*)\)(?:\[[^\]]*\])?\s*->\s*\(([^)]*)\)>")
_ALIAS = re.compile(r"^(#[\w.$-]+)\s*=\s*(affine_map<[^\n]*>)\s*$", re.M)
_ITER = re.compile(r"iterator_types\s*=\s*\[([^\]]*)\]")


def _shape(t) -> tuple | None:
    if isinstance(t, (A.RankedTensorType, A.MemRefType)):
        return tuple(t.shape)
    return None


def _bits(t) -> int:
    e = getattr(t, "element_type", None)
    return getattr(e, "width", 0) or (64 if isinstance(e, A.IndexType) else 0)


def _prod(xs) -> float:
    return float(math.prod(xs)) if xs and all(x is not None for x in xs) else 0.0


def _maps(op, aliases: dict[str, str]) -> list[tuple[list[str], list[str]]]:
    head = op.text.split("ins(", 1)[0]
    for name, m in aliases.items():
        head = re.sub(rf"{re.escape(name)}\b", m, head)
    return [([d.strip() for d in a.split(",") if d.strip()], [r.strip() for r in b.split(",") if r.strip()])
            for a, b in _MAP.findall(head)]


def iteration_space(op, aliases: dict[str, str] | None = None) -> tuple[list, int, int] | None:
    """(loop sizes, None where dynamic; parallel iterators; reduction iterators) of a linalg op, or
    None for an op whose space we cannot tell."""
    shapes = [_shape(v.type) for v in op.operands]
    shapes = [s for s in shapes if s is not None]
    name = op.name
    if not shapes:
        return None
    if name == "linalg.matmul" and len(shapes) >= 3:
        (m, k), (_, n) = shapes[0][:2], shapes[1][:2]
        return [m, n, k], 2, 1
    if name == "linalg.batch_matmul" and len(shapes) >= 3:
        (b, m, k), n = shapes[0][:3], shapes[1][2]
        return [b, m, n, k], 3, 1
    if name == "linalg.conv_2d_nhwc_hwcf" and len(shapes) >= 3:
        kh, kw, c, _ = shapes[1]
        return [*shapes[2], kh, kw, c], 4, 3
    if name == "linalg.depthwise_conv_2d_nhwc_hwc" and len(shapes) >= 3:
        kh, kw, _ = shapes[1]
        return [*shapes[2], kh, kw], 4, 2
    if name == "linalg.generic":
        maps = _maps(op, aliases or {})
        m = _ITER.search(op.text.split("ins(", 1)[0])
        iters = re.findall(r"parallel|reduction", m.group(1)) if m else []
        if not maps or not iters:
            return None
        dims = maps[0][0]
        size: dict[str, int | None] = {}
        for (_, res), s in zip(maps, shapes, strict=False):
            for j, r in enumerate(res):
                if r in dims and j < len(s) and size.get(r) is None:
                    size[r] = s[j]
        return [size.get(d) for d in dims], iters.count("parallel"), iters.count("reduction")
    # fill, copy, transpose, element-wise named ops: the output's elements, all parallel
    out = list(shapes[-1])
    return out, len(out), 0


def _trip_of(op) -> int | None:
    t = trip_counts(op)
    return None if any(x is None for x in t) else math.prod(t)


def _body_ops(op) -> int:
    return sum(1 for r in op.regions for b in r.blocks for o in b.operations if o.name != "linalg.yield")


# (innermost loop is a reduction, operands not contiguous along the innermost loop) of named ops whose
# indexing maps are implicit
_NAMED_INNER = {"linalg.matmul": (1, 2), "linalg.batch_matmul": (1, 2), "linalg.conv_2d_nhwc_hwcf": (1, 2),
                "linalg.depthwise_conv_2d_nhwc_hwc": (1, 3), "linalg.transpose": (0, 1), "linalg.matvec": (1, 2),
                "linalg.dot": (1, 1)}


def inner_access(op, aliases: dict[str, str] | None = None) -> tuple[int, int]:
    """(1 if the innermost loop of a linalg op is a reduction, number of operands not contiguous
    along it): what decides whether the innermost loop vectorises and how it strides."""
    if op.name in _NAMED_INNER:
        return _NAMED_INNER[op.name]
    maps = _maps(op, aliases or {})
    m = _ITER.search(op.text.split("ins(", 1)[0])
    iters = re.findall(r"parallel|reduction", m.group(1)) if m else []
    if not maps:
        return 0, 0
    inner = maps[0][0][-1] if maps[0][0] else None
    return int(bool(iters) and iters[-1] == "reduction"), sum(1 for _, r in maps if not r or r[-1] != inner)


_NAMED_BODY = {"linalg.matmul": 2, "linalg.batch_matmul": 2, "linalg.conv_2d_nhwc_hwcf": 2,
               "linalg.depthwise_conv_2d_nhwc_hwc": 2, "linalg.matvec": 2, "linalg.dot": 2, "linalg.add": 1,
               "linalg.mul": 1}


# ----------------------------------------------------------------------------- nests for the simulation

# loops (parallel or not) and, per operand, the loops each index position uses, of named ops whose
# indexing maps are implicit (loop order as convert-linalg-to-affine-loops emits it)
_NAMED_NEST = {
    "linalg.matmul": ([1, 1, 0], [[{0}, {2}], [{2}, {1}], [{0}, {1}]]),
    "linalg.batch_matmul": ([1, 1, 1, 0], [[{0}, {1}, {3}], [{0}, {3}, {2}], [{0}, {1}, {2}]]),
    "linalg.conv_2d_nhwc_hwcf": ([1, 1, 1, 1, 0, 0, 0],
                                 [[{0}, {1, 4}, {2, 5}, {6}], [{4}, {5}, {6}, {3}], [{0}, {1}, {2}, {3}]]),
    "linalg.depthwise_conv_2d_nhwc_hwc": ([1, 1, 1, 1, 0, 0],
                                          [[{0}, {1, 4}, {2, 5}, {3}], [{4}, {5}, {3}], [{0}, {1}, {2}, {3}]]),
    "linalg.matvec": ([1, 0], [[{0}, {1}], [{1}], [{0}]]),
    "linalg.dot": ([0], [[{0}], [{0}], []]),
}
_DIM = re.compile(r"\bd(\d+)\b")
_PERM = re.compile(r"permutation\s*=\s*\[([^\]]*)\]")


def linalg_nest(op, sizes: list, body: int, aliases: dict[str, str] | None = None) -> Nest:
    """The loop nest convert-linalg-to-affine-loops makes of a linalg op (:class:`Nest`)."""
    n = len(sizes)
    mem = len(op.operands) + 1
    cost = (sum(_folded_cost(o) for r in op.regions for b in r.blocks for o in b.operations
                if o.name != "linalg.yield") if op.regions else float(body))
    bits = max((_bits(v.type) for v in op.operands if _shape(v.type) is not None), default=32) or 32
    if op.name in _NAMED_NEST:
        par, acc = _NAMED_NEST[op.name]
        if len(par) == n:
            return Nest(list(sizes), [bool(p) for p in par], [list(a) for a in acc], body, mem, cost=cost, bits=bits)
    if op.name == "linalg.generic":
        maps = _maps(op, aliases or {})
        m = _ITER.search(op.text.split("ins(", 1)[0])
        iters = re.findall(r"parallel|reduction", m.group(1)) if m else []
        if maps and len(iters) == n:
            acc, strided = [], set()
            for _, res in maps:
                pos = [{int(d) for d in _DIM.findall(r)} for r in res]
                if res and "*" in res[-1]:
                    strided |= pos[-1]
                acc.append(pos)
            return Nest(list(sizes), [i == "parallel" for i in iters], acc, body, mem, strided=strided, cost=cost, bits=bits)
    if op.name == "linalg.transpose":
        pm = _PERM.search(op.text)
        perm = [int(x) for x in pm.group(1).split(",") if x.strip()] if pm else list(range(n))
        inv = {p: i for i, p in enumerate(perm)}
        return Nest(list(sizes), [True] * n, [[{inv.get(j, j)} for j in range(n)], [{i} for i in range(n)]], body, mem,
                    cost=cost, bits=bits)
    # fill, copy, element-wise named ops: identity maps on the output's loops
    return Nest(list(sizes), [True] * n, [[{i} for i in range(n)]] * max(len(op.operands), 1), body, mem, cost=cost, bits=bits)


# x op x: LLVM folds these to x (or to 0), so they cost nothing; x - x on floats stays (NaN, inf)
_IDEMPOTENT = frozenset(("arith.maximumf", "arith.minimumf", "arith.maxsi", "arith.minsi", "arith.maxui",
                         "arith.minui", "arith.andi", "arith.ori", "arith.xori", "arith.subi"))


_FMINMAX = frozenset(("arith.maximumf", "arith.minimumf"))


def _is_constant(v) -> bool:
    return not v.is_block_argument and v.owner.name == "arith.constant"


def _folded_cost(op) -> float:
    """:func:`op_cost` after the folds LLVM makes of an op's operands: ``x op x`` of an idempotent op is
    ``x`` (or 0), and a float minimum/maximum against a constant (not NaN) needs one NaN test, not the
    full IEEE sequence (3 machine instructions instead of 15, measured as OP_COST's are)."""
    ops = op.operands
    if op.name in _IDEMPOTENT and len(ops) == 2 and ops[0] == ops[1]:
        return 0.0
    if op.name in _FMINMAX and len(ops) == 2 and (_is_constant(ops[0]) or _is_constant(ops[1])):
        return 3.0
    return op_cost(op.name)


_CMP_TRUE = frozenset(("eq", "sle", "sge", "ule", "uge"))
_CMP = re.compile(r"arith\.cmpi\s+(\w+)")


def _folds(fn) -> tuple[set, set]:
    """(ops LLVM folds away, ops in a region a folded condition never runs): a small value numbering
    over the scalar ops.  ``x op x`` of an idempotent op is ``x``, ``x ^ x`` and ``x - x`` (integers)
    are 0, a comparison of a value with itself is a constant, and so is an ``scf.if`` on one.  Real
    MLIR test functions and generated scalar ones are full of these; llc leaves nothing of them."""
    rep: dict = {}
    folded, unreached = set(), set()

    def r(v):
        while v in rep and rep[v] is not v and not isinstance(rep[v], tuple):
            v = rep[v]
        return rep.get(v, v)

    for o in fn.walk():
        if o is fn or o in unreached:
            continue
        ops, n = o.operands, o.name
        same = len(ops) == 2 and r(ops[0]) == r(ops[1])
        if n in _IDEMPOTENT and same and o.results:
            folded.add(o)
            rep[o.results[0]] = ("zero",) if n in ("arith.xori", "arith.subi") else r(ops[0])
        elif n == "arith.cmpi" and same and o.results:
            m = _CMP.match(o.text.split("= ", 1)[-1])
            folded.add(o)
            rep[o.results[0]] = ("bool", bool(m and m.group(1) in _CMP_TRUE))
        elif n == "arith.select" and len(ops) == 3 and isinstance(r(ops[0]), tuple) and o.results:
            folded.add(o)
            rep[o.results[0]] = r(ops[1] if r(ops[0])[-1] else ops[2])
        elif n == "scf.if" and ops and isinstance(r(ops[0]), tuple) and r(ops[0])[0] == "bool":
            dead = o.regions[1] if r(ops[0])[1] else o.regions[0] if o.regions else None
            if dead is not None:
                unreached.update(c for b in dead.blocks for op in b.operations for c in op.walk())
    return folded, unreached


def _live_ops(fn, folded: set = frozenset(), unreached: set = frozenset()) -> set:
    """Ops whose work survives LLVM's dead-code elimination: every op with an effect (returns,
    branches, stores, calls, loops, structured ops...) and the pure (arith, math) ops that feed one.
    Test functions of real MLIR often compute what nothing uses: it costs no instruction.  A folded
    op (:func:`_folds`) needs none of its operands, and nothing in a region never run is live."""
    ops = [o for o in fn.walk() if o is not fn and o not in unreached]
    by_result = {}
    for o in ops:
        for v in o.results:
            by_result[v] = o
    live, work = set(), [o for o in ops if o.dialect not in ("arith", "math")]
    while work:
        o = work.pop()
        if o in live:
            continue
        live.add(o)
        if o in folded:
            continue
        for v in o.operands:
            d = by_result.get(v)
            if d is not None and d not in live:
                work.append(d)
        p = o.parent_op          # an op inside a region keeps its enclosing op's operands live too
        if p is not None and p is not fn and p not in live:
            work.append(p)
    return live


def _in_loop_or_linalg(op, fn) -> bool:
    p = op.parent_op
    while p is not None and p is not fn:
        if p.name in LOOP_OPS or p.dialect == "linalg":
            return True
        p = p.parent_op
    return False


_INDEX = re.compile(r"(?:affine|memref)\.(load|store)\b[^\[]*\[([^\]]*)\]")


def loop_nest(path: list, kids: list) -> Nest:
    """The :class:`Nest` of loops written in the input: ``path`` the loop ops outermost first, ``kids``
    the innermost body's ops."""
    ivs = []
    for o in path:
        b = o.regions[0].blocks[0] if o.regions and o.regions[0].blocks else None
        ivs.append(b.arguments[0].name if b is not None and b.arguments else None)
    sizes = [_trip_of(o) for o in path]
    parallel = ["iter_args" not in o.text.split("{", 1)[0] for o in path]
    acc, strided, mem, body, cost = [], set(), 0, 0, 0.0
    for k in kids:
        for c in k.walk():
            if c.name.endswith("yield"):
                continue
            mm = _INDEX.match(c.text.split("= ", 1)[-1]) if c.name in ("affine.load", "affine.store", "memref.load",
                                                                        "memref.store") else None
            if mm is None:
                body += 1
                cost += _folded_cost(c)
                continue
            mem += 1
            pos = [{d for d, iv in enumerate(ivs) if iv and re.search(re.escape(iv) + r"\b", p)}
                   for p in mm.group(2).split(",")]
            last = mm.group(2).split(",")[-1]
            if "*" in last:
                strided |= pos[-1] if pos else set()
            acc.append(pos)
            if mm.group(1) == "store":   # a store a loop does not index is carried by that loop
                used = set().union(*pos) if pos else set()
                for d in range(len(path)):
                    if d not in used:
                        parallel[d] = False
    return Nest(sizes, parallel, acc, max(body, 1), mem, affine=path[-1].name.startswith("affine."), strided=strided,
                cost=cost)


# ----------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"%[\w$.#-]+|@[\w$.-]+|\^[\w$.-]+|#[\w$.-]+|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|[a-z_][\w.]*|[^\s\w]")


def tokens(text: str) -> list[str]:
    """The normalised token stream: SSA values, symbols, blocks and numbers (but 0, 1) collapsed."""
    out = []
    for t in _TOKEN.findall(text):
        c = t[0]
        if c == "%":
            out.append("%v")
        elif c == "@":
            out.append("@f")
        elif c == "^":
            out.append("^bb")
        elif c.isdigit() or (c == "-" and len(t) > 1):
            out.append(t if t in ("0", "1") else "<c>")
        else:
            out.append(t)
    return out


def _ngrams(text: str) -> dict[str, float]:
    f = {f"ng.{k}": 0.0 for k in range(NGRAM_BUCKETS)}
    toks = tokens(text)
    for g in toks + [a + " " + b for a, b in zip(toks, toks[1:], strict=False)]:
        f[f"ng.{zlib.crc32(g.encode()) % NGRAM_BUCKETS}"] += 1
    return f


# ----------------------------------------------------------------------------- one function

def dialects(fn) -> set[str]:
    """The dialects of the ops in ``fn``'s body (the out-of-distribution check compares them with the
    training set's)."""
    return {o.dialect or o.name for o in fn.walk() if o is not fn}


def function_features(fn, pipe: str, *, aliases: dict[str, str] | None = None,
                      pipe_feats: dict[str, float] | None = None) -> dict[str, float]:
    """Feature dict (keys :data:`FEATURE_NAMES`) of one function-like op under pipeline ``pipe``."""
    f = {f"mlir.{k}": float(v) for k, v in feature_vector(fn).items()}
    f.update({f"op.{o}": 0.0 for o in OPS})
    f["op.other"] = 0.0
    f.update(dict.fromkeys(LA_KEYS, 0.0))
    pf = pipe_feats or pipeline_features(pipe)
    f.update(pf)
    tile, vec, unroll = pf["pipe.tile"], pf["pipe.vector"], pf["pipe.unroll"]
    sim = dict.fromkeys(SIM_KEYS, 0.0)
    for o in fn.walk():
        if o is fn:
            continue
        n = o.name
        f[f"op.{n}" if n in _OPS else "op.other"] += 1
        if o.dialect != "linalg" or n == "linalg.yield" or n == "linalg.index":
            continue
        space = iteration_space(o, aliases)
        if space is None:
            continue
        sizes, par, red = space
        f["la.ops"] += 1
        pts = _prod(sizes)
        body = _body_ops(o) if o.regions else _NAMED_BODY.get(n, 0)
        f["la.points"] += pts
        f["la.points_max"] = max(f["la.points_max"], pts)
        if pts and red:
            f["la.red_points"] += pts
        f["la.body_ops"] += body
        f["la.body_points"] += pts * max(body, 1)
        f["la.dims_max"] = max(f["la.dims_max"], len(sizes))
        f["la.par_iters"] += par
        f["la.red_iters"] += red
        f["la.dynamic_dims"] += sum(1 for s in sizes if s is None)
        f["la.nonident_maps"] += sum(1 for d, r in _maps(o, aliases or {}) if d != r)
        f["la.operands"] += len(o.operands)
        for v in o.operands:
            s = _shape(v.type)
            if s is not None:
                f["la.operand_bytes"] += _prod(s) * _bits(v.type) / 8
        f["la.inner_dim"] = max(f["la.inner_dim"], float((sizes[-1] if sizes else 1) or 0))
        ired, istr = inner_access(o, aliases)
        f["la.inner_red"] += ired
        f["la.inner_strided"] += istr
        _sim_add(sim, simulate(linalg_nest(o, sizes, body, aliases), tile, vec, unroll))
    # loops written in the input (affine.for, scf.for): the same simulation on each innermost loop's
    # nest (loop_nest marks scf nests as outside the affine passes)
    for lp in loops(fn):
        o = lp.op
        kids = [c for r in o.regions for b in r.blocks for c in b.operations]
        if any(c.name in LOOP_OPS for k in kids for c in k.walk()):
            continue
        path = [o]
        parent = o.parent_op
        while parent is not None and parent.name in LOOP_OPS:
            path.insert(0, parent)
            parent = parent.parent_op
        _sim_add(sim, simulate(loop_nest(path, kids), tile, vec, unroll))
    # ops outside any loop or structured op: a scalar function's whole cost
    folded, unreached = _folds(fn)
    live = _live_ops(fn, folded, unreached)
    sim["sim.flat_cost"] = sum(_folded_cost(o) for o in fn.walk()
                               if o.dialect in ("arith", "math") and not _in_loop_or_linalg(o, fn) and o in live
                               and o not in folded)
    sim["sim.dead_ops"] = float(sum(1 for o in fn.walk() if o.dialect in ("arith", "math") and o not in live))
    f.update(sim)
    f["la.log_points"] = math.log1p(f["la.points"])
    # signature
    f.update(dict.fromkeys(SIG_KEYS, 0.0))
    if fn.regions and fn.regions[0].blocks:
        for a in fn.regions[0].blocks[0].arguments:
            f["sig.args"] += 1
            t = a.type
            s = _shape(t)
            if isinstance(t, A.MemRefType):
                f["sig.memref_args"] += 1
            elif isinstance(t, A.RankedTensorType):
                f["sig.tensor_args"] += 1
            if s is not None:
                if any(d is None for d in s):
                    f["sig.dynamic_args"] += 1
                else:
                    f["sig.arg_bytes"] += _prod(s) * _bits(t) / 8
    # ``x op x``: the backend folds most of these (x - x, x ^ x, max(x, x)), so they cost nothing
    f["sig.self_operand_ops"] = float(len(_SELF_OP.findall(fn.text)))
    tt = fn.type_text or fn.text.split("{", 1)[0]
    f["sig.results"] = float(tt.count("->") and len(re.split(r",(?![^<]*>)", tt.split("->", 1)[1])))
    f.update(_ngrams(fn.text))
    return f


_SELF_OP = re.compile(r"=\s*arith\.\w+\s+(%[\w$.-]+),\s*\1\b")


def aliases_of(text: str) -> dict[str, str]:
    return dict(_ALIAS.findall(text))


def module_features(text: str, pipe: str, *, path: str | None = None) -> dict[str, dict[str, float]]:
    """Function name → features, for every function-like op of an MLIR module under ``pipe``."""
    import irtools

    from .features import _function_like

    mod = irtools.parse_mlir(text, path=path)
    al = aliases_of(text)
    pf = pipeline_features(pipe)
    out: dict[str, dict[str, float]] = {}
    for op in mod.walk():
        if _function_like(op):
            out[op.sym_name or f"<{op.name}#{len(out)}>"] = function_features(op, pipe, aliases=al, pipe_feats=pf)
    return out


def module_dialects(text: str, *, path: str | None = None) -> dict[str, set[str]]:
    """Function name → dialects of its ops (same functions and order as :func:`module_features`)."""
    import irtools

    from .features import _function_like

    mod = irtools.parse_mlir(text, path=path)
    return {op.sym_name or f"<{op.name}#{i}>": dialects(op)
            for i, op in enumerate(o for o in mod.walk() if _function_like(o))}
