"""Run one case inside a forked child: parse, verify, apply the pass list, build, run, compare.

Everything here imports TVM and is only called in a fork-server child, which may die: each
stage is announced through ``stage(name)`` first, so the server knows where a signal struck.
The result is a plain dict (JSON) that :mod:`fuzz.oracles` classifies.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

import numpy as np

from . import passes as P

TARGET = {"kind": "llvm"}


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
            funcs = _prim_funcs(mod)
            feat = "|".join(sorted({self._feature(n, f) for n, f in funcs.items()}))
            self.stack.append((funcs, feat))

        def run_after_pass(self, mod, info):
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


def random_args(func, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for param in func.params:
        try:  # in 0.27 a buffer parameter is a Var of BufferType
            shape = [int(s) for s in param.shape]
            dtype = str(param.dtype)
        except Exception as e:
            raise ValueError(f"parameter {param} is not a buffer of static shape") from e
        if dtype.startswith("float"):
            out.append(rng.uniform(-1, 1, size=shape).astype(dtype))
        elif dtype.startswith(("int", "uint")):
            out.append(rng.integers(0, 100, size=shape).astype(dtype))
        elif dtype == "bool":
            out.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            raise ValueError(f"unsupported dtype {dtype}")
    return out


def _run(main, arrays):
    import tvm

    tensors = [tvm.runtime.tensor(a.copy()) for a in arrays]
    main(*tensors)
    return [t.numpy() for t in tensors]


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f":
        return bool(np.allclose(a, b, rtol=1e-3, atol=1e-4, equal_nan=True))
    return bool(np.array_equal(a, b))


def _err(e: BaseException) -> dict:
    import tvm

    return {"type": type(e).__name__,
            "internal": isinstance(e, tvm.error.InternalError) or "Check failed" in str(e),
            "message": str(e)[-4000:], "traceback": traceback.format_exc()[-4000:]}


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
    from tvm.tirx.build import split_host_device_mods, tir_to_runtime

    if "main" not in entry:
        dhost, ddev = split_host_device_mods(dmod)
        rt = tir_to_runtime(dhost, ddev, target)
        entry["main"] = (rt, rt["main"])  # the JIT compiles here; keep the module alive with it
    return entry["main"][1]


def same_tir_known(res: dict) -> bool:
    return bool(res.get("same_tir_as_default"))


def run_case(text: str, pass_list: list, *, stage: Callable[[str], None], rng_seed: int,
             reference=None, ir_mutated: bool = True, differential: bool = True, func=None,
             fresh_ir: bool = False, gate=None, defaults: DefaultCache | None = None) -> dict:
    """Execute one case; ``reference`` is a NumPy function for the unmutated seed (or None).

    ``func`` is the already parsed PrimFunc of ``text`` when the caller has it (the fork server
    parses corpus entries once, before forking).  ``fresh_ir``: the IR was mutated in this very
    case, so its code generation has never been exercised, even when the lowered TIR is the
    default pipeline's.  ``gate`` (a :class:`fuzz.novelty.BuildGate`) may stop a case before code
    generation (a lowered module built before, or nothing new on a case not sampled); its
    IR-level signals are collected all the same.  ``defaults`` caches the default pipeline's
    lowering and build per input function.
    """
    import tvm
    import tvm_ffi
    from tvm import s_tir, tirx
    from tvm.tirx.build import split_host_device_mods, tir_to_runtime

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
    target = tvm.target.Target(TARGET)
    target = target.with_host(target)
    mod = tvm.IRModule({"main": func})
    mod = tirx.transform.BindTarget(target)(mod)

    violations, _ = P.check(pass_list)
    res["violations"] = [v.explain() for v in violations]
    instrument = make_instrument(signal)
    for i, pc in enumerate(pass_list):
        stage(f"pass:{i}:{P.pass_label(pc)}")
        try:
            with tvm.transform.PassContext(opt_level=3, instruments=[instrument]):
                mod = P.instantiate(pc)(mod)
        except Exception as e:
            res.update(status="pass_error", pass_index=i, pass_name=P.pass_label(pc), error=_err(e),
                       explained=any(v.index <= i for v in violations))
            res["signal"] = sorted(signal)
            if gate is not None:
                gate.signals(signal)
            return res
    res["signal"] = sorted(signal)
    if gate is not None:
        gate.signals(signal)
    explained = bool(violations)
    stage("verify")
    try:
        for _, f in mod.functions.items():
            if isinstance(f, tirx.PrimFunc):
                s_tir.analysis.verify_well_formed(f)
    except Exception as e:
        res.update(status="ill_formed", error=_err(e), explained=explained)
        return res
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
    if not explained:
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
        host, dev = split_host_device_mods(mod)
        rt = tir_to_runtime(host, dev, target)
    except Exception as e:
        res.update(status="codegen_error", error=_err(e), explained=explained)
        return res
    if not differential or explained or oob or res["racy"] or (same_tir_known(res) and (reference is None or ir_mutated)):
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
    if ref_outs is not None:
        for k, (a, b) in enumerate(zip(outs, ref_outs, strict=True)):
            if not _close(a, b):
                res.update(status="mismatch", against="default pipeline", buffer=k,
                           max_abs_diff=float(np.nanmax(np.abs(a.astype("float64") - b.astype("float64")))))
                return res
    if reference is not None and not ir_mutated:
        n_out = 1
        expected = reference(args[:-n_out])
        for k, (a, b) in enumerate(zip(outs[-n_out:], expected, strict=False)):
            if not _close(a, np.asarray(b)):
                res.update(status="mismatch", against="numpy", buffer=len(args) - n_out + k,
                           max_abs_diff=float(np.nanmax(np.abs(a.astype("float64") - np.asarray(b, "float64")))))
                return res
    return res
