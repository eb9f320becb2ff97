"""Run one case inside a forked child: parse, verify, apply the pass list, build, run, compare.

Everything here imports TVM and is only called in a fork-server child, which may die: each
stage is announced through ``stage(name)`` first, so the server knows where a signal struck.
The result is a plain dict (JSON) that :mod:`irtoolkit.fuzz.oracles` classifies.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable

import numpy as np

from ..coverage.tracer import ORACLE, PIPELINE, set_class
from ..protocol import Stage
from . import passes as P
from . import replay as R


def _features(func) -> str:
    """A coarse IR feature bucket for the semantic signal: which constructs a function holds."""
    import tvm
    import tvm_ffi

    seen: set[str] = set()
    skip = tvm_ffi.WalkResult.SKIP

    def visit(obj):
        name = type(obj).__name__
        if name == "For":
            seen.add(f"for:{int(obj.kind)}")
        elif name in ("SBlock", "IfThenElse", "AllocBuffer", "LetStmt", "AssertStmt", "AttrStmt", "While",
                      "DeclBuffer", "Evaluate"):
            seen.add(name)
        if isinstance(obj, tvm.ir.Expr):  # statements only: expressions are most of the nodes
            return skip
        return None

    tvm_ffi.structural_walk(func.body, visit, order="pre")
    return ",".join(sorted(seen))


def _prim_funcs(mod) -> dict:
    from tvm import tirx

    return {gv.name_hint: f for gv, f in mod.functions.items() if isinstance(f, tirx.PrimFunc)}


def _same_func(a, b) -> bool:
    """Structurally equal, decided by identity where TVM's copy-on-write kept it (no hashing): a
    pass that changes nothing mostly hands back the same function or at least the same body."""
    import tvm_ffi

    if a.same_as(b):
        return True
    if a.body.same_as(b.body) and a.attrs.same_as(b.attrs) and len(a.params) == len(b.params) \
            and all(x.same_as(y) for x, y in zip(a.params, b.params, strict=True)):
        return True
    return bool(tvm_ffi.structural_equal(a, b))


def make_instrument(signal: set):
    """A PassInstrument recording (pass, IR feature bucket, changed?) for every pass run, nested too."""
    import tvm
    import tvm_ffi

    @tvm.ir.instrument.pass_instrument
    class SemanticSignal:
        def __init__(self):
            self.stack = []
            self.feats = {}  # function name -> (function, features): the output of one pass is the next's input

        def hash(self, mod):
            return tvm_ffi.structural_hash(mod)

        def _feature(self, name, func):
            hit = self.feats.get(name)
            if hit is not None and hit[0].same_as(func):
                return hit[1]
            feat = _features(func)
            self.feats[name] = (func, feat)
            return feat

        def run_before_pass(self, mod, info):
            with _oracle_work():
                funcs = _prim_funcs(mod)
                feat = "|".join(sorted({self._feature(n, f) for n, f in funcs.items()}))
                self.stack.append((funcs, feat))

        def run_after_pass(self, mod, info):
            with _oracle_work():
                self._after(mod, info)

        def _after(self, mod, info):
            if not self.stack:
                return
            before, feat = self.stack.pop()
            after = _prim_funcs(mod)
            changed = before.keys() != after.keys()
            for n, f in after.items():
                if n in before and _same_func(before[n], f):
                    hit = self.feats.get(n)
                    if hit is not None and hit[0].same_as(before[n]):
                        self.feats[n] = (f, hit[1])  # a copy of an unchanged function: no new walk
                else:
                    changed = True
            signal.add(f"{info.name}|{feat}|{int(changed)}")

    return SemanticSignal()


def racy(func) -> bool:
    """Whether the program has no single defined result under parallel/vector execution: a
    parallel or vectorized loop that carries a reduction (it binds a reduce iteration variable of
    a block), or whose variable its body never uses (every iteration writes the same place).
    The differential oracle skips such programs (their mutants come from loop-kind flips)."""
    import tvm_ffi

    def vars_in(obj) -> set:
        out: set = set()
        tvm_ffi.structural_walk(obj, lambda o: out.add(o) if type(o).__name__ == "Var" else None)
        return out

    def go(stmt, nonserial: set) -> bool:
        name = type(stmt).__name__
        if name == "For":
            inner = nonserial
            if int(stmt.kind) in (1, 2):  # parallel, vectorized
                if stmt.loop_var not in vars_in(stmt.body):
                    return True
                inner = nonserial | {stmt.loop_var}
            return go(stmt.body, inner)
        if name == "SBlockRealize":
            for iv, val in zip(stmt.block.iter_vars, stmt.iter_values, strict=False):
                if int(iv.iter_type) != 0 and vars_in(val) & nonserial:
                    return True
            return go(stmt.block, nonserial)
        if name == "SBlock":
            return (stmt.init is not None and go(stmt.init, nonserial)) or go(stmt.body, nonserial)
        if name == "SeqStmt":
            return any(go(x, nonserial) for x in stmt.seq)
        if name == "IfThenElse":
            return go(stmt.then_case, nonserial) or (stmt.else_case is not None and go(stmt.else_case, nonserial))
        body = getattr(stmt, "body", None)
        return body is not None and go(body, nonserial)

    try:
        return go(func.body, set())
    except Exception:  # an unfamiliar node: be conservative, do not compare
        return True


random_args = R.random_args
_run = R.run
_close = R.close


# Attribute keys the IR mutator (``mutate.ir.wrap_attr``) writes as an AttrStmt on a constant node.
# TVM's front ends put them on loops (``T.serial(..., annotations={...})``, schedule ``annotate``),
# and LowerOpaqueBlock turns a pragma annotation into an AttrStmt on the loop *variable*: an
# AttrStmt whose node is an integer constant comes from the fuzzer alone.
FUZZER_ONLY_ATTRS = ("pragma_auto_unroll_max_step", "pragma_unroll_explicit", "software_pipeline_stage",
                     "pragma_loop_partition_hint")


def _key(v):
    """A TVM object's identity (``==`` on a Var builds an expression)."""
    return v.__chandle__()


def _accessed(o):
    """The buffer an access or region names: ``.buffer`` (BufferLoad/Store, BufferRegion) or ``.source``
    (TensorLoad and its regions)."""
    return o.source if hasattr(o, "source") else o.buffer


def _stores_or_calls(block) -> bool:
    """Whether an sblock's body or init holds a store or a call (a call may write through a pointer)."""
    import tvm_ffi

    found = []

    def visit(o):
        if type(o).__name__ in ("BufferStore", "Call", "TensorStore"):
            found.append(o)

    for part in (block.body, block.init):
        if part is not None:
            tvm_ffi.structural_walk(part, visit)
    return bool(found)


def artefacts(func) -> list[str]:
    """Forms in ``func`` that TVM's own front ends never produce (the fuzzer's mutators write them)."""
    import tvm_ffi

    found: list[str] = []
    gpu = R.is_gpu(R.case_target(func))

    def visit(o):
        if type(o).__name__ == "AttrStmt" and str(o.attr_key) in FUZZER_ONLY_ATTRS \
                and type(o.node).__name__ in ("IntImm", "int"):
            why = (f"AttrStmt {o.attr_key!r} on the constant {int(getattr(o.node, 'value', o.node))}: TVM front ends attach this key "
                   "to a loop (annotations), never to a constant node")
            if why not in found:
                found.append(why)
        if type(o).__name__ == "SBlock" and len(o.writes) and not _stores_or_calls(o):
            why = (f"sblock {o.name_hint!r} declares writes ({', '.join(str(getattr(_accessed(r), 'name', '?')) for r in o.writes)}) but its "
                   "body neither stores nor calls anything: TVMScript infers regions from the body and schedule "
                   "primitives keep them in step; the IR mutator's delete_stmt removed the store and left the region")
            if why not in found:
                found.append(why)
        if gpu and type(o).__name__ == "For" and int(o.kind) == 1:  # ForKind.PARALLEL
            why = ("a parallel loop in a function for a GPU target: TVM's GPU schedules (dlight, MetaSchedule) bind "
                   "loops to threads, none writes a CPU-parallel loop into a kernel")
            if why not in found:
                found.append(why)

    tvm_ffi.structural_walk(func.body, visit)
    return found


def target_limits(func) -> list[str]:
    """Inputs the case's GPU target does not take, whatever the pass list: a buffer the function
    allocates in global memory that only one kernel (outermost thread-bound loop or ``thread_extent``)
    touches.  TVM plans such an allocation into that kernel, and its GPU code generators allocate
    only shared or local memory there: CUDA says "Cannot allocate global memory when targeting CUDA"
    (an input limitation), Metal and WebGPU fail on the allocation's extent or layout instead."""
    import tvm
    import tvm_ffi

    if not R.is_gpu(R.case_target(func)):
        return []
    allocs: dict = {}

    def find_allocs(o):
        name = type(o).__name__
        bufs = list(o.alloc_buffers) if name == "SBlock" else [o.buffer] if name == "AllocBuffer" else []
        for b in bufs:
            if b.scope() == "global":
                allocs[_key(b)] = b.name

    tvm_ffi.structural_walk(func.body, find_allocs)
    if not allocs:
        return []
    kernels: list = []

    def find_kernels(s):
        if s is None:
            return
        name = type(s).__name__
        if (name == "For" and int(s.kind) == 4) or (name == "AttrStmt" and str(s.attr_key) == "thread_extent"):
            kernels.append(s)  # ForKind.THREAD_BINDING, or launch_thread: a kernel's outermost loop
            return
        if name == "SeqStmt":
            for x in s.seq:
                find_kernels(x)
            return
        for field in ("block", "init", "body", "then_case", "else_case"):
            child = getattr(s, field, None)
            if child is not None and isinstance(child, tvm.tirx.Stmt):
                find_kernels(child)

    find_kernels(func.body)
    touched: dict = {k: set() for k in allocs}
    for i, kernel in enumerate(kernels):
        def visit(o, i=i):
            if type(o).__name__ in ("BufferLoad", "BufferStore", "TensorLoad"):
                k = _key(_accessed(o))
                if k in touched:
                    touched[k].add(i)
        tvm_ffi.structural_walk(kernel, visit)
    return [f"the input allocates {allocs[k]} in global memory and only one GPU kernel touches it: TVM plans the "
            "allocation into that kernel, where GPU code generators allocate only shared or local memory (CUDA: "
            '"Cannot allocate global memory when targeting CUDA", an input limitation)'
            for k, ks in touched.items() if len(ks) == 1]


def ub_reasons(func) -> list[str]:
    """Undefined behaviour that a static walk can prove in a block-form or low-level PrimFunc: a
    read of an allocated (non-parameter) buffer before any store to it in program order, a shift
    by a constant out of ``[0, bits)``, a float-to-int cast of a constant out of range.  (Bounds:
    ``OOBChecker``, separately.)"""
    import tvm
    import tvm_ffi

    params = {_key(p) for p in func.params}
    written: set = set()
    out: list[str] = []

    def note(msg):
        if msg not in out:
            out.append(msg)

    def expr(e):
        def visit(o):
            name = type(o).__name__
            if name in ("TensorLoad", "BufferLoad"):
                buf = _accessed(o)
                if _key(buf) not in params and _key(buf) not in written:
                    note(f"read of {getattr(buf, 'name', buf)!s} before any store to it (uninitialised memory)")
            elif name == "Call" and str(getattr(o.op, "name", "")) in ("tirx.shift_left", "tirx.shift_right") \
                    and type(o.args[1]).__name__ == "IntImm":
                k, bits = int(o.args[1].value), o.args[0].dtype.bits
                if not 0 <= k < bits:
                    note(f"shift of a {bits}-bit value by {k}")
            elif name == "Cast" and type(o.value).__name__ == "FloatImm" and str(o.dtype).startswith(("int", "uint")):
                bits, v = o.dtype.bits, float(o.value.value)
                lo, hi = (0, 2 ** bits - 1) if str(o.dtype).startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
                if not lo <= v <= hi:
                    note(f"cast of {v} to {o.dtype} (out of range)")
        tvm_ffi.structural_walk(e, visit)

    def stmt(s):
        if s is None:
            return
        name = type(s).__name__
        if name == "SeqStmt":
            for x in s.seq:
                stmt(x)
        elif name == "BufferStore":
            expr(s.value)
            for i in s.indices:
                expr(i)
            written.add(_key(s.buffer))
        elif name == "SBlockRealize":
            for v in s.iter_values:
                expr(v)
            expr(s.predicate)
            stmt(s.block)
        elif name == "SBlock":
            for mb in s.match_buffers:
                written.add(_key(mb.buffer))  # an alias: its source's state is not tracked
            if s.init is not None:
                stmt(s.init)
            stmt(s.body)
        elif name == "IfThenElse":
            expr(s.condition)
            stmt(s.then_case)
            stmt(s.else_case)
        elif name == "For":
            expr(s.min)
            expr(s.extent)
            stmt(s.body)
        elif name == "While":
            expr(s.condition)
            stmt(s.body)
        elif name in ("LetStmt", "AssertStmt", "Evaluate", "AttrStmt"):
            for f in ("value", "condition", "message"):
                if hasattr(s, f) and isinstance(getattr(s, f), tvm.ir.Expr):
                    expr(getattr(s, f))
            stmt(getattr(s, "body", None))
        else:  # allocations, declarations and what else holds a body
            body = getattr(s, "body", None)
            if body is not None:
                stmt(body)
            elif name not in ("AllocBuffer", "DeclBuffer"):
                written.update(_stored_vars(s))  # an unfamiliar leaf: assume it writes what it names

    def _stored_vars(s):
        found = set()
        tvm_ffi.structural_walk(s, lambda o: found.add(_key(o.buffer)) if type(o).__name__ == "BufferStore" else None)
        return found

    try:
        stmt(func.body)
    except Exception as e:  # an unfamiliar node: say so rather than guess
        return [f"UB walk failed ({type(e).__name__}: {e}): not compared"]
    return out


def changed_module(before, after) -> bool:
    """Whether a pass changed the module: identity first (copy-on-write), then the structural hash."""
    import tvm_ffi

    if before.same_as(after):
        return False
    with _oracle_work():
        return tvm_ffi.structural_hash(before) != tvm_ffi.structural_hash(after)


@contextlib.contextmanager
def _oracle_work():
    """The fuzzer's own walks inside a pass stage (instrument, change check) are not the pipeline's
    coverage: the tracer's class is the oracle's meanwhile, and the pipeline's again after."""
    set_class(ORACLE)
    try:
        yield
    finally:
        set_class(PIPELINE)


def ill_formed(mod) -> dict | None:
    """The well-formedness verifier's error for ``mod``, or None (``s_tir.analysis.verify_well_formed``
    on every PrimFunc: it covers the tirx verifiers that apply to host code on an LLVM target).
    A complaint about a documented-legal form (``replay.LEGAL_FORMS``) is no error: ``verify_module``
    lets it pass."""
    try:
        R.verify_module(mod)
    except Exception as e:
        return _err(e)
    return None


def _err(e: BaseException) -> dict:
    import tvm

    msg = str(e)
    if len(msg) > 4000:  # the head says what failed where a check prints the function after it (the tail)
        msg = msg[:1000] + "\n[...]\n" + msg[-3000:]
    return {"type": type(e).__name__,
            "internal": isinstance(e, tvm.error.InternalError) or "Check failed" in str(e),
            "message": msg, "traceback": traceback.format_exc()[-4000:]}


class DefaultCache:
    """The default pipeline's result per input function (by structural hash), kept for the life
    of a persistent child: pass-list mutants of one corpus entry share their input, so its
    default lowering, build and JIT are paid once, not once per mutant."""

    def __init__(self, size: int = 16):
        self.size = size
        self.items: dict[int, dict] = {}

    def entry(self, func) -> dict:
        import tvm_ffi

        h = tvm_ffi.structural_hash(func)
        e = self.items.pop(h, None) or {}
        self.items[h] = e
        while len(self.items) > self.size:
            self.items.pop(next(iter(self.items)))
        return e


def _lower_default(func, target, entry: dict):
    """(dmod, None) or (None, error dict) for the default pipeline, through ``entry``'s cache."""
    import tvm
    from tvm import tirx

    if "dmod" not in entry and "error" not in entry:
        try:
            dmod = tirx.transform.BindTarget(target)(tvm.IRModule({"main": func}))
            with tvm.transform.PassContext(opt_level=3):
                dmod = tvm.transform.Sequential([P.instantiate(pc) for pc in P.default_pipeline()])(dmod)
            entry["dmod"] = dmod
        except Exception as e:
            entry["error"] = _err(e)
    return entry.get("dmod"), entry.get("error")


def _build_default(dmod, target, entry: dict):
    """The default pipeline's runnable ``main`` (cached), or raises."""
    if "main" not in entry:
        rt = R.build(dmod, target)
        entry["main"] = (rt, rt["main"])  # the JIT compiles here; keep the module alive with it
    return entry["main"][1]


def _with_default_outcome(res: dict, func, target, runs: bool, stage) -> dict:
    """A failing case for a target that is not run here (GPU, C) has no differential to lean on, so
    ask what a maintainer asks first: does TVM's own default pipeline (plain ``tvm.compile``) take
    this input for this target?  ``res["default_outcome"]``: ``{"ok": True}`` or ``{"error": ...}``."""
    if runs:
        return res
    stage("lower-default")
    dmod, derr = _lower_default(func, target, {})
    if derr is not None:
        res["default_outcome"] = {"error": derr}
        return res
    stage("codegen-default")
    try:
        R.build(dmod, target)
        res["default_outcome"] = {"ok": True}
    except Exception as e:
        res["default_outcome"] = {"error": _err(e)}
    return res


def same_tir_known(res: dict) -> bool:
    return bool(res.get("same_tir_as_default"))


def run_case(text: str, pass_list: list, *, stage: Callable[[str], None], rng_seed: int,
             reference=None, ir_mutated: bool = True, differential: bool = True, func=None,
             fresh_ir: bool = False, gate=None, defaults: DefaultCache | None = None,
             facts: Callable[[dict], None] | None = None) -> dict:
    """Execute one case; ``reference`` is a NumPy function for the unmutated seed (or None).

    ``func`` is the already parsed PrimFunc of ``text`` when the caller has it (the fork server
    parses corpus entries once, before forking).  ``fresh_ir``: the IR was mutated in this very
    case, so its code generation has never been exercised, even when the lowered TIR is the
    default pipeline's.  ``gate`` (a :class:`irtoolkit.fuzz.novelty.BuildGate`) may stop a case before code
    generation (a lowered module built before, or nothing new on a case not sampled); its
    IR-level signals are collected all the same.  ``defaults`` caches the default pipeline's
    lowering and build per input function.  ``facts`` is called, before any pass runs, with what
    the input itself shows (``artefacts``, ``limits``, ``ub``) when any of it is non-empty: a child
    that then dies by a signal or hangs has already reported it, so its verdict can be triaged.
    """
    import tvm
    import tvm_ffi
    from tvm import s_tir, tirx

    res: dict = {"status": "ok", "signal": []}
    signal: set[str] = set()
    stage("parse")
    try:
        if func is None:
            func = tvm.script.from_source(text)
            if not isinstance(func, tirx.PrimFunc):
                func = func["main"]
        s_tir.analysis.verify_well_formed(func)
    except Exception as e:  # the mutated input itself is invalid: a clean rejection
        return {"status": "rejected", "error": _err(e), "signal": []}
    try:  # static out-of-bounds check: a program that reads past a buffer has no defined result
        s_tir.analysis.OOBChecker()(tvm.IRModule({"main": func}))
        oob = False
    except Exception:
        oob = True
    res["out_of_bounds"] = oob
    res["racy"] = racy(func)
    res["artefacts"] = artefacts(func)
    res["limits"] = target_limits(func)
    res["ub"] = ub_reasons(func) + (["out-of-bounds access (OOBChecker)"] if oob else [])
    if facts is not None and (res["artefacts"] or res["limits"] or res["ub"]):
        facts({k: res[k] for k in ("artefacts", "limits", "ub")})
    target = R.case_target(func)
    runs = R.runs_here(target)
    if not runs:
        res["target"] = R.target_label(target)
    mod = tvm.IRModule({"main": func})
    mod = tirx.transform.BindTarget(target)(mod)

    violations, _ = P.check(pass_list)
    res["violations"] = [v.explain() for v in violations]
    instrument = make_instrument(signal)
    for i, pc in enumerate(pass_list):
        stage(Stage.PASS.at(i, P.pass_label(pc)))
        try:
            before = mod
            with P.context(pc, instruments=[instrument]):
                mod = P.instantiate(pc)(mod)
            if "first_ill_formed" not in res and changed_module(before, mod):
                stage(Stage.VERIFY.at(i, P.pass_label(pc)))
                bad = ill_formed(mod)
                if bad is not None:  # blame: the first pass whose output is ill-formed
                    res["first_ill_formed"] = {"pass_index": i, "pass_name": P.pass_label(pc), "error": bad}
        except Exception as e:
            res.update(status="pass_error", pass_index=i, pass_name=P.pass_label(pc), error=_err(e),
                       explained=any(v.index <= i for v in violations))
            res["signal"] = sorted(signal)
            if gate is not None:
                gate.signals(signal)
            return _with_default_outcome(res, func, target, runs, stage)
    res["signal"] = sorted(signal)
    if gate is not None:
        gate.signals(signal)
    explained = bool(violations)
    stage("verify")
    bad = ill_formed(mod)
    if bad is not None:
        res.update(status="ill_formed", error=bad, explained=explained)
        return _with_default_outcome(res, func, target, runs, stage)
    if not P.codegen_ready(pass_list):
        res["status"] = "not_lowered"
        return res
    if gate is not None:
        why = gate.build(instrument.hash(mod), fresh_ir)
        if why:
            res["build_skipped"] = why
            return res
    dmod = None
    entry = defaults.entry(func) if defaults is not None else {}
    if not explained and runs:
        stage("lower-default")
        dmod, derr = _lower_default(func, target, entry)
        if derr is not None:
            res.update(status="default_error", error=derr, explained=False)
            return res
        same_tir = bool(tvm_ffi.structural_equal(dmod, mod))
        res["same_tir_as_default"] = same_tir
        if same_tir and not fresh_ir and (reference is None or ir_mutated):
            # identical lowered TIR for IR that already went through codegen when it entered the
            # corpus: codegen and run would repeat the default pipeline's own work
            return res
    stage("codegen")
    try:
        rt = R.build(mod, target)
    except Exception as e:
        res.update(status="codegen_error", error=_err(e), explained=explained)
        return _with_default_outcome(res, func, target, runs, stage)
    if not runs or not differential or explained or res["ub"] or res["racy"] or (same_tir_known(res) and (reference is None or ir_mutated)):
        return res
    stage("jit")  # machine code only for programs the differential runs
    try:
        main = rt["main"]
    except Exception as e:
        res.update(status="codegen_error", error=_err(e), explained=explained)
        return res
    rng = np.random.default_rng(rng_seed)
    try:
        args = random_args(func, rng)
    except ValueError as e:
        res["status"] = "no_inputs"
        res["note"] = str(e)
        return res
    ref_outs = None
    if not res["same_tir_as_default"]:
        stage("codegen-default")
        try:
            ref_main = _build_default(dmod, target, entry)
        except Exception as e:
            res.update(status="default_error", error=_err(e), explained=False)
            return res
        stage("run-default")
        try:
            ref_outs = _run(ref_main, args)
        except Exception as e:  # the program itself fails at run time (a mutated assert, say)
            res.update(status="run_error_default", error=_err(e))
            return res
    stage("run")
    try:
        outs = _run(main, args)
    except Exception as e:
        res.update(status="run_error", error=_err(e), explained=ref_outs is None)
        return res
    n_out = 1
    expected = reference(args[:-n_out]) if reference is not None and not ir_mutated else None

    def agrees_with_numpy(vals) -> bool | None:
        if expected is None or vals is None:
            return None
        return all(_close(a, np.asarray(b)) for a, b in zip(vals[-n_out:], expected, strict=False))

    def wrong_side() -> str:
        mine, theirs = agrees_with_numpy(outs), agrees_with_numpy(ref_outs)
        if mine is None or theirs is None:
            return ("unknown: the pass list and TVM's default pipeline disagree, and mutated IR has no NumPy "
                    "reference") if expected is None else "the pass list (NumPy disagrees with it)"
        if theirs and not mine:
            return "the pass list (NumPy agrees with the default pipeline)"
        if mine and not theirs:
            return "the default pipeline, i.e. plain tvm.compile (NumPy agrees with the pass list)"
        return "both (neither agrees with NumPy)" if not mine else "neither (both agree with NumPy)"

    if res["ub"]:  # no defined result: nothing to compare (and a reducer step that adds UB fails here)
        res["note"] = "UB: " + "; ".join(res["ub"])
        return res
    if ref_outs is not None:
        for k, (a, b) in enumerate(zip(outs, ref_outs, strict=True)):
            if not _close(a, b):
                res.update(status="mismatch", against="default pipeline", buffer=k, wrong=wrong_side(),
                           max_abs_diff=R.max_abs_diff(a, b))
                return res
    if expected is not None:
        for k, (a, b) in enumerate(zip(outs[-n_out:], expected, strict=False)):
            if not _close(a, np.asarray(b)):
                res.update(status="mismatch", against="numpy", buffer=len(args) - n_out + k, wrong=wrong_side(),
                           max_abs_diff=R.max_abs_diff(a, b))
                return res
    return res
