"""Type- and scope-aware mutators of TIR PrimFuncs (tirx / s_tir node set).

Each mutator takes a PrimFunc and a ``random.Random`` and returns a new PrimFunc, or None when
it found nothing to act on.  Expression mutators act only on the *value* side of buffer stores
(never on indices), so a mutation changes what is computed, not where memory is touched; the
differential oracle then compares pipelines on the same mutated function.  New statements
only use variables in scope at the insertion point (enclosing loop and block iteration
variables).  :func:`mutate` applies a few mutators and checks the TVMScript round trip: what it
returns always prints and parses back.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

FLOAT_BINOPS = ("Add", "Sub", "Mul", "Min", "Max")
INT_BINOPS = ("Add", "Sub", "Mul", "Min", "Max", "BitwiseAnd", "BitwiseOr", "BitwiseXor")
CMPOPS = ("LT", "LE", "GT", "GE", "EQ", "NE")
FLOAT_INTRINSICS = ("abs", "exp", "sqrt", "tanh", "sigmoid", "floor", "ceil", "round", "sin", "log1p")
PRAGMAS = (("pragma_auto_unroll_max_step", 16), ("pragma_unroll_explicit", 0),
           ("software_pipeline_stage", 0), ("pragma_loop_partition_hint", 1))


@dataclass
class Site:
    stmt: object
    scope: list  # Vars usable here (int-typed loop / block iteration variables)
    in_block: bool


def _tvm():
    import tvm
    import tvm_ffi
    from tvm import s_tir, tirx

    return tvm, tvm_ffi, tirx, s_tir


def collect_stmts(body) -> list[Site]:
    """Every statement with the variables in scope at it (pre-order)."""
    _, _, tirx, s_tir = _tvm()
    out: list[Site] = []

    def go(s, scope, in_block):
        out.append(Site(s, list(scope), in_block))
        name = type(s).__name__
        if name == "For":
            go(s.body, scope + [s.loop_var], in_block)
        elif name == "SeqStmt":
            for x in s.seq:
                go(x, scope, in_block)
        elif name == "IfThenElse":
            go(s.then_case, scope, in_block)
            if s.else_case is not None:
                go(s.else_case, scope, in_block)
        elif name in ("AttrStmt", "While", "LetStmt"):
            if getattr(s, "body", None) is not None:
                go(s.body, scope, in_block)
        elif name == "SBlockRealize":
            go(s.block, scope, in_block)
        elif name == "SBlock":
            # a non-opaque block sees only its own iteration variables, not the loops around it
            inner = [iv.var for iv in s.iter_vars] if len(s.iter_vars) else scope
            if s.init is not None:
                go(s.init, inner, True)
            go(s.body, inner, True)

    go(body, [], False)
    return out


def collect_value_exprs(body) -> list:
    """Expressions on the value side of buffer stores."""
    _, tvm_ffi, tirx, _ = _tvm()
    out = []
    skip = tvm_ffi.WalkResult.SKIP

    def visit(o):
        if _dtype(o):
            out.append(o)
        # a load is a leaf here: its indices decide where memory is touched, and a Var's type holds
        # a buffer's shape and offset; neither is the value side
        if type(o).__name__ in ("TensorLoad", "BufferLoad", "Var") or not isinstance(o, tvm_ffi.Object):
            return skip
        return None

    for site in collect_stmts(body):
        if type(site.stmt).__name__ == "BufferStore":
            tvm_ffi.structural_walk(site.stmt.value, visit, order="pre")
    return out


def replace(body, target, new):
    """``body`` with the node that is ``target`` (identity) replaced by ``new``."""
    _, tvm_ffi, _, _ = _tvm()

    def cb(v, m):
        if isinstance(v, tvm_ffi.Object) and v.same_as(target):
            return new
        return m.default_mutate(v)

    return tvm_ffi.structural_mutate(body, cb)


def _dtype(e) -> str | None:
    """The scalar type of a primitive expression, or None for anything else (buffers, arrays...)."""
    tvm, _, _, _ = _tvm()
    ty = getattr(e, "ty", None) if isinstance(e, tvm.ir.Expr) else None
    return str(ty) if isinstance(ty, tvm.ir.PrimType) else None


def _const(dtype: str, rng: random.Random):
    tvm, _, tirx, _ = _tvm()
    if dtype.startswith("float"):
        return tirx.const(rng.choice([0.0, 1.0, -1.0, 0.5, 2.0, 1e-3, 65504.0, rng.uniform(-4, 4)]), dtype)
    if dtype == "bool":
        return tirx.const(rng.choice([True, False]), dtype)
    return tirx.const(rng.choice([0, 1, -1, 2, 7, 255, rng.randint(-100, 100)]), dtype)


# ------------------------------------------------------------------ expression mutators
def flip_binop(func, rng):
    _, _, tirx, _ = _tvm()
    cands = [e for e in collect_value_exprs(func.body) if type(e).__name__ in INT_BINOPS]
    if not cands:
        return None
    e = rng.choice(cands)
    ops = FLOAT_BINOPS if _dtype(e).startswith("float") else INT_BINOPS
    new = rng.choice([o for o in ops if o != type(e).__name__])
    return func.with_body(replace(func.body, e, getattr(tirx, new)(e.a, e.b)))


def flip_compare(func, rng):
    _, _, tirx, _ = _tvm()
    cands = [e for e in collect_value_exprs(func.body) if type(e).__name__ in CMPOPS]
    if not cands:
        return None
    e = rng.choice(cands)
    new = rng.choice([o for o in CMPOPS if o != type(e).__name__])
    return func.with_body(replace(func.body, e, getattr(tirx, new)(e.a, e.b)))


def flip_const(func, rng):
    cands = [e for e in collect_value_exprs(func.body) if type(e).__name__ in ("IntImm", "FloatImm")]
    if not cands:
        return None
    e = rng.choice(cands)
    return func.with_body(replace(func.body, e, _const(_dtype(e), rng)))


def hoist_operand(func, rng):
    """Delete a binary node by hoisting its type-compatible child."""
    cands = [e for e in collect_value_exprs(func.body)
             if type(e).__name__ in INT_BINOPS and _dtype(e.a) == _dtype(e)]
    if not cands:
        return None
    e = rng.choice(cands)
    return func.with_body(replace(func.body, e, rng.choice([e.a, e.b])))


def wrap_select(func, rng):
    _, _, tirx, _ = _tvm()
    cands = [e for e in collect_value_exprs(func.body) if _dtype(e) in ("float32", "int32", "float64", "int64")]
    if not cands:
        return None
    e = rng.choice(cands)
    c = _const(_dtype(e), rng)
    cond = getattr(tirx, rng.choice(CMPOPS))(e, c)
    new = tirx.Select(cond, e, _const(_dtype(e), rng)) if rng.random() < 0.5 else tirx.Select(cond, c, e)
    return func.with_body(replace(func.body, e, new))


def wrap_intrinsic(func, rng):
    _, _, tirx, _ = _tvm()
    cands = [e for e in collect_value_exprs(func.body) if _dtype(e) == "float32"]
    if not cands:
        return None
    e = rng.choice(cands)
    return func.with_body(replace(func.body, e, getattr(tirx, rng.choice(FLOAT_INTRINSICS))(e)))


def insert_cast(func, rng):
    _, _, tirx, _ = _tvm()
    cands = [e for e in collect_value_exprs(func.body) if _dtype(e) in ("float32", "int32")]
    if not cands:
        return None
    e = rng.choice(cands)
    mid = rng.choice(["float16", "int8", "int64", "float64", "bfloat16", "uint8"])
    return func.with_body(replace(func.body, e, tirx.Cast(_dtype(e), tirx.Cast(mid, e))))


def insert_binop(func, rng):
    """Insert a generated subtree: ``e`` becomes ``e op (load | const)``."""
    _, _, tirx, _ = _tvm()
    cands = collect_value_exprs(func.body)
    cands = [e for e in cands if _dtype(e) in ("float32", "int32")]
    if not cands:
        return None
    e = rng.choice(cands)
    loads = [x for x in cands if type(x).__name__ in ("TensorLoad", "BufferLoad") and _dtype(x) == _dtype(e)]
    other = rng.choice(loads) if loads and rng.random() < 0.6 else _const(_dtype(e), rng)
    ops = FLOAT_BINOPS if _dtype(e).startswith("float") else INT_BINOPS
    return func.with_body(replace(func.body, e, getattr(tirx, rng.choice(ops))(e, other)))


# ------------------------------------------------------------------ statement mutators
def _stmt_sites(func, kinds=None):
    sites = collect_stmts(func.body)
    sites = [s for s in sites if type(s.stmt).__name__ not in ("SBlock", "SBlockRealize")]
    if kinds:
        sites = [s for s in sites if type(s.stmt).__name__ in kinds]
    return sites


def _cond(scope, rng):
    _, _, tirx, _ = _tvm()
    ints = [v for v in scope if (_dtype(v) or "").startswith("int")]
    if not ints:
        return tirx.const(rng.random() < 0.8, "bool")
    v = rng.choice(ints)
    return getattr(tirx, rng.choice(CMPOPS))(v, tirx.const(rng.randint(0, 8), _dtype(v)))


def wrap_loop(func, rng):
    tvm, _, tirx, _ = _tvm()
    sites = _stmt_sites(func)
    if not sites:
        return None
    site = rng.choice(sites)
    var = tirx.Var(f"fz{rng.randint(0, 9999)}", "int32")
    kind = rng.choice([tirx.ForKind.SERIAL, tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED])
    ann = dict([rng.choice(PRAGMAS)]) if rng.random() < 0.3 else None
    loop = tirx.For(var, tirx.const(0, "int32"), tirx.const(rng.randint(1, 4), "int32"), kind, site.stmt,
                    annotations=ann)
    return func.with_body(replace(func.body, site.stmt, loop))


def wrap_if(func, rng):
    _, _, tirx, _ = _tvm()
    sites = _stmt_sites(func)
    if not sites:
        return None
    site = rng.choice(sites)
    return func.with_body(replace(func.body, site.stmt, tirx.IfThenElse(_cond(site.scope, rng), site.stmt, None)))


def wrap_attr(func, rng):
    _, _, tirx, _ = _tvm()
    sites = _stmt_sites(func)
    if not sites:
        return None
    site = rng.choice(sites)
    key, val = rng.choice(PRAGMAS)
    new = tirx.AttrStmt(tirx.const(0, "int32"), key, tirx.const(val, "int32"), site.stmt)
    return func.with_body(replace(func.body, site.stmt, new))


def insert_assert(func, rng):
    tvm, _, tirx, _ = _tvm()
    sites = _stmt_sites(func, ("BufferStore",))
    if not sites:
        return None
    site = rng.choice(sites)
    ints = [v for v in site.scope if (_dtype(v) or "").startswith("int")]
    # an assertion that holds (v >= 0) keeps the program's meaning; the passes must keep it too
    cond = tirx.GE(rng.choice(ints), tirx.const(0, _dtype(ints[0]))) if ints else tirx.const(True, "bool")
    # the FFI constructor takes (condition, kind, message parts), whatever the Python signature says
    a = tirx.AssertStmt(cond, tvm.ir.StringImm("RuntimeError"), [tvm.ir.StringImm("fuzz")])
    return func.with_body(replace(func.body, site.stmt, tirx.SeqStmt([a, site.stmt])))


def flip_loop_kind(func, rng):
    _, _, tirx, _ = _tvm()
    sites = _stmt_sites(func, ("For",))
    if not sites:
        return None
    s = rng.choice(sites).stmt
    kinds = [k for k in (tirx.ForKind.SERIAL, tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED)
             if int(k) != int(s.kind)]
    new = tirx.For(s.loop_var, s.min, s.extent, rng.choice(kinds), s.body, s.thread_binding, s.annotations)
    return func.with_body(replace(func.body, s, new))


def annotate_loop(func, rng):
    _, _, tirx, _ = _tvm()
    sites = _stmt_sites(func, ("For",))
    if not sites:
        return None
    s = rng.choice(sites).stmt
    ann = dict(s.annotations)
    key, val = rng.choice(PRAGMAS)
    ann[key] = val
    new = tirx.For(s.loop_var, s.min, s.extent, s.kind, s.body, s.thread_binding, ann)
    return func.with_body(replace(func.body, s, new))


def delete_stmt(func, rng):
    """Delete a statement: drop one of a sequence, or hoist an if's / attribute's body."""
    _, _, tirx, _ = _tvm()
    sites = _stmt_sites(func, ("SeqStmt", "IfThenElse", "AttrStmt"))
    if not sites:
        return None
    s = rng.choice(sites).stmt
    name = type(s).__name__
    if name == "SeqStmt":
        seq = list(s.seq)
        del seq[rng.randrange(len(seq))]
        new = seq[0] if len(seq) == 1 else tirx.SeqStmt(seq)
    elif name == "IfThenElse":
        new = s.then_case
    else:
        new = s.body
    return func.with_body(replace(func.body, s, new))


def duplicate_stmt(func, rng):
    _, _, tirx, _ = _tvm()
    sites = _stmt_sites(func, ("BufferStore", "For"))
    if not sites:
        return None
    s = rng.choice(sites).stmt
    return func.with_body(replace(func.body, s, tirx.SeqStmt([s, s])))


# Targets a case may be compiled for (none of them run here: only llvm's code is executed).  A GPU
# kind needs thread-bound loops, which TVM's own default GPU schedules (s_tir.dlight) give a CPU-form
# function; the C target prints host C.
GPU_TARGETS = ({"kind": "cuda", "arch": "sm_80"}, {"kind": "cuda", "arch": "sm_90"}, {"kind": "cuda", "arch": "sm_50"},
               {"kind": "opencl"}, {"kind": "webgpu"}, {"kind": "nvptx", "mcpu": "sm_80"}, {"kind": "metal"})
# other CPUs through TVM's LLVM code generators (Arm Neon, Arm SVE and RISC-V V are scalable-vector
# targets to TVM's vectoriser; AVX-512 has its own lowering): compiled, not run
CPU_TARGETS = ({"kind": "llvm"}, {"kind": "c"}, {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mattr": ["+neon"]},
               {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mattr": ["+sve"]},
               {"kind": "llvm", "mtriple": "riscv64-linux-gnu", "mattr": ["+v"]},
               {"kind": "llvm", "mcpu": "skylake-avx512"})


def retarget(func, rng):
    """Compile the case for another target: a GPU-form function for another GPU kind, a CPU-form one
    for the C target or back to llvm, or (most often) through TVM's default GPU schedules for a GPU."""
    from ..tvm.replay import case_target, is_gpu, target_label

    tvm, _, _, _ = _tvm()
    target = case_target(func)
    gpu = is_gpu(target)
    if gpu or rng.random() < 0.3:
        pool = GPU_TARGETS if gpu else CPU_TARGETS
        here = target_label(target)
        spec = rng.choice([t for t in pool if target_label(tvm.target.Target(t)) != here])
        if spec == {"kind": "llvm"}:
            return func.without_attr("target")
        return func.with_attr("target", tvm.target.Target(spec, host={"kind": "llvm"}))
    from tvm.s_tir import dlight as dl

    target = tvm.target.Target(rng.choice(GPU_TARGETS), host={"kind": "llvm"})
    mod = tvm.IRModule({"main": func.without_attr("target").with_attr("target", target)})
    with target:
        mod = dl.ApplyDefaultSchedule(dl.gpu.Matmul(), dl.gpu.GEMV(), dl.gpu.Reduction(), dl.gpu.GeneralReduction(),
                                      dl.gpu.Fallback())(mod)
    new = mod["main"]
    return new if _thread_bound(new) else None


def _meta_schedule():
    """``tvm.s_tir.meta_schedule``, without the tensor-intrinsic registry its TuneContext imports.

    That import parses some 500 TVMScript intrinsics (40 s and more per fresh process); the default
    llvm and cuda rules used here need none of them.  The package is entered empty, with its real
    path, so a submodule (dlight's CUDA intrinsics) still imports on its own when something asks."""
    import importlib.util
    import logging
    import sys
    import types

    name = "tvm.s_tir.tensor_intrin"
    if name not in sys.modules:
        spec = importlib.util.find_spec(name)
        stub = types.ModuleType(name)
        stub.__path__ = list(spec.submodule_search_locations or [])
        stub.__spec__ = spec
        sys.modules[name] = stub
    from tvm.s_tir import meta_schedule as ms

    logging.getLogger("tvm.s_tir.meta_schedule").setLevel(logging.ERROR)
    return ms


# what MetaSchedule's GPU rules check a schedule against (VerifyGPUCode), for an sm_50+ part
_CUDA_LIMITS = {"max_threads_per_block": 1024, "max_shared_memory_per_block": 49152, "thread_warp_size": 32}


def tuned(func, rng):
    """One point of MetaSchedule's design space for the case: multi-level tiling, inlining,
    parallel / vectorize / unroll annotations on this CPU, or thread binding and shared-memory staging
    for CUDA (a CPU-form case goes to CUDA half the time), with MetaSchedule's post-processors applied.
    These are the schedules TVM's own tuner compiles, so what breaks on them breaks for its users."""
    from ..tvm.replay import case_target, runs_here

    tvm, _, _, _ = _tvm()
    ms = _meta_schedule()
    here = case_target(func)
    if here.kind.name == "cuda":
        spec = {"kind": "cuda", "arch": str(dict(here.attrs).get("arch") or "sm_80")}
    elif runs_here(here):
        spec = rng.choice([{"kind": "llvm"}, {"kind": "cuda", "arch": rng.choice(["sm_80", "sm_90", "sm_50"])}])
    else:
        return None
    kind = spec["kind"]
    if kind == "cuda":
        ms_target = tvm.target.Target({**spec, **_CUDA_LIMITS}, host={"kind": "llvm"})
        func = func.with_attr("target", tvm.target.Target(spec, host={"kind": "llvm"}))
    else:
        ms_target = tvm.target.Target({"kind": "llvm", "num-cores": 2})
    # the kind's default rules, post-processors and mutators (not the tensor-core set TuneContext picks)
    gen = ms.space_generator.PostOrderApply(sch_rules=kind, postprocs=kind, mutator_probs=kind)
    ctx = ms.TuneContext(mod=tvm.IRModule({"main": func}), target=ms_target, space_generator=gen,
                         task_name="fuzz", rand_state=rng.randrange(1, 1 << 30))
    spaces = list(ctx.space_generator.generate_design_space(ctx.mod))
    rng.shuffle(spaces)
    for sch in spaces:
        if all(p.apply(sch) for p in ctx.space_generator.postprocs):
            return sch.mod["main"]
    return None


def _thread_bound(func) -> bool:
    _, _, tirx, _ = _tvm()
    return any(type(s.stmt).__name__ == "For" and int(s.stmt.kind) == int(tirx.ForKind.THREAD_BINDING)
               for s in collect_stmts(func.body))


def schedule(func, rng):
    """One random s_tir schedule primitive (:mod:`irtoolkit.fuzz.mutate.schedule`)."""
    from .schedule import schedule_step

    return schedule_step(func, rng)


# ------------------------------------------------------------------ whole-function mutators (TVMScript text)
# A dtype or a shape is spelt in many places at once (buffers, constants, casts, loop extents), so
# these two rewrite the printed function and parse it back: what TVM would have been given by a user
# who wrote the program that way.
NARROW_FLOATS = ("float16", "bfloat16", "float64", "float32")
OTHER_INTS = ("int8", "int16", "int64", "uint8", "uint32", "int32")
_RANGE = {"float16": (-65504.0, 65504.0), "bfloat16": (-3.3895313892515355e38, 3.3895313892515355e38),
          "int8": (-128, 127), "int16": (-32768, 32767), "uint8": (0, 255), "uint32": (0, 4294967295)}
_TYPE_TOKEN = re.compile(r"\b(float(?:16|32|64)|bfloat16|u?int(?:8|16|32|64))\b")
_SIGNATURE = re.compile(r"^def main\((.*)\):\n", re.M)
_BUFFER_PARAM = re.compile(r"^(\w+): T\.Buffer\((.*)\)$", re.S)


def _split_top(s: str) -> list[str]:
    """``s`` split at its top-level commas."""
    out, depth, cur = [], 0, []
    for ch in s:
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def retype(func, rng):
    """Every use of one scalar type becomes another of its family (float32 → float16 / bfloat16 /
    float64, int32 → int8 / int64 / ...): the legalisation passes (BF16/FP8, NarrowDataType) and the
    code generators' narrow-type paths only run on such programs."""
    text = func.script()
    head, sep, body = text.partition("def main")
    present = sorted(set(_TYPE_TOKEN.findall(body)))
    if not sep or not present:
        return None
    src = rng.choice(present)
    family = NARROW_FLOATS if src.startswith(("float", "bfloat")) else OTHER_INTS
    dst = rng.choice([d for d in family if d != src])
    body = re.sub(rf"\b{src}\b", dst, body)
    # a literal the new type cannot hold (a max-reduction's -3.4e38 start as float16) is clamped, as a
    # user writing the program for that type would (T.min_value): TVM rightly refuses the literal
    lo, hi = _RANGE.get(dst, (None, None))
    if lo is not None:
        def clamp(m):
            v = float(m.group(1))
            return f"T.{dst}({min(max(v, lo), hi)!r})" if not lo <= v <= hi else m.group(0)

        body = re.sub(rf"T\.{dst}\(([-+]?[\d.]+(?:e[-+]?\d+)?)\)", clamp, body)
    return parse(head + sep + body)


def symbolic(func, rng):
    """One constant extent of the parameters' shapes becomes a symbolic ``n`` everywhere it occurs
    (the function then takes handles and matches its buffers): shapes known only at run time, which
    the simplifier, LoopPartition, VectorizeLoop and the GPU schedules treat on paths of their own.
    Such a case compiles but is not run (its inputs have no static shape)."""
    text = func.script()
    m = _SIGNATURE.search(text)
    if not m:
        return None
    params = [_BUFFER_PARAM.match(p) for p in _split_top(m.group(1))]
    if not params or not all(params):
        return None
    extents = sorted({int(x) for p in params for x in re.findall(r"(?<![\w.])(\d+)(?![\w.])",
                                                                  _split_top(p.group(2))[0]) if int(x) > 1})
    if not extents:
        return None
    lit = re.compile(rf"(?<![\w.]){rng.choice(extents)}(?![\w.])")
    name = "n"
    while re.search(rf"\b{name}\b", text):
        name += "_"
    body = lit.sub(name, text[m.end():]).split("\n")
    k = 0
    while k < len(body) and body[k].strip().startswith("T.func_attr"):
        k += 1
    decl = [f"    {name} = T.int32()"] + [f"    {p.group(1)} = T.match_buffer(var_{p.group(1)}, {lit.sub(name, p.group(2))})"
                                          for p in params]
    sig = ", ".join(f"var_{p.group(1)}: T.handle" for p in params)
    return parse(text[:m.start()] + f"def main({sig}):\n" + "\n".join(body[:k] + decl + body[k:]))


MUTATORS = {f.__name__: f for f in [
    flip_binop, flip_compare, flip_const, hoist_operand, wrap_select, wrap_intrinsic, insert_cast, insert_binop,
    wrap_loop, wrap_if, wrap_attr, insert_assert, flip_loop_kind, annotate_loop, delete_stmt, duplicate_stmt,
    schedule, retarget, retype, symbolic, tuned,
]}
# Schedule primitives reshape loop nests and buffers, which the passes react to most; the other
# mutators share the rest evenly.
SCHEDULE_SHARE = 0.35
_OTHERS = sorted(n for n in MUTATORS if n != "schedule")


def _choose(rng: random.Random) -> str:
    return "schedule" if rng.random() < SCHEDULE_SHARE else rng.choice(_OTHERS)


def parse(text: str):
    import tvm
    from tvm import tirx

    f = tvm.script.from_source(text)
    return f if isinstance(f, tirx.PrimFunc) else f["main"]


def mutate(text: str, seed: int, n: int = 1, attempts: int = 8) -> tuple[str, list[str]]:
    """Apply ``n`` mutations to the TVMScript ``text``, reproducibly from ``seed``.

    Returns the new TVMScript and the names of the mutators applied.  A mutation whose result
    does not survive print → parse is dropped and another is tried.
    """
    _, text, applied = mutate_func(parse(text), text, seed, n, attempts)
    return text, applied


def mutate_func(func, text: str, seed: int, n: int = 1, attempts: int = 8, check: bool = True,
                only: list[str] | None = None):
    """:func:`mutate` on an already parsed ``func`` (whose TVMScript is ``text``).

    The ``n`` mutations are applied in memory and the result goes through print → parse once;
    if that fails, the whole step is redrawn (up to 3 times), else the input is kept.  Returns
    ``(func, text, applied)`` where ``func`` is the *re-parsed* mutated function, so what the
    caller goes on with is exactly what the text means.  ``check=False`` skips the parse (the
    fork server re-parses any case it keeps, before the next child uses it).  ``only`` restricts the
    mutators to those names (a baseline's).
    """
    rng = random.Random(seed)
    for _round in range(3):
        cur, applied = func, []
        for _ in range(n):
            for _attempt in range(attempts):
                name = rng.choice(only) if only else _choose(rng)
                try:
                    new = MUTATORS[name](cur, rng)
                except Exception:  # TVM refused the construction: try another
                    continue
                if new is not None:
                    cur = new
                    applied.append(name)
                    break
        if not applied:
            continue
        try:
            printed = cur.script()
            return (parse(printed) if check else cur), printed, applied
        except Exception:
            continue
    return func, text, []
