"""A Python reference for the LLVM features that LLVM itself has no analysis for (tests only).

irtoolkit.costmodel.features computes every LLVM feature in C (csrc/llfeatures.c), the one production
definition.  What opt-22 can check is checked against opt-22 on the corpus
(tests/test_costmodel_llvm_oracle.py):
- ir.fp.* (51): ``print<func-properties>`` (detailed);
- ir.cfg.loops, ir.fp.TopLevelLoopCount, ir.fp.MaxLoopDepth: ``print<loops>``;
- x.n_loops_const_trip, x.max_trip: ``print<scalar-evolution>`` constant trip counts, where both
  the loop's exit test and SCEV see the same constant bound;
- lo.*: llc-22, which does the lowering they predict (tests/test_costmodel_lowering.py).
CHECKED_BY_LLVM and REFERENCE_ONLY below class every column, and a test keeps them complete.
Everything else is reference-only, written here a second time over irtools' Python object model and
analyses (irtools.analysis: CFG, dominators, loops) and compared row for row
(tests/test_costmodel_cfeatures.py):
- ir.op.*, ir.ty.*, ir.cfg.* (but loops), ir.fn.*: histograms and shape; LLVM prints no opcode or
  type histogram (its instcount statistics need an assertions build) and no dominator-tree depth;
- x.* (but the two above): the cost model's own static estimates (trip-count weights with a
  default of 16 for unknown bounds, machine operations, register pressure...): no LLVM analogue;
- cpu.*, gpu.*: read from attributes and NVPTX intrinsics, no analysis;
- ng.*, tok.*: hashed opcode n-grams and token bigrams, the language view: no analogue.
Definitions the C side fixes and this reference follows: an llvm.mem* length is the unsigned
integer of its type; token classes are ASCII; a row C leaves NaN (a reason bit) is not compared.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter

from irtoolkit.costmodel.features import CPU_FEATURES, EXTRA, GPU, NGRAM_BUCKETS, TOKEN_BUCKETS
from irtools.analysis.cfg import CFG
from irtools.analysis.dominators import DominatorTree
from irtools.analysis.features import feature_vector
from irtools.analysis.loops import LoopInfo
from irtools.ir import llvm as lt

# How each LLVM feature column is checked, by its name or the longest prefix that matches it: against
# LLVM itself, or (REFERENCE_ONLY) against this reference alone, with the reason.  The mlir.* columns
# are MLIR's (irtools.analysis.mlir), not LLVM features.  A test keeps both tables complete.
CHECKED_BY_LLVM = {
    "ir.fp.": "opt-22 print<func-properties> (detailed): test_func_properties_equal_opt",
    "ir.cfg.loops": "opt-22 print<loops>: test_loop_features_equal_opt_print_loops",
    "ir.cfg.max_loop_blocks": "opt-22 print<loops>: test_loop_features_equal_opt_print_loops",
    "ir.cfg.blocks_total": "opt-22 print<domtree>, with the unreachable blocks: test_dominator_tree_shape_equals_opt_print_domtree",
    "ir.cfg.unreachable_blocks": "opt-22 print<domtree>: test_dominator_tree_shape_equals_opt_print_domtree",
    "ir.cfg.domtree_depth": "opt-22 print<domtree>: test_dominator_tree_shape_equals_opt_print_domtree",
    "x.n_loops_const_trip": "opt-22 print<scalar-evolution>: test_trip_counts_agree_with_scalar_evolution",
    "x.max_trip": "opt-22 print<scalar-evolution>: test_trip_counts_agree_with_scalar_evolution",
    "lo.": "llc-22's x86-64 assembly, rule by rule and on clang-22 output: tests/test_costmodel_lowering.py",
}
REFERENCE_ONLY = {
    "ir.op.": "LLVM prints no opcode histogram (its instcount statistics need an assertions build)",
    "ir.ty.": "LLVM prints no histogram of result types",
    "ir.cfg.back_edges": "print<loops> names loops, not the CFG edges that close them (irreducible cycles too)",
    "ir.fn.": "argument counts and the instructions, memory operations and calls inside loops: no printer gives them per function",
    "x.": "the cost model's own static estimates (trip-count weights, machine operations, register pressure): no LLVM analogue",
    "cpu.": "read from function attributes (target-cpu, target-features), no analysis",
    "gpu.": "read from NVPTX intrinsics and launch-bound attributes, no analysis",
    "ng.": "hashed opcode n-grams, the language view: no analogue",
    "tok.": "hashed token bigrams, the language view: no analogue",
}


def how_checked(name: str) -> tuple[str, str] | None:
    """("llvm" or "reference", how) for an LLVM feature column, by its name or longest matching prefix."""
    best = None
    for kind, table in (("llvm", CHECKED_BY_LLVM), ("reference", REFERENCE_ONLY)):
        for key, how in table.items():
            if (name == key or (key.endswith(".") and name.startswith(key))) and (best is None or len(key) > best[0]):
                best = (len(key), kind, how)
    return None if best is None else best[1:]


DEFAULT_TRIP = 16.0          # assumed trip count of a loop whose bound is not a constant

_FP = frozenset({"fadd", "fsub", "fmul", "fdiv", "frem", "fneg", "fcmp"})
_INT = frozenset({"add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr", "and", "or", "xor",
                  "icmp"})
_CALLS = frozenset({"call", "invoke", "callbr"})
_TOKEN_RE = re.compile(r'%[-\w$.]+|%"[^"]*"|@[-\w$.]+|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|0x[0-9A-Fa-f]+|[a-z_][\w.]*'
                       r'|[<>\[\](){},=*]', re.ASCII)
_MAXNTID = re.compile(r'"nvvm\.maxntid"="(\d+)(?:,(\d+))?(?:,(\d+))?"|maxntid[xyz]?"?,?\s*i32\s+(\d+)', re.ASCII)
_BUCKET: dict[str, int] = {}


# ----------------------------------------------------------------------------- small helpers

def attribute_text(fn, groups: dict[int, str] | None = None) -> str:
    """The function's attributes as one string, attribute groups (``#N``) expanded."""
    groups = groups if groups is not None else fn.module.attribute_groups
    return " ".join(groups.get(int(a[1:]), "") if a.startswith("#") and a[1:].isdigit() else a
                    for a in fn.attributes)


def launch_threads(attrs: str) -> int | None:
    """Threads per block a kernel is launched with, from ``nvvm.maxntid`` (all dimensions multiplied)."""
    m = _MAXNTID.search(attrs)
    return math.prod(int(d) for d in m.groups() if d) if m else None


def _bucket(s: str, n: int) -> int:
    b = _BUCKET.get(s)
    if b is None:
        b = zlib.crc32(s.encode())
        if len(_BUCKET) < 200_000:
            _BUCKET[s] = b
    return b % n


def _bits(t) -> int:
    if isinstance(t, lt.IntType):
        return t.width
    if isinstance(t, lt.FloatType):
        return {"half": 16, "bfloat": 16, "float": 32, "double": 64, "fp128": 128, "x86_fp80": 80}.get(t.kind, 64)
    if isinstance(t, lt.PointerType):
        return 64
    if isinstance(t, lt.VectorType):
        return t.count * _bits(t.element)
    if isinstance(t, lt.ArrayType):
        return t.count * _bits(t.element)
    if isinstance(t, lt.StructType):
        return sum(_bits(e) for e in t.elements)
    return 0


def _const_int(v) -> int | None:
    if isinstance(v, lt.Constant) and v.kind == lt.ConstantKind.INT:
        try:
            return int(v.text)
        except ValueError:
            return None
    return None


def _add_const(v):
    """(x, k) when ``v`` is ``add x, k`` (or ``sub x, k`` / ``or disjoint x, k``)."""
    if not isinstance(v, lt.Instruction) or v.opcode not in ("add", "sub", "or"):
        return None
    ops = v.operands
    if len(ops) != 2:
        return None
    ka, kb = _const_int(ops[0]), _const_int(ops[1])
    if kb is not None and ka is None:
        return ops[0], (-kb if v.opcode == "sub" else kb)
    if ka is not None and kb is None and v.opcode != "sub":
        return ops[1], ka
    return None


def _upper_bound(v, depth: int = 0) -> int | None:
    """A constant upper bound of ``v``: a constant; ``min(x, y)`` (llvm.smin/umin) of values with one;
    an integer cast of one; ``x & k`` (k >= 0) of one.  These make TVM's parallel chunk ends
    (``min((task_id+1)*chunk, extent)``) and the vectoriser's ``n.vec = n & -VF`` of them."""
    k = _const_int(v)
    if k is not None or depth >= 4 or not isinstance(v, lt.Instruction):
        return k
    op = v.opcode
    if op in ("trunc", "zext", "sext"):
        return _upper_bound(v.operands[0], depth + 1)
    if op == "and":
        a, b = v.operands[:2]
        ka, kb = _const_int(a), _const_int(b)
        if (ka is None) == (kb is None):
            return None
        k, x = (kb, a) if ka is None else (ka, b)
        if k < 0:
            return None
        # k alone bounds it, but a mask (n & -4) is no useful bound: the other side must have one
        bx = _upper_bound(x, depth + 1)
        return None if bx is None else min(bx, k)
    if op == "call":
        name = _callee_name(v)
        args = v.arguments
        if not name.startswith(("llvm.smin.", "llvm.umin.")) or len(args) != 2:
            return None
        known = [b for b in (_upper_bound(args[0], depth + 1), _upper_bound(args[1], depth + 1)) if b is not None]
        return min(known) if known else None
    return None


def _two_trips(term, cmp, loop, index) -> bool:
    """``br (phi i1 [c, outside], [!c, inside])``: the first pass stays in the loop, the next leaves."""
    if not (isinstance(cmp, lt.Instruction) and cmp.opcode == "phi") or len(cmp.incoming) != 2:
        return False
    inside_at = []
    for val, frm in cmp.incoming:
        flag = _const_bool(val)
        if flag is None:
            return False
        inside = index[id(frm)] in loop.block_set
        dest = term.operands[2] if flag else term.operands[1]   # LLVM's order: cond, false, true
        stays = index[id(dest)] in loop.block_set
        if inside == stays:        # the entry value must stay, the back-edge value must leave
            return False
        inside_at.append(inside)
    return inside_at[0] != inside_at[1]     # one value enters the loop, the other comes round it


def _low_mask_bound(v) -> tuple[object, int] | None:
    """(x, 2**t) when ``v`` is ``x & M`` with M all ones from bit t up (``-8``, or ``0xFFFFFFF8`` of an
    i64 known below 2**32): ``(x & M) == 0`` is InstCombine's form of ``x < 2**t``."""
    if not (isinstance(v, lt.Instruction) and v.opcode == "and") or len(v.operands) != 2:
        return None
    a, b = v.operands
    m, x = (_const_int(b), a) if _const_int(b) is not None else (_const_int(a), b)
    if m is None or m == 0:
        return None
    if m < 0:
        low = ~m + 1                   # -8: ~(-8)+1 = 8
        return (x, low) if low > 1 and low & (low - 1) == 0 else None
    t = (m & -m).bit_length() - 1
    ones = m >> t
    return (x, 1 << t) if t >= 1 and ones & (ones + 1) == 0 else None


def _icmp_trips(cmp, loop, index, latch: bool) -> float | None:
    """Trip count from one ``icmp (iv + k), C`` with ``iv = phi [start], [iv + step]``; None when unknown."""
    if not isinstance(cmp, lt.Instruction) or cmp.opcode != "icmp":
        return None
    a, c = cmp.operands[:2]
    bound, var = _const_int(c), a
    if bound is None:
        bound, var = _const_int(a), c
    if bound is None:
        bound, var = _upper_bound(c), a
        if bound is None:
            bound, var = _upper_bound(a), c
    if bound is None:
        return None
    if bound == 0:
        lm = _low_mask_bound(var)
        if lm is not None:
            var, bound = lm
    off = 0
    if isinstance(var, lt.Instruction) and var.opcode in ("trunc", "zext", "sext"):
        var = var.operands[0]
    if not (isinstance(var, lt.Instruction) and var.opcode == "phi"):
        ac = _add_const(var)
        if ac is None:
            return None
        var, off = ac
        if not (isinstance(var, lt.Instruction) and var.opcode == "phi"):
            return None
    start, step = 0, 1
    for val, frm in var.incoming:
        if index[id(frm)] in loop.block_set:
            ac = _add_const(val)
            if ac is not None and ac[0] is var and ac[1] != 0:
                step = abs(ac[1])
        else:
            k = _const_int(val)
            if k is not None:
                start = k
    n = abs(bound - off - start) / step + (1 if latch else 0)
    return float(math.ceil(n)) if n >= 1 else None


def _conjuncts(cond, stays_on_true: bool) -> list:
    """The tests of a loop's exit condition each of which alone bounds the loop: both sides of
    ``a && b`` (``and i1``, ``select a, b, false``) when the loop stays while it holds, both sides of
    ``a || b`` (``or i1``, ``select a, true, b``) when the loop leaves once it holds; else the condition."""
    if isinstance(cond, lt.Instruction):
        ops = cond.operands
        if cond.opcode == "select" and len(ops) == 3:
            if stays_on_true and _const_bool(ops[2]) is False:
                return [ops[0], ops[1]]
            if not stays_on_true and _const_bool(ops[1]) is True:
                return [ops[0], ops[2]]
        if len(ops) == 2 and ((cond.opcode == "and" and stays_on_true) or (cond.opcode == "or" and not stays_on_true)) \
                and _is_i1(cond):
            return [ops[0], ops[1]]
    return [cond]


def _const_bool(v) -> bool | None:
    if isinstance(v, lt.Constant) and v.kind == lt.ConstantKind.INT and v.text in ("true", "false"):
        return v.text == "true"
    return None


def _is_i1(v) -> bool:
    t = v.type
    return isinstance(t, lt.IntType) and t.width == 1


def _trip_count(loop, blocks, index) -> float | None:
    """Constant trip count from an exiting ``br (icmp (iv + k), C)`` and ``iv = phi [start], [iv + step]``.

    Rotated loops exit in the latch, -Os loops in the header; both are read.  A latch test runs after
    the body, so it sees one more iteration than the distance.  A bound that is no constant counts as
    its constant upper bound (``_upper_bound``) and the induction variable may be seen through an
    integer cast: TVM's parallel loop bodies run ``[task_id*chunk, min((task_id+1)*chunk, extent))``,
    the whole extent for one task.  An exit test that is a conjunction (``while (v != 1 && steps < 8)``)
    counts as the smallest bound of its sides (an upper bound: the other side may leave earlier).
    """
    latches = set(loop.latches)
    for b in loop.exiting_blocks:
        term = blocks[b].terminator
        if term is None or term.opcode != "br":
            continue
        ops = term.operands
        cmp = ops[0] if len(ops) == 3 else None
        if cmp is None:
            continue
        if _two_trips(term, cmp, loop, index):
            return 2.0
        stays = index[id(ops[2])] in loop.block_set          # LLVM's order: cond, false, true
        counts = [n for t in _conjuncts(cmp, stays) if (n := _icmp_trips(t, loop, index, b in latches)) is not None]
        if counts:
            return min(counts)
    return None


def _native_vector_bits(attrs: str) -> int:
    """The widest vector register the function's target features give (x86: SSE2 is the floor)."""
    if "+avx512f" in attrs:
        return 512
    return 256 if "+avx" in attrs else 128


def _machine_ops(inst, op: str, t, vec: bool, native: int, mem: tuple[bool, int] | None) -> int:
    """Machine operations one IR instruction legalises into, roughly: a vector op splits into
    ceil(bits / native width) ops (``<64 x i32>`` on SSE2 is 16), a compare by its operands' width,
    and ``llvm.memcpy``/``memmove``/``memset`` of n bytes moves n / (native width) registers (twice:
    load and store, once for memset); ``mem`` is :func:`_mem_intrinsic`'s reading of the call."""
    k = 1
    if vec:
        bits = _bits(t)
        if op in ("icmp", "fcmp"):
            bits = _bits(getattr(inst.operands[0], "type", t))
        k = max(1, -(-bits // native))
    elif mem is not None:
        is_set, n = mem
        k = 1 + -(-max(n, 0) // (native // 8)) * (1 if is_set else 2)
    return k


def _callee_name(call) -> str:
    """The name of the function a call instruction calls directly; "" for an indirect call."""
    callee = call.callee
    return callee.name if isinstance(callee, lt.Function) else ""


def _mem_intrinsic(name: str, call) -> tuple[bool, int] | None:
    """(memset?, bytes) of a call to ``llvm.memset``/``memcpy``/``memmove`` (``name``, the callee's),
    256 bytes when the length is no constant; None for any other call."""
    if not name.startswith(("llvm.memset", "llvm.memcpy", "llvm.memmove")):
        return None
    args = call.arguments
    n = _const_int(args[2]) if len(args) > 2 else None
    if n is not None and n < 0:   # LLVM reads the length unsigned
        n += 1 << args[2].type.width
    return name.startswith("llvm.memset"), 256 if n is None else n


def _normalised_tokens(text: str) -> list[str]:
    out = []
    for t in _TOKEN_RE.findall(text):
        c = t[0]
        if c == "%":
            out.append("%v")
        elif c == "@":
            out.append(t if t.startswith("@llvm.") else "@f")
        elif c.isdigit() or c == "-":
            out.append(t if t in ("0", "1", "-1") else "<c>")
        else:
            out.append(t)
    return out


# ----------------------------------------------------------------------------- one LLVM function

def function_features(fn, *, groups: dict[int, str] | None = None,
                      shared: dict[int, int] | None = None) -> dict[str, float]:
    """The features of one defined function of a parsed module, but ir.fp.* (opt-22 checks those).

    ``groups`` (attribute groups) and ``shared`` (bytes of each ``addrspace(3)`` global) are per module.
    """
    f: dict[str, float] = {f"ir.{k}": v for k, v in feature_vector(fn, uses=0).items() if not k.startswith("fp.")}
    x = dict.fromkeys(EXTRA, 0.0)
    g = dict.fromkeys(GPU, 0.0)
    blocks = fn.blocks
    index = {id(b): i for i, b in enumerate(blocks)}
    cfg = CFG.from_function(fn)
    li = LoopInfo(cfg, DominatorTree(cfg))

    # trip counts weight every block by the loops around it
    weight = [1.0] * len(blocks)
    for loop in li.loops():
        tc = _trip_count(loop, blocks, index)
        if tc is None:
            x["n_loops_unknown_trip"] += 1
            tc = DEFAULT_TRIP
        else:
            x["n_loops_const_trip"] += 1
            x["max_trip"] = max(x["max_trip"], tc)
        for b in loop.blocks:
            weight[b] *= tc
    x["log_trip_product_max"] = math.log1p(max(weight, default=1.0))

    # one pass over the instructions, in block order, numbering them for the liveness sweep
    pos: dict[int, int] = {}
    block_end = [0] * len(blocks)
    ops_seq: list[str] = []
    est = {"all": 0.0, "mem": 0.0, "fp": 0.0, "vec": 0.0, "machine": 0.0}
    memop_bytes = 0.0
    attrs = attribute_text(fn, groups)
    native = _native_vector_bits(attrs)
    callsites: list[tuple[str, float]] = []
    chain = 0
    p = 0
    for bi, block in enumerate(blocks):
        depth = li.loop_depth(bi)
        w = weight[bi]
        insts = block.instructions
        x["max_block_insts"] = max(x["max_block_insts"], len(insts))
        nphi = 0
        prev_op = None
        for inst in insts:
            pos[id(inst)] = p
            p += 1
            op = inst.opcode
            ops_seq.append(op)
            t = inst.type
            vec = isinstance(t, lt.VectorType)
            if op == "store":
                st = getattr(inst.operands[0], "type", None)
                vec = isinstance(st, lt.VectorType)
                if vec:
                    t = st
            if vec:
                x["max_vector_width"] = max(x["max_vector_width"], t.count)
                x["max_vector_bits"] = max(x["max_vector_bits"], _bits(t))
            name = _callee_name(inst) if op in _CALLS else ""
            mem = _mem_intrinsic(name, inst) if name else None
            est["all"] += w
            est["machine"] += w * _machine_ops(inst, op, t, vec, native, mem)
            if depth:
                x["insts_depth1" if depth == 1 else "insts_depth2" if depth == 2 else "insts_depth3plus"] += 1
            if op in _FP:
                x["fp_ops"] += 1
                est["fp"] += w
            elif op in _INT:
                x["int_ops"] += 1
                if isinstance(t, lt.IntType) and t.width == 64:
                    g["i64_ops"] += 1
            if vec:
                est["vec"] += w
            # straight-line runs of one opcode are what unrolling leaves behind
            chain = chain + 1 if op == prev_op and op not in ("phi", "getelementptr") else 0
            x["unrolled_chain"] = max(x["unrolled_chain"], chain)
            prev_op = op
            if op == "phi":
                nphi += 1
            elif op == "load" or op == "store":
                est["mem"] += w
                load = op == "load"
                x["vector_loads" if load else "vector_stores"] += vec
                if depth:
                    x["loads_in_loops" if load else "stores_in_loops"] += 1
                ptr = inst.operands[0 if load else 1]
                pt = getattr(ptr, "type", None)
                space = pt.addrspace if isinstance(pt, lt.PointerType) else 0
                if space == 3 or _is_shared(ptr, shared):
                    g["shared_accesses"] += 1
                elif space in (0, 1):
                    g["global_loads" if load else "global_stores"] += 1
            elif op == "getelementptr":
                idx = inst.operands[1:]
                if len(idx) >= 2:
                    x["gep_multi_index"] += 1
                if all(isinstance(i, lt.Constant) for i in idx):
                    x["gep_const_only"] += 1
            elif op in _CALLS:
                if mem is not None:
                    x["n_mem_intrinsics"] += 1
                    memop_bytes += w * mem[1]
                elif name.startswith("llvm.nvvm.read.ptx.sreg."):
                    g["special_reg_reads"] += 1
                elif name.startswith(("llvm.nvvm.barrier", "llvm.nvvm.bar.")):
                    g["barriers"] += 1
                elif name.startswith(("llvm.fma.", "llvm.fmuladd.")):
                    g["fma_ops"] += 1
                    est["fp"] += w
                elif name and not name.startswith("llvm."):
                    callsites.append((name, w))
            if op not in ("phi", "br", "call", "switch"):
                for o in inst.operands:
                    if isinstance(o, lt.Constant) and o.kind == lt.ConstantKind.INT:
                        x["const_int_operands"] += 1
        block_end[bi] = p - 1
        x["max_phi_per_block"] = max(x["max_phi_per_block"], nphi)
    x["log_est_dyn_insts"] = x["log_est_dyn_insts_incl"] = math.log1p(est["all"])
    x["log_est_dyn_mem"] = math.log1p(est["mem"])
    x["log_est_dyn_fp"] = math.log1p(est["fp"])
    x["log_est_dyn_vector"] = math.log1p(est["vec"])
    x["log_memop_bytes"] = math.log1p(memop_bytes)
    x["log_est_machine_ops"] = math.log1p(est["machine"])
    _pressure(fn, blocks, index, li, pos, block_end, x)

    for c in CPU_FEATURES:
        f[f"cpu.{c}"] = 1.0 if f"+{c}" in attrs else 0.0
    m = re.search(r'"prefer-vector-width"="(\d+)"', attrs)
    f["cpu.prefer_vector_width"] = float(m.group(1)) if m else 0.0
    if fn.calling_convention == "ptx_kernel" or '"nvvm.kernel"' in attrs:
        g["is_kernel"] = 1.0
    threads = launch_threads(attrs)
    if threads:
        g["max_threads"] = float(threads) if threads < 2**63 else math.nan
    if shared:
        g["shared_bytes"] = float(sum(shared.values()))

    ngram: Counter = Counter()
    prev2, prev = "^", "^"
    for op in ops_seq:
        ngram[_bucket(f"{prev}>{op}", NGRAM_BUCKETS)] += 1
        ngram[_bucket(f"{prev2}>{prev}>{op}", NGRAM_BUCKETS)] += 1
        prev2, prev = prev, op
    toks: Counter = Counter()
    nt = _normalised_tokens(fn.text)
    for a, b in zip(nt, nt[1:], strict=False):
        toks[_bucket(a + " " + b, TOKEN_BUCKETS)] += 1

    f.update({f"x.{k}": float(v) for k, v in x.items()})
    f.update({f"gpu.{k}": float(v) for k, v in g.items()})
    f.update({f"ng.{i}": 0.0 for i in range(NGRAM_BUCKETS)})
    f.update({f"ng.{i}": float(c) for i, c in ngram.items()})
    f.update({f"tok.{i}": 0.0 for i in range(TOKEN_BUCKETS)})
    f.update({f"tok.{i}": float(c) for i, c in toks.items()})
    f["_callsites"] = callsites          # popped by module_features
    return f


def _is_shared(ptr, shared) -> bool:
    if not shared:
        return False
    base = ptr
    for _ in range(8):
        if isinstance(base, lt.GlobalVariable):
            return id(base) in shared
        if isinstance(base, lt.Instruction | lt.Constant) and base.opcode in ("getelementptr", "addrspacecast",
                                                                             "bitcast"):
            base = base.operands[0]
            continue
        return False
    return False


def _pressure(fn, blocks, index, li, pos, block_end, x) -> None:
    """Most values live at once, over a linear order of the instructions.

    A value lives from its definition to its last use; a use inside a loop that does not contain the
    definition keeps the value live to the end of that loop (it is needed on every iteration), and a
    phi's use sits at the end of the incoming block.  Registers count 32-bit units of the type.
    """
    loop_last: dict[int, int] = {}
    for loop in li.loops():
        loop_last[id(loop)] = max(block_end[b] for b in loop.blocks)
    events: list[tuple[int, int, int]] = []
    nvals = wide = 0
    vals = [(a, -1) for a in fn.arguments]
    for b in blocks:
        for inst in b.instructions:
            if not isinstance(inst.type, lt.VoidType):
                vals.append((inst, pos[id(inst)]))
    for v, start in vals:
        users = v.users
        if not users:
            continue
        end = start
        def_block = index[id(v.block)] if isinstance(v, lt.Instruction) else -1
        for u in users:
            up = pos.get(id(u))
            if up is None:
                continue            # a use in another function (constant expressions are shared)
            if u.opcode == "phi":
                for val, frm in u.incoming:
                    if val is v:
                        end = max(end, block_end[index[id(frm)]])
                continue
            end = max(end, up)
            ub = index[id(u.block)]
            loop = li.loop_for(ub)
            while loop is not None and def_block not in loop.block_set:
                end = max(end, loop_last[id(loop)])
                loop = loop.parent
        regs = max(1, -(-_bits(v.type) // 32))
        nvals += 1
        wide += regs > 2
        events.append((max(start, 0), 1, regs))
        events.append((end + 1, -1, -regs))
    events.sort()
    live = regs_live = best = best_regs = 0
    area = 0.0
    last = 0
    for t, d, r in events:
        area += live * (t - last)
        last = t
        live += d
        regs_live += r
        best = max(best, live)
        best_regs = max(best_regs, regs_live)
    n = max(len(pos), 1)
    x["max_live"] = float(best)
    x["max_live_regs"] = float(best_regs)
    x["mean_live"] = area / n
    x["values"] = float(nvals)
    x["wide_values"] = float(wide)


# ----------------------------------------------------------------------------- modules

def _shared_globals(mod) -> dict[int, int]:
    """Bytes of each addrspace(3) variable, by identity (unnamed ones are all named "")."""
    return {id(gv): _bits(gv.value_type) // 8 for gv in mod.globals if gv.addrspace == 3}


def llvm_module_features(mod) -> list[tuple[str, dict[str, float]]]:
    """(name, features) of every function a parsed LLVM module defines, in module order."""
    groups = mod.attribute_groups
    shared = _shared_globals(mod)
    defined = {fn.name for fn in mod.functions if not fn.is_declaration}
    out, calls = [], []
    for fn in mod.functions:
        if fn.is_declaration:
            continue
        f = function_features(fn, groups=groups, shared=shared)
        calls.append(f.pop("_callsites"))
        out.append((fn.name, f))
    est = {name: f["x.log_est_dyn_insts"] for name, f in out}
    # calls to functions of the module: their estimated work joins the caller's, one level deep
    # so that recursion cannot loop
    for (name, f), sites in zip(out, calls, strict=True):
        extra, ndef = 0.0, 0
        for callee, w in sites:
            if callee in defined and callee != name:
                ndef += 1
                extra += w * math.expm1(est[callee])
        f["x.n_calls_defined"] = float(ndef)
        f["x.log_est_dyn_insts_incl"] = math.log1p(math.expm1(f["x.log_est_dyn_insts"]) + extra)
    return out
