"""Features of one LLVM IR function, computed without LLVM.

Four views, all named and fixed in order so that a model's manifest can list them:
- Autophase-like counts (instructions, blocks, edges, phis, branches, calls, constants, arguments);
- opcode and type histograms;
- loops: natural loops from the CFG, depth, constant trip counts read from the latch compare and the
  induction step, and a static estimate of instructions executed (block size × enclosing trip counts);
- memory-access pattern counts (loads/stores, vector accesses, inside loops, GEP shapes);
- a "language" view: hashed n-grams of normalised IR tokens (as in learned MLIR cost models that read
  the IR as text), into fixed buckets with a stable hash (crc32), so features are deterministic across
  processes.
Where ``irtools.analysis.features.feature_vector`` (the project's parser-based features) is
available, its values are added with an ``ir.`` prefix.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter

import numpy as np

from .irtext import Function, split_functions

OPCODES = [
    "ret", "br", "switch", "indirectbr", "invoke", "unreachable", "fneg", "add", "fadd", "sub", "fsub", "mul",
    "fmul", "udiv", "sdiv", "fdiv", "urem", "srem", "frem", "shl", "lshr", "ashr", "and", "or", "xor",
    "extractelement", "insertelement", "shufflevector", "extractvalue", "insertvalue", "alloca", "load",
    "store", "fence", "cmpxchg", "atomicrmw", "getelementptr", "trunc", "zext", "sext", "fptrunc", "fpext",
    "fptoui", "fptosi", "uitofp", "sitofp", "ptrtoint", "inttoptr", "bitcast", "addrspacecast", "icmp",
    "fcmp", "phi", "select", "call", "freeze",
]
TYPES = ["i1", "i8", "i16", "i32", "i64", "i128", "half", "bfloat", "float", "double", "ptr", "vec"]
CPU_FEATURES = ["sse4.2", "avx", "avx2", "fma", "avx512f", "bmi2"]
NGRAM_BUCKETS = 64
TOKEN_BUCKETS = 64
DEFAULT_TRIP = 16.0          # assumed trip count of a loop whose bound is not a constant

_CALLEE = re.compile(r'@("[^"]+"|[-\w$.]+)\s*\(')
_MEMLEN = re.compile(r'@llvm\.mem(?:set|cpy|move)[^(]*\(.*,\s*i64\s+(\d+)\s*,\s*i1')
_TYPE_RE = re.compile(r"<\s*(\d+)\s*x\s*([a-z0-9]+)\s*>|\b(i1|i8|i16|i32|i64|i128|half|bfloat|float|double|ptr)\b")
_TOKEN_RE = re.compile(r'%[-\w$.]+|%"[^"]*"|@[-\w$.]+|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|0x[0-9A-Fa-f]+|[a-z_][\w.]*|[<>\[\](){},=*]')


def _static_names() -> list[str]:
    names = ["n_insts", "n_blocks", "n_edges", "n_args", "n_phi", "n_phi_args", "n_cond_br", "n_uncond_br",
             "n_switch", "n_calls", "n_intrinsic_calls", "n_vector_intrinsics", "n_const_int_ops",
             "n_const_zero_ops", "n_const_one_ops", "n_blocks_multi_pred", "n_blocks_multi_succ",
             "max_block_insts", "mean_block_insts", "n_ret", "n_values",
             "n_loops", "max_loop_depth", "n_loops_const_trip", "n_loops_unknown_trip", "max_trip",
             "log_trip_product_max", "insts_in_loops", "insts_depth1", "insts_depth2", "insts_depth3plus",
             "log_est_dyn_insts", "log_est_dyn_mem", "log_est_dyn_fp", "log_est_dyn_vector",
             "n_loads", "n_stores", "n_vector_loads", "n_vector_stores", "loads_in_loops", "stores_in_loops",
             "n_gep_const_only", "n_gep_two_idx", "max_vector_width", "n_vector_values", "fp_ops", "int_ops",
             "vector_ops", "live_phi_in_loops", "max_phi_per_block", "n_calls_in_loops",
             "n_mem_intrinsics", "log_memop_bytes", "n_calls_defined", "log_est_dyn_insts_incl"]
    names += [f"op.{o}" for o in OPCODES] + ["op.other"]
    names += [f"ty.{t}" for t in TYPES]
    names += [f"cpu.{c}" for c in CPU_FEATURES] + ["cpu.prefer_vector_width"]
    names += [f"ng.{i}" for i in range(NGRAM_BUCKETS)] + [f"tok.{i}" for i in range(TOKEN_BUCKETS)]
    return names


FEATURE_NAMES: list[str] = _static_names()


# ----------------------------------------------------------------------------- loops

def _dominators(succ: dict[str, list[str]], order: list[str]) -> dict[str, set[str]]:
    entry = order[0]
    preds: dict[str, list[str]] = {b: [] for b in order}
    for b in order:
        for s in succ[b]:
            if s in preds:
                preds[s].append(b)
    alls = set(order)
    dom = {b: set(alls) for b in order}
    dom[entry] = {entry}
    changed = True
    while changed:
        changed = False
        for b in order[1:]:
            ps = [dom[p] for p in preds[b]]
            new = set.intersection(*ps) if ps else set()
            new = new | {b}
            if new != dom[b]:
                dom[b] = new
                changed = True
    return dom


def natural_loops(fn: Function) -> list[tuple[str, list[str], set[str]]]:
    """(header, latches, body) for each natural loop, merged by header."""
    order = [b.name for b in fn.blocks]
    succ = {b.name: [s for s in b.successors if s in set(order)] for b in fn.blocks}
    if len(order) > 2000:
        return []
    dom = _dominators(succ, order)
    preds: dict[str, list[str]] = {b: [] for b in order}
    for b in order:
        for s in succ[b]:
            preds[s].append(b)
    loops: dict[str, tuple[list[str], set[str]]] = {}
    for b in order:
        for s in succ[b]:
            if s in dom[b]:   # back edge b -> s
                latches, body = loops.setdefault(s, ([], {s}))
                latches.append(b)
                stack = [b]
                while stack:
                    x = stack.pop()
                    if x not in body:
                        body.add(x)
                        stack.extend(preds[x])
    return [(h, lat, body) for h, (lat, body) in loops.items()]


def _const(tok: str) -> int | None:
    try:
        return int(tok)
    except ValueError:
        return None


def _add_const(defs: dict, name: str) -> tuple[str, int] | None:
    """(x, k) when ``name`` is defined as ``add x, k`` (or ``sub x, k`` / ``or disjoint x, k``)."""
    d = defs.get(name)
    if d is None or d.opcode not in ("add", "sub", "or"):
        return None
    ops = d.operands
    if len(ops) != 2:
        return None
    a, b = ops
    ka, kb = _const(a), _const(b)
    if kb is not None and ka is None:
        return a, (-kb if d.opcode == "sub" else kb)
    if ka is not None and kb is None and d.opcode != "sub":
        return b, ka
    return None


def trip_count(fn: Function, header: str, latches: list[str], body: set[str] | None = None) -> float | None:
    """Constant trip count of a loop from an exiting ``icmp (iv + k), C`` and the phi ``iv = [start], [iv + step]``.

    Exiting blocks are any block of the loop with a conditional branch out of it (rotated loops exit in
    the latch, -Os loops in the header), so both shapes are read.
    """
    defs = {i.result: i for b in fn.blocks for i in b.insts if i.result}
    blocks = {b.name: b for b in fn.blocks}
    body = body or {header, *latches}
    for bn in [*latches, header, *sorted(body)]:
        b = blocks.get(bn)
        if not b or not b.insts or b.insts[-1].opcode != "br" or not b.insts[-1].text.startswith("br i1"):
            continue
        if all(s in body for s in b.successors):
            continue
        ops = b.insts[-1].operands
        cmp = defs.get(ops[0]) if ops else None
        if cmp is None or cmp.opcode != "icmp" or len(cmp.operands) < 2:
            continue
        a, c = cmp.operands[:2]
        bound, var = _const(c), a
        if bound is None:
            bound, var = _const(a), c
        if bound is None:
            continue
        off = 0
        phi = defs.get(var)
        if phi is None or phi.opcode != "phi":
            ac = _add_const(defs, var)
            if ac is None:
                continue
            var, off = ac
            phi = defs.get(var)
            if phi is None or phi.opcode != "phi":
                continue
        start, step = 0, 1
        for val, frm in re.findall(r"\[\s*([^,\]]+?)\s*,\s*(%[-\w$.]+|%\"[^\"]*\")\s*\]", phi.text):
            if frm.lstrip("%") in body:
                ac = _add_const(defs, val)
                if ac is not None and ac[0] == var and ac[1] != 0:
                    step = abs(ac[1])
            else:
                k = _const(val)
                if k is not None:
                    start = k
        n = abs(bound - off - start) / step
        if bn in latches:
            n += 1      # the latch tests after the body ran: one more iteration than the distance
        if n >= 1:
            return float(math.ceil(n))
    return None


# ----------------------------------------------------------------------------- tokens

def _h(s: str, buckets: int) -> int:
    return zlib.crc32(s.encode()) % buckets


def _norm_tokens(text: str) -> list[str]:
    out = []
    for t in _TOKEN_RE.findall(text):
        if t.startswith("%"):
            out.append("%v")
        elif t.startswith("@"):
            out.append(t if t.startswith("@llvm.") else "@f")
        elif t[0].isdigit() or t[0] == "-":
            out.append("<c>" if t not in ("0", "1", "-1") else t)
        else:
            out.append(t)
    return out


# ----------------------------------------------------------------------------- features

def _types_of(text: str, counts: Counter) -> int:
    maxw = 0
    for m in _TYPE_RE.finditer(text):
        if m.group(1):
            counts["vec"] += 1
            maxw = max(maxw, int(m.group(1)))
        else:
            counts[m.group(3)] += 1
    return maxw


_FP = {"fadd", "fsub", "fmul", "fdiv", "frem", "fneg", "fcmp"}
_INT = {"add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr", "and", "or", "xor", "icmp"}


def function_features(fn: Function) -> dict[str, float]:
    f: dict[str, float] = dict.fromkeys(FEATURE_NAMES, 0.0)
    insts = fn.insts
    f["n_insts"] = len(insts)
    f["n_blocks"] = len(fn.blocks)
    f["n_args"] = fn.n_args
    names = {b.name for b in fn.blocks}
    npred: Counter = Counter()
    for b in fn.blocks:
        succ = [s for s in b.successors if s in names]
        f["n_edges"] += len(succ)
        if len(succ) > 1:
            f["n_blocks_multi_succ"] += 1
        for s in succ:
            npred[s] += 1
    f["n_blocks_multi_pred"] = sum(1 for v in npred.values() if v > 1)
    sizes = [len(b.insts) for b in fn.blocks]
    f["max_block_insts"] = max(sizes) if sizes else 0
    f["mean_block_insts"] = float(np.mean(sizes)) if sizes else 0.0

    # loops first: the per-instruction pass weights by the trip counts of enclosing loops
    loops = natural_loops(fn)
    depth: Counter = Counter()
    weight: dict[str, float] = {b.name: 1.0 for b in fn.blocks}
    for h, lat, body in loops:
        tc = trip_count(fn, h, lat, body)
        if tc is None:
            f["n_loops_unknown_trip"] += 1
            tc_used = DEFAULT_TRIP
        else:
            f["n_loops_const_trip"] += 1
            f["max_trip"] = max(f["max_trip"], tc)
            tc_used = tc
        for x in body:
            depth[x] += 1
            weight[x] *= tc_used
    f["n_loops"] = len(loops)
    f["max_loop_depth"] = max(depth.values()) if depth else 0
    f["log_trip_product_max"] = math.log1p(max(weight.values())) if weight else 0.0

    tcounts: Counter = Counter()
    ops: Counter = Counter()
    ngram: Counter = Counter()
    toks: Counter = Counter()
    est = {"all": 0.0, "mem": 0.0, "fp": 0.0, "vec": 0.0}
    memop_bytes = 0.0
    callsites: list[tuple[str, float]] = []
    for b in fn.blocks:
        d = depth[b.name]
        w = weight[b.name]
        nphi = 0
        prev2, prev = "^", "^"
        for ins in b.insts:
            op = ins.opcode if ins.opcode in OPCODES else "other"
            ops[op] += 1
            ngram[_h(f"{prev}>{op}", NGRAM_BUCKETS)] += 1
            ngram[_h(f"{prev2}>{prev}>{op}", NGRAM_BUCKETS)] += 1
            prev2, prev = prev, op
            nt = _norm_tokens(ins.text)
            for a, c in zip(nt, nt[1:], strict=False):
                toks[_h(a + " " + c, TOKEN_BUCKETS)] += 1
            vw = _types_of(ins.text, tcounts)
            isvec = vw > 0
            f["max_vector_width"] = max(f["max_vector_width"], vw)
            if ins.result:
                f["n_values"] += 1
                if isvec:
                    f["n_vector_values"] += 1
            est["all"] += w
            if op in ("load", "store"):
                est["mem"] += w
            if op in _FP or (isvec and op in ("fadd", "fmul", "call")):
                est["fp"] += w
            if isvec:
                est["vec"] += w
                f["vector_ops"] += 1
            if op in _FP:
                f["fp_ops"] += 1
            elif op in _INT:
                f["int_ops"] += 1
            if d >= 1:
                f["insts_in_loops"] += 1
                f["insts_depth1" if d == 1 else "insts_depth2" if d == 2 else "insts_depth3plus"] += 1
            if op == "phi":
                nphi += 1
                f["n_phi"] += 1
                f["n_phi_args"] += ins.text.count("[")
                if d >= 1:
                    f["live_phi_in_loops"] += 1
            elif op == "br":
                f["n_cond_br" if ins.text.startswith("br i1") else "n_uncond_br"] += 1
            elif op == "switch":
                f["n_switch"] += 1
            elif op == "ret":
                f["n_ret"] += 1
            elif op == "call":
                f["n_calls"] += 1
                callee = _CALLEE.search(ins.text)
                if callee and callee.group(1).startswith(("llvm.memset", "llvm.memcpy", "llvm.memmove")):
                    f["n_mem_intrinsics"] += 1
                    ln = _MEMLEN.search(ins.text)
                    memop_bytes += w * (int(ln.group(1)) if ln else 256)
                elif callee and not callee.group(1).startswith("llvm."):
                    callsites.append((callee.group(1).strip('"'), w))
                if "@llvm." in ins.text:
                    f["n_intrinsic_calls"] += 1
                    if isvec:
                        f["n_vector_intrinsics"] += 1
                elif d >= 1:
                    f["n_calls_in_loops"] += 1
            elif op == "load":
                f["n_loads"] += 1
                f["n_vector_loads"] += isvec
                f["loads_in_loops"] += d >= 1
            elif op == "store":
                f["n_stores"] += 1
                f["n_vector_stores"] += isvec
                f["stores_in_loops"] += d >= 1
            elif op == "getelementptr":
                idx = ins.text.count(",") - 1
                if idx >= 2:
                    f["n_gep_two_idx"] += 1
                if not re.search(r",\s*i\d+\s+%", ins.text):
                    f["n_gep_const_only"] += 1
            if op not in ("phi", "br", "call"):
                for o in ins.operands:
                    c = _const(o)
                    if c is not None:
                        f["n_const_int_ops"] += 1
                        f["n_const_zero_ops"] += c == 0
                        f["n_const_one_ops"] += c == 1
        f["max_phi_per_block"] = max(f["max_phi_per_block"], nphi)
    f["log_est_dyn_insts"] = math.log1p(est["all"])
    f["log_est_dyn_insts_incl"] = f["log_est_dyn_insts"]
    f["log_memop_bytes"] = math.log1p(memop_bytes)
    fn.callsites = callsites
    f["log_est_dyn_mem"] = math.log1p(est["mem"])
    f["log_est_dyn_fp"] = math.log1p(est["fp"])
    f["log_est_dyn_vector"] = math.log1p(est["vec"])
    for o, c in ops.items():
        f[f"op.{o}"] = float(c)
    for t in TYPES:
        f[f"ty.{t}"] = float(tcounts[t])
    for c in CPU_FEATURES:
        f[f"cpu.{c}"] = 1.0 if f"+{c}" in fn.attrs else 0.0
    m = re.search(r'"prefer-vector-width"="(\d+)"', fn.attrs)
    f["cpu.prefer_vector_width"] = float(m.group(1)) if m else 0.0
    for i, c in ngram.items():
        f[f"ng.{i}"] = float(c)
    for i, c in toks.items():
        f[f"tok.{i}"] = float(c)
    return {k: float(v) for k, v in f.items()}


def _project_features(text: str) -> dict[str, dict[str, float]]:
    """The project's parser-based features, per function, when that part is installed."""
    try:
        import irtools
        from irtools.analysis.features import feature_vector  # type: ignore[import-not-found]
        mod = irtools.parse_llvm(text)
    except Exception:   # not built yet, or a module it cannot read: our own view still stands
        return {}
    out: dict[str, dict[str, float]] = {}
    try:
        for fn in getattr(mod, "functions", []):
            if getattr(fn, "is_declaration", False):
                continue
            out[str(fn.name).lstrip("@")] = {f"ir.{k}": float(v) for k, v in feature_vector(fn).items()}
    except Exception:
        return {}
    return out


def module_features(text: str, *, use_project: bool = False) -> dict[str, dict[str, float]]:
    """Function name → feature dict, for every function defined in an LLVM IR module's text."""
    fns = split_functions(text)
    out = {fn.name: function_features(fn) for fn in fns}
    # calls to functions of the same module: their estimated work joins the caller's (one level deep,
    # so that recursion cannot loop)
    for fn in fns:
        extra, ndef = 0.0, 0
        for callee, w in getattr(fn, "callsites", []):
            if callee in out and callee != fn.name:
                ndef += 1
                extra += w * math.expm1(out[callee]["log_est_dyn_insts"])
        f = out[fn.name]
        f["n_calls_defined"] = float(ndef)
        f["log_est_dyn_insts_incl"] = math.log1p(math.expm1(f["log_est_dyn_insts"]) + extra)
    if use_project:
        for name, extra in _project_features(text).items():
            if name in out:
                out[name].update(extra)
    return out


def to_matrix(feats: list[dict[str, float]], names: list[str]) -> np.ndarray:
    """Rows in the order of ``names``; a feature a row lacks is NaN (LightGBM's missing value)."""
    X = np.full((len(feats), len(names)), np.nan, dtype=np.float64)
    for i, d in enumerate(feats):
        for j, n in enumerate(names):
            v = d.get(n)
            if v is not None:
                X[i, j] = v
    return X
