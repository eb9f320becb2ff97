"""Features of each function of a module, read by the project's own parsers (no LLVM needed).

LLVM IR goes through ``irtools.parse_llvm``; every defined function gets
- ``ir.*``: :func:`irtools.analysis.features.feature_vector` (LLVM's func-properties, opcode and
  result-type histograms, CFG and loop shape);
- ``x.*``: what a cost needs beyond those counts, from the same model: constant trip counts of the
  natural loops of :mod:`irtools.analysis.loops` and a static estimate of instructions executed
  (block size × trip counts of the enclosing loops, calls to functions of the module added one level
  deep), the same estimate in machine operations (vector ops split to the target's native width,
  memset/memcpy priced per register moved), vector widths, memory accesses in loops, memset/memcpy
  lengths, and register pressure (the most values live at once, in values and in 32-bit registers);
- ``cpu.*`` from the function's target attributes, ``gpu.*`` for NVPTX kernels (shared-memory
  bytes, thread-index reads, barriers, launch bounds);
- a language view: hashed opcode n-grams and hashed bigrams of the normalised tokens of the function's
  own text span (as learned MLIR cost models read IR as text), with a stable hash (crc32).

The same numbers come from C for LLVM IR text (``csrc/llfeatures.c``, straight from the parser's tables,
no Python object per function): :func:`feature_matrix` and :func:`featurize` use it, and recompute in
Python the rare rows it flags inexact (calls LLVM's reader would upgrade, constant expressions it cannot
fold for certain...).  :func:`function_features` / :func:`llvm_module_features` stay the reference;
tests/test_costmodel_cfeatures.py holds the two equal, row for row.

MLIR goes through ``irtools.parse_mlir``; each ``func.func``/``llvm.func`` gets
:func:`irtools.ir.mlir.analysis.feature_vector` as ``mlir.*`` and nothing else: a model trained on
LLVM IR then sees its LLVM features missing, which its out-of-distribution check reports.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from irtools.analysis.cfg import CFG
from irtools.analysis.dominators import DominatorTree
from irtools.analysis.features import FEATURE_VECTOR_KEYS, feature_vector
from irtools.analysis.features import function_use_counts as _use_counts
from irtools.analysis.loops import LoopInfo
from irtools.errors import IrtoolsError
from irtools.ir import llvm as lt
from irtools.ir.mlir.analysis import FEATURE_KEYS as MLIR_KEYS

__all__ = ["FEATURE_NAMES", "feature_matrix", "featurize", "function_features", "module_features", "source_digest",
           "to_matrix"]

CPU_FEATURES = ("sse4.2", "avx", "avx2", "fma", "avx512f", "bmi2")
NGRAM_BUCKETS = 64
TOKEN_BUCKETS = 64
DEFAULT_TRIP = 16.0          # assumed trip count of a loop whose bound is not a constant

EXTRA = ("n_loops_const_trip", "n_loops_unknown_trip", "max_trip", "log_trip_product_max", "insts_depth1",
         "insts_depth2", "insts_depth3plus", "log_est_dyn_insts", "log_est_dyn_mem", "log_est_dyn_fp",
         "log_est_dyn_vector", "log_est_dyn_insts_incl", "n_calls_defined", "n_mem_intrinsics", "log_memop_bytes",
         "max_vector_width", "max_vector_bits", "vector_values", "vector_loads", "vector_stores", "loads_in_loops",
         "stores_in_loops", "gep_const_only", "gep_multi_index", "const_int_operands", "fp_ops", "int_ops",
         "max_live", "max_live_regs", "mean_live", "values", "wide_values",
         "max_phi_per_block", "max_block_insts", "unrolled_chain", "log_est_machine_ops")
GPU = ("is_kernel", "shared_bytes", "shared_accesses", "global_loads", "global_stores", "special_reg_reads",
       "barriers", "max_threads", "fma_ops", "i64_ops")

FEATURE_NAMES: list[str] = (
    [f"ir.{k}" for k in FEATURE_VECTOR_KEYS] + [f"x.{k}" for k in EXTRA]
    + [f"cpu.{c}" for c in CPU_FEATURES] + ["cpu.prefer_vector_width"] + [f"gpu.{k}" for k in GPU]
    + [f"ng.{i}" for i in range(NGRAM_BUCKETS)] + [f"tok.{i}" for i in range(TOKEN_BUCKETS)]
    + [f"mlir.{k}" for k in MLIR_KEYS])

_FP = frozenset({"fadd", "fsub", "fmul", "fdiv", "frem", "fneg", "fcmp"})
_INT = frozenset({"add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr", "and", "or", "xor",
                  "icmp"})
_CALLS = frozenset({"call", "invoke", "callbr"})
_TOKEN_RE = re.compile(r'%[-\w$.]+|%"[^"]*"|@[-\w$.]+|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|0x[0-9A-Fa-f]+|[a-z_][\w.]*'
                       r'|[<>\[\](){},=*]')
_MAXNTID = re.compile(r'"nvvm\.maxntid"="(\d+)(?:,(\d+))?(?:,(\d+))?"|maxntid[xyz]?"?,?\s*i32\s+(\d+)')
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
    return int(np.prod([int(d) for d in m.groups() if d])) if m else None


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

def function_features(fn, *, uses: int | None = None, groups: dict[int, str] | None = None,
                      shared: dict[str, int] | None = None) -> dict[str, float]:
    """The features of one defined function of a parsed module (see the module docstring).

    ``uses`` (the function's use count), ``groups`` (attribute groups) and ``shared`` (bytes of each
    ``addrspace(3)`` global) are per module: pass them when featurising many functions of one module.
    """
    f: dict[str, float] = {f"ir.{k}": v for k, v in feature_vector(fn, uses=uses).items()}
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
        g["max_threads"] = float(threads)
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
            return base.name in shared
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

def _shared_globals(mod) -> dict[str, int]:
    out = {}
    for gv in mod.globals:
        if gv.addrspace == 3:
            out[gv.name] = _bits(gv.value_type) // 8
    return out


def llvm_module_features(mod) -> dict[str, dict[str, float]]:
    """Function name → features, for every function a parsed LLVM module defines."""
    uses = _use_counts(mod)
    groups = mod.attribute_groups
    shared = _shared_globals(mod)
    out: dict[str, dict[str, float]] = {}
    calls: dict[str, list] = {}
    for fn in mod.functions:
        if fn.is_declaration:
            continue
        f = function_features(fn, uses=uses.get(fn.name, 0), groups=groups, shared=shared)
        calls[fn.name] = f.pop("_callsites")
        out[fn.name] = f
    # calls to functions of the same module: their estimated work joins the caller's, one level deep
    # so that recursion cannot loop
    for name, sites in calls.items():
        extra, ndef = 0.0, 0
        for callee, w in sites:
            if callee in out and callee != name:
                ndef += 1
                extra += w * math.expm1(out[callee]["x.log_est_dyn_insts"])
        f = out[name]
        f["x.n_calls_defined"] = float(ndef)
        f["x.log_est_dyn_insts_incl"] = math.log1p(math.expm1(f["x.log_est_dyn_insts"]) + extra)
    return out


_MLIR_FUNCTIONS = ("func.func", "llvm.func", "gpu.func")


def _has_body(op) -> bool:
    return bool(op.regions) and any(r.blocks for r in op.regions)


def _function_like(op) -> bool:
    """A symbol with a body of its own: func.func and llvm.func, but also hw.module, firrtl.module,
    spirv.func, handshake.func...; not a container of such symbols (builtin.module, gpu.module)."""
    if op.name in _MLIR_FUNCTIONS:
        return _has_body(op)
    if op.sym_name is None or not _has_body(op):
        return False
    return not any(o.sym_name is not None and _has_body(o)
                   for r in op.regions for b in r.blocks for o in b.operations)


def mlir_module_features(mod) -> dict[str, dict[str, float]]:
    """Function name → ``mlir.*`` features, for each function-like op of a parsed MLIR module; a module
    with ops but none function-like (a test file of top-level ops) is one unit named ``<module>``."""
    from irtools.ir.mlir.analysis import feature_vector as mlir_vector

    out: dict[str, dict[str, float]] = {}
    for op in mod.walk():
        if _function_like(op):
            name = op.sym_name or f"<{op.name}#{len(out)}>"
            out[name] = {f"mlir.{k}": float(v) for k, v in mlir_vector(op).items()}
    if not out and any(o is not mod for o in mod.walk()):
        out["<module>"] = {f"mlir.{k}": float(v) for k, v in mlir_vector(mod).items()}
    return out


_LLVM_HINT = re.compile(r"^\s*(define|declare|target\s+(datalayout|triple)|source_filename|attributes\s+#)", re.M)
_MLIR_HINT = re.compile(r"^\s*(module\b|func\.func|llvm\.func|gpu\.module|\"[\w.]+\"\s*\(|#\w+\s*=\s*affine_map)",
                        re.M)


def input_kind(text: str, path: str | None = None) -> str:
    """``llvm`` or ``mlir``: by the file suffix, else by the first top-level keyword in the text."""
    if path:
        suffix = Path(path).suffix
        if suffix == ".ll":
            return "llvm"
        if suffix == ".mlir":
            return "mlir"
    a = _LLVM_HINT.search(text)
    # only an MLIR keyword before the first LLVM one counts: a match starting before a.start() also
    # ends there (a.start() begins a line whose first word is an LLVM keyword), so look no further
    b = _MLIR_HINT.search(text, 0, a.start() if a else len(text))
    if b and (not a or b.start() < a.start()):
        return "mlir"
    return "llvm"


def read_source(ir) -> tuple[str | None, object]:
    """(path or None, text or parsed module) for IR text, a path, bytes or a parsed module."""
    if isinstance(ir, lt.Module):
        return None, ir
    if hasattr(ir, "walk") and hasattr(ir, "regions"):
        return None, ir
    if isinstance(ir, os.PathLike) or (isinstance(ir, str) and "\n" not in ir and len(ir) < 4096
                                       and Path(ir).suffix in (".ll", ".mlir", ".bc")):
        p = Path(ir)
        if not p.is_file():
            raise IrtoolsError(f"{p}: no such file")
        try:
            return str(p), p.read_text()
        except UnicodeDecodeError:
            raise IrtoolsError(f"{p}: not IR text (LLVM bitcode? run llvm-dis-22 first)") from None
    if isinstance(ir, bytes):
        return None, ir.decode("utf-8", errors="replace")
    if isinstance(ir, str):
        return None, ir
    raise IrtoolsError(f"cannot read IR from a {type(ir).__name__}: give text, a path or a parsed module")


def featurize(ir, *, path: str | None = None) -> tuple[str, dict[str, dict[str, float]]]:
    """(``llvm``/``mlir``, function name → features) for IR text, a path or a parsed module.

    LLVM IR goes through the C featuriser (the rows it cannot reproduce exactly through
    :func:`function_features`); :func:`llvm_module_features` is the pure-Python reference.
    Text that does not parse raises :class:`irtools.errors.ParseError` with ``file:line:col``.
    """
    import irtools

    p, src = read_source(ir)
    path = path or p
    if isinstance(src, lt.Module) or (isinstance(src, str) and input_kind(src, path) == "llvm"):
        res = _c_llvm_rows(src, path)
        if res is not None:
            return "llvm", _rows_to_dicts(*res)
        if isinstance(src, str):
            src = irtools.parse_llvm(src, path=path)
        return "llvm", llvm_module_features(src)
    if not isinstance(src, str):
        return "mlir", mlir_module_features(src)
    return "mlir", mlir_module_features(irtools.parse_mlir(src, path=path))


def module_features(ir, *, path: str | None = None) -> dict[str, dict[str, float]]:
    """Function name → feature dict, for every function defined in a module (text, path or parsed)."""
    return featurize(ir, path=path)[1]


def feature_matrix(ir, names: list[str] | None = None, *,
                   path: str | None = None) -> tuple[str, list[str], np.ndarray]:
    """(``llvm``/``mlir``, names of the defined functions in module order, feature matrix).

    The matrix has one row per function and the columns of ``names`` (default :data:`FEATURE_NAMES`);
    a feature a row lacks is NaN: the matrix ``to_matrix`` gives for :func:`featurize`'s dicts.
    LLVM IR is featurised in C (``csrc/llfeatures.c``) straight from the parser's tables; the rows it
    flags inexact are recomputed here by :func:`function_features`, the reference.
    """
    names = FEATURE_NAMES if names is None else names
    p, src = read_source(ir)
    path = path or p
    if isinstance(src, lt.Module) or (isinstance(src, str) and input_kind(src, path) == "llvm"):
        res = _c_llvm_matrix(src, path, names)
        if res is not None:
            return "llvm", res[0], res[1]
    kind, feats = featurize(src, path=path)
    return kind, list(feats), to_matrix(list(feats.values()), names)


def _c_source(src) -> bytes | None:
    """The bytes the C featuriser reads for LLVM IR text or a parsed module; None for a module whose
    views were used."""
    if isinstance(src, lt.Module):
        # the C side reads the source text: a module whose views were touched may have been edited
        # (renamed values, reordered lists), which only the object model knows
        d = src.__dict__
        if d.get("_vnames") or d.get("_vals_") is not None or d.get("_varr") is not None or "functions" in d:
            return None
        return src._src
    return src.encode("utf-8", "surrogateescape")


def _c_llvm_matrix(src, path: str | None, names: list[str]) -> tuple[list[str], np.ndarray] | None:
    """feature_matrix's (function names, X) from the C featuriser, or None as for _c_llvm_rows.

    The common case (every row exact, columns as FEATURE_NAMES lays them out) costs one llf_run,
    one summary call and one copy straight into the returned matrix: the per-module Python glue was
    as much as a fifth of the whole."""
    data = _c_source(src)
    if data is None:
        return None
    if _C is None:
        _c_lib()
    sel = _selection(names)
    lib, ffi, _nlen, st = _C
    r = lib.llf_run(data, len(data))
    if r == ffi.NULL:
        raise MemoryError("llfeatures: out of memory")
    try:
        lib.llf_summary(r, st)
        if not st[0]:
            return None
        n = st[1]
        if n and not st[2] and isinstance(sel, int):
            fnames = ffi.unpack(lib.llf_names_nul(r), st[3]).decode("utf-8", "surrogateescape").split("\0")
            fnames.pop()
            if len(fnames) == n:   # else a name holds a NUL: the offsets below tell them apart
                if len(set(fnames)) != n:
                    return None
                out = np.empty((n, len(names)))
                lib.llf_copy_matrix(r, ffi.from_buffer("double[]", out, require_writable=True), len(names))
                return fnames, out
        fnames, X, exact = _read_result(r, n)
    finally:
        lib.llf_free(r)
    if len(set(fnames)) != len(fnames):
        return None
    if not exact.all():
        _recompute_rows(src if isinstance(src, lt.Module) else _parse_llvm(data, path), fnames, X, exact)
    return fnames, _select_columns(X, names)


def _c_llvm_rows(src, path: str | None) -> tuple[list[str], np.ndarray] | None:
    """(function names, rows in C column order) of LLVM IR text or a parsed module, inexact rows
    recomputed; None when the text does not parse, two functions share a name (Python's dicts by
    name keep one of them) or the module's views were used: the Python path then decides."""
    data = _c_source(src)
    if data is None:
        return None
    res = c_feature_rows(data)
    if res is None or len(set(res[0])) != len(res[0]):
        return None
    fnames, X, exact = res
    if not exact.all():
        _recompute_rows(src if isinstance(src, lt.Module) else _parse_llvm(data, path), fnames, X, exact)
    return fnames, X


_DICT_ORDER: tuple[list[str], np.ndarray] | None = None


def _rows_to_dicts(fnames: list[str], X: np.ndarray) -> dict[str, dict[str, float]]:
    """Rows as function_features' dicts, keys in its order."""
    global _DICT_ORDER
    if _DICT_ORDER is None:
        col = {n: j for j, n in enumerate(_C_COLUMNS)}
        order = ([f"ir.{k}" for k in FEATURE_VECTOR_KEYS] + [f"cpu.{c}" for c in CPU_FEATURES]
                 + ["cpu.prefer_vector_width"] + [f"x.{k}" for k in EXTRA] + [f"gpu.{k}" for k in GPU]
                 + [f"ng.{i}" for i in range(NGRAM_BUCKETS)] + [f"tok.{i}" for i in range(TOKEN_BUCKETS)])
        _DICT_ORDER = (order, np.array([col[n] for n in order]))
    order, perm = _DICT_ORDER
    return {n: dict(zip(order, row, strict=True)) for n, row in zip(fnames, X[:, perm].tolist(), strict=True)}


def _parse_llvm(data: bytes, path: str | None):
    import irtools

    return irtools.parse_llvm(data, path=path)


# ----------------------------------------------------------------------------- what defines a feature

_PKG = Path(__file__).resolve().parent.parent / "irtools"
# every source whose change can change a feature value: this module, the C featuriser and the parser
# whose tables it reads, the Python analyses and object model (the reference path, MLIR features)
FEATURE_SOURCES: tuple[str, ...] = (
    "costmodel/features.py", "csrc/llfeatures.c", "csrc/llfeatures.h", "csrc/llparse.c", "csrc/llparse.h",
    "csrc/mlirparse.c", "csrc/mlirparse.h", "irtools/analysis/*.py", "irtools/ir/**/*.py")


def source_digest(root: Path | None = None) -> str:
    """12 hex digits of sha256 over :data:`FEATURE_SOURCES` (names and bytes): a feature cache key that
    changes whenever a feature's definition may have.  Without the C sources (an installed wheel), the
    compiled extensions that hold the featurisers are hashed instead."""
    import hashlib

    root = _PKG.parent if root is None else Path(root)
    h = hashlib.sha256()
    files = sorted({p for pat in FEATURE_SOURCES for p in root.glob(pat) if p.is_file()})
    if not (root / "csrc" / "llfeatures.c").is_file():
        files += sorted(p for ext in ("llparse", "mlirparse") for p in (root / "irtools").glob(f"_c_{ext}.*"))
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


# ----------------------------------------------------------------------------- the C featuriser

_C_COLUMNS: list[str] | None = None
_C: tuple | None = None                       # (lib, ffi, size_t*, int64_t[4]) once loaded
_SELECT: dict[int, tuple[list[str], object]] = {}


def _c_lib():
    global _C_COLUMNS, _C
    if _C is None:
        from irtools._native import load

        lib, ffi = load("llfeatures")
        _C_COLUMNS = [ffi.string(lib.llf_column_name(i)).decode() for i in range(lib.llf_ncolumns())]
        _C = (lib, ffi, ffi.new("size_t *"), ffi.new("int64_t[4]"))
    return _C[0], _C[1]


def c_columns() -> list[str]:
    """The columns of :func:`c_feature_rows`' matrix: :data:`FEATURE_NAMES` without the ``mlir.*`` ones."""
    _c_lib()
    return list(_C_COLUMNS)


def c_reason_names() -> list[str]:
    """Why the C featuriser leaves a row to Python, by bit of :func:`c_feature_rows`' reasons."""
    lib, ffi = _c_lib()
    out, k = [], 0
    while (p := lib.llf_reason_name(k)) != ffi.NULL:
        out.append(ffi.string(p).decode())
        k += 1
    return out


def c_feature_rows(data: bytes, *, reasons: bool = False):
    """(function names, X in the C column order, exact flags[, reason bits]) of LLVM IR bytes, or
    None when the text does not parse (the Python parser then says why)."""
    if _C is None:
        _c_lib()
    lib, ffi = _C[0], _C[1]
    r = lib.llf_run(data, len(data))
    if r == ffi.NULL:
        raise MemoryError("llfeatures: out of memory")
    try:
        if not lib.llf_usable(r):
            return None
        return _read_result(r, lib.llf_rows(r), reasons)
    finally:
        lib.llf_free(r)


def _read_result(r, n: int, reasons: bool = False):
    """(function names, X copied out, exact flags[, reason bits]) of a usable llf_result."""
    lib, ffi, nlen = _C[0], _C[1], _C[2]
    ncol = len(_C_COLUMNS)
    X = np.frombuffer(ffi.buffer(lib.llf_matrix(r), n * ncol * 8), dtype=np.float64).reshape(n, ncol).copy()
    info = np.frombuffer(ffi.buffer(lib.llf_info(r), n * 5 * 4), dtype=np.int32).reshape(n, 5)
    pool = ffi.buffer(lib.llf_names(r, nlen), nlen[0])[:] if n else b""
    fnames = [pool[a:a + b].decode("utf-8", "surrogateescape") for a, b in info[:, 1:3].tolist()]
    exact = info[:, 3] != 0
    if reasons:
        return fnames, X, exact, info[:, 4].copy()
    return fnames, X, exact


def _recompute_rows(mod, fnames: list[str], X: np.ndarray, exact: np.ndarray) -> None:
    """Rows the C side flagged, recomputed in place by the Python reference."""
    uses = _use_counts(mod)
    groups = mod.attribute_groups
    shared = _shared_globals(mod)
    row_of = {n: i for i, n in enumerate(fnames)}
    col = {n: j for j, n in enumerate(_C_COLUMNS)}
    est = col["x.log_est_dyn_insts"]
    redo = {}
    for fn in mod.functions:
        if fn.is_declaration or exact[row_of[fn.name]]:
            continue
        f = function_features(fn, uses=uses.get(fn.name, 0), groups=groups, shared=shared)
        redo[fn.name] = f.pop("_callsites")
        i = row_of[fn.name]
        for k, v in f.items():
            X[i, col[k]] = v
    for name, sites in redo.items():
        extra, ndef = 0.0, 0
        for callee, w in sites:
            if callee in row_of and callee != name:
                ndef += 1
                extra += w * math.expm1(X[row_of[callee], est])
        i = row_of[name]
        X[i, col["x.n_calls_defined"]] = float(ndef)
        X[i, col["x.log_est_dyn_insts_incl"]] = math.log1p(math.expm1(X[i, est]) + extra)


def _selection(names: list[str]):
    """How X's columns map to ``names``: k when names begins with the k C columns in their order and
    the rest are unknown to C, else (positions in names, C columns), cached by the list."""
    hit = _SELECT.get(id(names))
    if hit is None or hit[0] != names:   # a list equal to the cached copy: its strings compare by identity
        col = {n: j for j, n in enumerate(_C_COLUMNS)}
        idx = np.array([col.get(n, -1) for n in names], dtype=np.int64)
        k = len(_C_COLUMNS)
        if list(names[:k]) == _C_COLUMNS and (idx[k:] < 0).all():
            sel = k                      # FEATURE_NAMES: the C columns first, in their order
        else:
            sel = (np.nonzero(idx >= 0)[0], idx[idx >= 0])
        if len(_SELECT) > 64:
            _SELECT.clear()
        hit = _SELECT[id(names)] = (list(names), sel)
    return hit[1]


def _select_columns(X: np.ndarray, names: list[str]) -> np.ndarray:
    """X's columns in the order of ``names``, NaN for the names X lacks (the mlir.* ones, unknown ones)."""
    sel = _selection(names)
    out = np.empty((X.shape[0], len(names)))
    if isinstance(sel, int):
        out[:, :sel] = X
        out[:, sel:] = np.nan
    else:
        out.fill(np.nan)
        out[:, sel[0]] = X[:, sel[1]]
    return out


def to_matrix(feats: list[dict[str, float]], names: list[str]) -> np.ndarray:
    """Rows in the order of ``names``; a feature a row lacks is NaN (LightGBM's missing value)."""
    col = {n: j for j, n in enumerate(names)}
    X = np.full((len(feats), len(names)), np.nan, dtype=np.float64)
    for i, d in enumerate(feats):
        for k, v in d.items():
            j = col.get(k)
            if j is not None:
                X[i, j] = v
    return X

