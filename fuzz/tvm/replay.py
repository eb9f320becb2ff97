"""The part of a case's execution that a reproducer replays: pass construction, lowering, build,
inputs, run, comparison.  Needs only ``tvm`` and ``numpy``.

:mod:`irtoolkit.fuzz.tvm.execute` calls these functions, and :func:`irtoolkit.fuzz.findings.reproducer_source`
inlines this very file into each ``reproducer.py``: the replay cannot drift from the run that
found the bug (it once did: a hand-written copy of ``random_args`` had no bool branch).
Keep it free of imports from ``irtoolkit.fuzz``.
"""

from __future__ import annotations

import re

import numpy as np

TARGET = {"kind": "llvm"}

# Verifier complaints about forms TVM produces itself and treats as legal: not ill-formed.
LEGAL_FORMS = (
    (re.compile(r"undefined variable \S+ at <root>[\w.\[\]]*\.node\b"),
     "LowerOpaqueBlock turns a loop's pragma annotation into an AttrStmt on the loop variable placed before the "
     "loop (TVM's own lowering form, read by code generation)"),
)


def legal_form(message: str) -> str | None:
    return next((why for rx, why in LEGAL_FORMS if rx.search(message or "")), None)


def llvm_target():
    import tvm

    target = tvm.target.Target(TARGET)
    return target.with_host(target)


def case_target(func):
    """The target a case compiles for: the PrimFunc's own ``target`` attribute when it has one (a GPU
    target with an llvm host, or the C source target, as the fuzzer's ``retarget`` step sets), else llvm."""
    attrs = func.attrs
    if attrs is None or "target" not in attrs:
        return llvm_target()
    t = attrs["target"]
    return t if t.host is not None else t.with_host(t)


# Targets whose code runs on this machine's CPU (llvm) or is host C source; every other kind is a GPU's.
CPU_KINDS = ("llvm", "c")


def is_gpu(target) -> bool:
    return target.kind.name not in CPU_KINDS


def runs_here(target) -> bool:
    """Whether a case built for ``target`` is run: llvm code for this machine's triple and CPU only (C
    source, GPU code and other CPUs' code are compiled, not run)."""
    attrs = dict(target.attrs)
    return target.kind.name == "llvm" and str(attrs.get("mtriple") or "x86_64").startswith("x86_64") \
        and not attrs.get("mcpu") and not attrs.get("mattr")


def target_label(target) -> str:
    """A short name of a case's target for reports: ``cuda``, ``llvm aarch64-linux-gnu +sve``."""
    attrs = dict(target.attrs)
    bits = [target.kind.name, *(str(attrs[k]) for k in ("mtriple", "mcpu", "arch") if attrs.get(k))]
    if attrs.get("mattr"):
        bits.append(",".join(str(a) for a in attrs["mattr"]))
    return " ".join(bits)


def _cuda_source_only() -> None:
    """CUDA code generation without nvcc: TVM's CUDA code generator runs in full, and the kernel
    source stands in for the PTX that nvcc would have made (no GPU runs it)."""
    import tvm_ffi

    @tvm_ffi.register_global_func("tvm_callback_cuda_compile", override=True)
    def _source(code, target):  # noqa: ARG001 - TVM's callback signature
        return code.encode() if isinstance(code, str) else code


# Options a pass reads from the PassContext rather than from its constructor: the config key it reads.
# A pass-list entry spells them as arguments "config.<field>" (so mutation, reduction and the
# reproducer carry them like any other argument); ``split_args`` turns them into the config.
PASS_CONFIG = {"tirx.UnrollLoop": "tirx.UnrollLoop", "s_tir.LoopPartition": "s_tir.LoopPartition",
               "s_tir.HoistIfThenElse": "s_tir.HoistIfThenElse", "s_tir.HoistExpression": "s_tir.HoistExpression",
               "tirx.RemoveNoOp": "tirx.RemoveNoOp", "tirx.StmtSimplify": "tirx.StmtSimplify",
               "s_tir.StmtSimplify": "tirx.StmtSimplify", "s_tir.InjectDoubleBuffer": "s_tir.InjectDoubleBuffer"}


def split_args(name: str, args: dict) -> tuple[dict, dict]:
    """(constructor arguments, PassContext config) of one pass-list entry."""
    ctor = {k: v for k, v in args.items() if not k.startswith("config.")}
    opts = {k[len("config."):]: v for k, v in args.items() if k.startswith("config.")}
    return ctor, ({PASS_CONFIG[name]: opts} if opts else {})


def make_pass(name: str, args: dict):
    """The TVM pass object for ``["tirx.X", {args}]`` (its config options left out: see
    :func:`pass_context`)."""
    from tvm import s_tir, tirx

    ns = tirx.transform if name.startswith("tirx.") else s_tir.transform
    return getattr(ns, name.split(".", 1)[1])(**split_args(name, args)[0])


def pass_context(name: str, args: dict, **kw):
    """The PassContext one pass-list entry runs under: opt_level 3 and the entry's config options."""
    import tvm

    return tvm.transform.PassContext(opt_level=3, config=split_args(name, args)[1], **kw)


def bind(func, target):
    import tvm
    from tvm import tirx

    return tirx.transform.BindTarget(target)(tvm.IRModule({"main": func}))


def verify_module(mod) -> None:
    """``s_tir.analysis.verify_well_formed`` on every PrimFunc of ``mod`` (raises when ill-formed; a
    complaint about one of TVM's own legal forms, :data:`LEGAL_FORMS`, is none)."""
    from tvm import s_tir, tirx

    for _, f in mod.functions.items():
        if isinstance(f, tirx.PrimFunc):
            try:
                s_tir.analysis.verify_well_formed(f)
            except Exception as e:
                if legal_form(str(e)) is None:
                    raise


def build(mod, target):
    """Code generation of a lowered module as ``tvm.compile`` does it: the host/device split, TVM's
    device finalisation passes on each device module, the runtime module (host code by the target's
    host: llvm, or C source for the ``c`` target)."""
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes
    from tvm.tirx.build import split_host_device_mods, tir_to_runtime

    host, dev = split_host_device_mods(mod)
    if any(len(m.functions) for m in dev.values()):
        _cuda_source_only()
        with tvm.transform.PassContext(opt_level=3):
            dev = {t: finalize_device_passes()(m) for t, m in dev.items()}
    return tir_to_runtime(host, dev, target.host or target)


def random_args(func, rng: np.random.Generator) -> list[np.ndarray]:
    """Inputs for every buffer parameter (outputs too: a program may read them)."""
    out = []
    for param in func.params:
        try:  # in 0.27 a buffer parameter is a Var of BufferType
            shape = [int(s) for s in param.shape]
            dtype = str(param.dtype)
        except Exception as e:
            raise ValueError(f"parameter {param} is not a buffer of static shape") from e
        if dtype.startswith(("float", "bfloat")):
            out.append(rng.uniform(-1, 1, size=shape).astype(dtype))
        elif dtype.startswith(("int", "uint")):
            out.append(rng.integers(0, 100, size=shape).astype(dtype))
        elif dtype == "bool":
            out.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            raise ValueError(f"unsupported dtype {dtype}")
    return out


def run(main, arrays):
    import tvm

    tensors = [tvm.runtime.tensor(a.copy()) for a in arrays]
    main(*tensors)
    return [t.numpy() for t in tensors]


def close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f" or "bfloat" in str(a.dtype):
        # a 16-bit float has 3 decimal digits: one rounding apart is a relative 1e-3
        tol = (1e-2, 1e-2) if a.dtype.itemsize <= 2 else (1e-3, 1e-4)
        return bool(np.allclose(a.astype("float64"), np.asarray(b, "float64"), rtol=tol[0], atol=tol[1],
                                equal_nan=True))
    return bool(np.array_equal(a, b))


def max_abs_diff(a: np.ndarray, b) -> float:
    return float(np.nanmax(np.abs(a.astype("float64") - np.asarray(b, "float64"))))
