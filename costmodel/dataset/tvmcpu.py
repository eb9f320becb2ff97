"""CPU samples from TVM: TE/TOPI workloads × schedules sampled from MetaSchedule's own design space →
TVM's LLVM IR → llc-22 labels and instructions executed.

The schedules are the ones a MetaSchedule tuning run explores: ``PostOrderApply`` with the default
CPU schedule rules makes the design space, its sampling instructions (tile sizes, compute locations,
parallel extent, unroll depth) draw their decisions from the sample's seed, and the default
postprocessors turn the annotations into parallel, vectorised and unrolled loops.  So the rows describe
the IR our MetaSchedule cost model (:mod:`irtoolkit.costmodel.integrations.tvm`) reads for its first-round
prior, and all through tuning with ``features="llvm"``.

Rows are the kernel functions: ``main_compute_`` and the ``__tvm_parallel_lambda*`` bodies of its
parallel loops (TVM's FFI argument checking and error glue is left out, as the MetaSchedule model
leaves it out).  Instructions executed come from a C harness that calls the module's exported FFI
function through the TVM FFI C ABI (headers from the wheel) with one CPU thread: its parallel launcher
runs each lambda once for the whole range and dumps callgrind's counters before and after, so each
lambda's count is its own and ``main_compute_``'s is the rest of the work under it (``--toggle-collect``
leaves the FFI glue out).  Parallel lambdas are private in TVM's IR (no symbol); the copy that is
labelled gives them internal linkage so that they get symbols and sizes; the stored IR is TVM's own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .. import tools
from .cgen import _pick
from .labellers import LabelError, Labels, Provenance, _run

# TVM's runtime glue; the body of a parallel loop lives in "__tvm_parallel_lambda*" and is kept
GLUE_PREFIXES = ("__tvm_ffi_", "__tvm_set_raised", "__truncsfhf2", "__extendhfsf2")
ENTRY = "main_compute_"
TIMEOUT_S = 120      # a schedule whose serial run takes longer under valgrind is skipped
MCPUS = ("x86-64", "x86-64", "x86-64-v2", "x86-64-v3")
# the shapes the tuning comparison tunes (irtoolkit.costmodel.integrations.tvm_tuning) are never generated, so its
# prior has not seen the exact programs it ranks
_TUNED = {("matmul", (128, 128, 128)), ("bmm", (4, 64, 64, 64)), ("conv2d", (16, 16, 28, 3)),
          ("softmax", (128, 256)), ("layernorm", (128, 256))}
_PRIVATE_LAMBDA = re.compile(r"^define private (.*@__tvm_parallel_lambda)", re.M)
_TBAA_ADDR = re.compile(r'!"0x[0-9a-f]+"')


def is_kernel(fn: str) -> bool:
    return not fn.startswith(GLUE_PREFIXES)


def workload(seed: int):
    """(name, PrimFunc, [(shape, dtype) of each argument]) of one origin program; sizes keep a serial
    run under ~10M instructions."""
    from tvm import te, topi

    rng = np.random.default_rng(seed)
    while True:
        kind = _pick(rng, ["matmul", "matmul", "bmm", "conv2d", "softmax", "layernorm", "elementwise",
                           "reduce", "dense_relu"])
        dt = _pick(rng, ["float32", "float32", "float32", "int32"])
        if kind in ("softmax", "layernorm"):
            dt = "float32"
        if kind in ("matmul", "dense_relu"):
            dims = tuple(int(_pick(rng, [16, 32, 48, 64, 96, 128])) for _ in range(3))
        elif kind == "bmm":
            dims = (int(_pick(rng, [2, 4, 8])), *(int(_pick(rng, [16, 32, 64])) for _ in range(3)))
        elif kind == "conv2d":
            dims = (int(_pick(rng, [4, 8, 16])), int(_pick(rng, [8, 16, 32])), int(_pick(rng, [8, 14, 28])),
                    int(_pick(rng, [1, 3])))
        elif kind in ("softmax", "layernorm"):
            # some design-space schedules recompute the row statistics per element (quadratic in cols)
            dims = (int(_pick(rng, [16, 32, 64])), int(_pick(rng, [64, 128, 256])))
        else:
            dims = (int(_pick(rng, [32, 64, 128, 256])), int(_pick(rng, [64, 128, 256, 512])))
        if (kind, dims) not in _TUNED:
            break
    name = f"tvmcpu_{kind}_{dt}_{'x'.join(map(str, dims))}"
    if kind in ("matmul", "dense_relu"):
        m, n, k = dims
        A = te.placeholder((m, k), dt, "A")
        B = te.placeholder((k, n) if kind == "matmul" else (n, k), dt, "B")
        r = te.reduce_axis((0, k), "k")
        if kind == "matmul":
            out = te.compute((m, n), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), "C")
        else:
            d = te.compute((m, n), lambda i, j: te.sum(A[i, r] * B[j, r], axis=r), "D")
            out = te.compute((m, n), lambda i, j: te.max(d[i, j], te.const(0, dt)), "C")
        args = [A, B, out]
    elif kind == "bmm":
        b, m, n, k = dims
        A, B = te.placeholder((b, m, k), dt, "A"), te.placeholder((b, k, n), dt, "B")
        r = te.reduce_axis((0, k), "k")
        args = [A, B, te.compute((b, m, n), lambda x, i, j: te.sum(A[x, i, r] * B[x, r, j], axis=r), "C")]
    elif kind == "conv2d":
        ci, co, hw, ks = dims
        X, W = te.placeholder((1, ci, hw, hw), dt, "X"), te.placeholder((co, ci, ks, ks), dt, "W")
        args = [X, W, topi.nn.conv2d_nchw(X, W, stride=1, padding=ks // 2, dilation=1)]
    elif kind == "softmax":
        X = te.placeholder(dims, dt, "X")
        args = [X, topi.nn.softmax(X, axis=1)]
    elif kind == "layernorm":
        X = te.placeholder(dims, dt, "X")
        g, b = te.placeholder(dims[1:], dt, "gamma"), te.placeholder(dims[1:], dt, "beta")
        args = [X, g, b, topi.nn.layer_norm(X, g, b, axis=[1])]
    elif kind == "elementwise":
        ins = [te.placeholder(dims, dt, f"I{j}") for j in range(int(rng.integers(2, 4)))]
        ops = [_pick(rng, ["+", "*", "max"]) for _ in ins[1:]]

        def ew(i, j):
            v = ins[0][i, j]
            for t, op in zip(ins[1:], ops, strict=True):
                w = t[i, j]
                v = v + w if op == "+" else v * w if op == "*" else te.max(v, w)
            return v

        args = [*ins, te.compute(dims, ew, "C")]
        name += "_" + "".join({"+": "a", "*": "m", "max": "x"}[o] for o in ops)
    else:
        A = te.placeholder(dims, dt, "A")
        r = te.reduce_axis((0, dims[1]), "k")
        args = [A, te.compute(dims[:1], lambda i: te.sum(A[i, r] * A[i, r], axis=r), "C")]
    specs = [(tuple(int(d) for d in t.shape), str(t.dtype)) for t in args]
    return name, te.create_prim_func(args), specs


def target_for(seed: int) -> dict:
    rng = np.random.default_rng(seed + 7_919)
    return {"kind": "llvm", "mcpu": _pick(rng, MCPUS), "num-cores": int(_pick(rng, [1, 1, 2, 4]))}


def schedule(func, target: dict, seed: int):
    """One schedule from MetaSchedule's CPU design space with decisions drawn from ``seed``; returns
    (IRModule, knobs).  Raises LabelError when a postprocessor rejects the sample (as tuning would)."""
    import tvm
    from tvm.s_tir import meta_schedule as ms

    mod = tvm.IRModule({"main": func})
    ctx = ms.TuneContext(mod=mod, target=tvm.target.Target(target), space_generator="post-order-apply",
                         task_name="dataset", rand_state=seed, num_threads=1)
    spaces = ctx.generate_design_space()
    k = int(np.random.default_rng(seed).integers(len(spaces)))
    sch = spaces[k].copy()
    for p in ctx.space_generator.postprocs:
        if not p.apply(sch):
            raise LabelError(f"MetaSchedule postprocessor {type(p).__name__} rejected sample {seed}")
    decisions = [str(v) for v in sch.trace.decisions.values()]
    return sch.mod, {"design_space": k, "of": len(spaces), "decisions": decisions, "target": target}


def stable_text(ll: str) -> str:
    """TVM names its TBAA types after buffer addresses, so the same schedule compiles to a different
    text each time; named by order of first appearance instead (distinct stays distinct), the text
    and its hash are the same run after run."""
    names: dict[str, str] = {}
    return _TBAA_ADDR.sub(lambda m: names.setdefault(m.group(0), f'!"tvm.buffer{len(names)}"'), ll)


def internalise(ll: str) -> str:
    """TVM's IR with the parallel lambdas given internal linkage: same code, but symbols in the object."""
    return _PRIVATE_LAMBDA.sub(r"define internal \1", ll)


def _ffi_include() -> list[str]:
    import tvm_ffi

    root = Path(tvm_ffi.__file__).parent / "include"
    return [f"-I{root}"]


_DTYPE = {"float32": ("kDLFloat", 32, "float"), "int32": ("kDLInt", 32, "int32_t"),
          "float64": ("kDLFloat", 64, "double"), "int64": ("kDLInt", 64, "int64_t")}


def harness(args: list[tuple[tuple[int, ...], str]]) -> str:
    """C source that calls ``__tvm_ffi_main`` once with DLTensor arguments of these shapes and dtypes."""
    lines = ["#include <stdint.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
             "#include <tvm/ffi/c_api.h>", "#include <valgrind/callgrind.h>", "",
             "typedef struct { void *sync_handle; int32_t num_task; } Env;",
             "typedef int (*Lambda)(int, Env *, void *);",
             "int __tvm_ffi_main(void *, const TVMFFIAny *, int32_t, TVMFFIAny *);",
             "extern __attribute__((weak)) void *__TVMBackendParallelLaunch, *__TVMBackendParallelBarrier,",
             "    *__TVMBackendAllocWorkspace, *__TVMBackendFreeWorkspace;",
             "static Lambda seen[16];",
             'static const char *const names[16] = {"lambda0", "lambda1", "lambda2", "lambda3", "lambda4",',
             '  "lambda5", "lambda6", "lambda7", "lambda8", "lambda9", "lambda10", "lambda11", "lambda12",',
             '  "lambda13", "lambda14", "lambda15"};',
             "",
             "/* one thread: each lambda runs once over the whole range, its count dumped on its own */",
             "static int launch(Lambda f, void *cdata, int num_task) {",
             # first: main_compute_'s count holds its own instructions, not the harness's bookkeeping
             '  CALLGRIND_DUMP_STATS_AT("' + ENTRY + '");',
             "  (void)num_task;",
             "  int k = 0;",
             "  while (k < 16 && seen[k] && seen[k] != f) k++;",
             "  if (k == 16) { fprintf(stderr, \"too many parallel lambdas\\n\"); exit(3); }",
             "  seen[k] = f;",
             "  Env env = {0, 1};",
             "  int rc = f(0, &env, cdata);",
             "  CALLGRIND_DUMP_STATS_AT(names[k]);",
             "  return rc;",
             "}",
             "static int barrier(int task_id, Env *env) { (void)task_id; (void)env; return 0; }",
             "static void *alloc_ws(int dt, int di, uint64_t n, int c, int b) {",
             "  (void)dt; (void)di; (void)c; (void)b; return aligned_alloc(64, (n + 63) / 64 * 64);",
             "}",
             "static int free_ws(int dt, int di, void *p) { (void)dt; (void)di; free(p); return 0; }",
             "void TVMFFIErrorSetRaisedFromCStrParts(const char *kind, const char **parts, int32_t n) {",
             '  fprintf(stderr, "%s:", kind);',
             '  for (int i = 0; i < n; i++) fprintf(stderr, " %s", parts[i]);',
             '  fprintf(stderr, "\\n");',
             "}",
             "",
             "int main(void) {",
             "  if (&__TVMBackendParallelLaunch) __TVMBackendParallelLaunch = (void *)launch;",
             "  if (&__TVMBackendParallelBarrier) __TVMBackendParallelBarrier = (void *)barrier;",
             "  if (&__TVMBackendAllocWorkspace) __TVMBackendAllocWorkspace = (void *)alloc_ws;",
             "  if (&__TVMBackendFreeWorkspace) __TVMBackendFreeWorkspace = (void *)free_ws;",
             f"  DLTensor t[{len(args)}];",
             f"  TVMFFIAny a[{len(args)}];",
             "  memset(a, 0, sizeof a);"]
    for i, (shape, dtype) in enumerate(args):
        code, bits, ctype = _DTYPE[dtype]
        n = int(np.prod(shape)) if shape else 1
        lines += [f"  static int64_t shape{i}[] = {{{', '.join(map(str, shape or (1,)))}}};",
                  f"  {ctype} *d{i} = aligned_alloc(64, ({n} * sizeof({ctype}) + 63) / 64 * 64);",
                  # small values: no overflow in int kernels, no inf/NaN in float ones
                  f"  for (long j = 0; j < {n}; j++) d{i}[j] = ({ctype})((j * 7 + {i}) % 13) / ({ctype})4;",
                  f"  t[{i}] = (DLTensor){{d{i}, {{kDLCPU, 0}}, {len(shape)}, {{{code}, {bits}, 1}}, shape{i},"
                  " NULL, 0};",
                  f"  a[{i}].type_index = kTVMFFIDLTensorPtr;", f"  a[{i}].v_ptr = &t[{i}];"]
    n_out = int(np.prod(args[-1][0])) if args[-1][0] else 1
    lines += ["  TVMFFIAny result;", "  memset(&result, 0, sizeof result);",
              "  CALLGRIND_START_INSTRUMENTATION;",
              f"  int rc = __tvm_ffi_main(NULL, a, {len(args)}, &result);",
              # the tail of main_compute_ after its last lambda (collection is off again out here)
              '  CALLGRIND_DUMP_STATS_AT("' + ENTRY + '");',
              "  if (rc != 0) { fprintf(stderr, \"__tvm_ffi_main returned %d\\n\", rc); return 2; }",
              '  for (int k = 0; k < 16 && seen[k]; k++) printf("%s %p\\n", names[k], (void *)seen[k]);',
              # what the kernel computed, for checking the harness against TVM's own runtime
              "  double sum = 0;",
              f"  for (long j = 0; j < {n_out}; j++) sum += (double)d{len(args) - 1}[j];",
              '  printf("checksum %.17g\\n", sum);',
              "  return 0;", "}", ""]
    return "\n".join(lines)


def input_values(shape: tuple[int, ...], dtype: str, index: int) -> np.ndarray:
    """The values the harness puts in argument ``index`` (so a test can feed TVM's runtime the same)."""
    j = np.arange(int(np.prod(shape)) if shape else 1, dtype=np.int64)
    v = ((j * 7 + index) % 13).astype(dtype)
    return (v / 4 if dtype.startswith("float") else v // 4).astype(dtype).reshape(shape or (1,))


def count_instructions(obj: Path, specs, work: Path, lambdas: list[str]) -> tuple[Labels, float]:
    """Instructions executed by ``main_compute_`` (without its lambdas) and by each parallel lambda,
    and the sum of the output the kernel computed."""
    from irtools.measure import Pins
    from irtools.measure import callgrind as cg

    clang = tools.require("clang-22")
    (work / "harness.c").write_text(harness(specs))
    exe = work / "harness.exe"
    _run([clang, "-O1", "-march=x86-64", "-no-pie", *_ffi_include(), "harness.c", str(obj), "-lm", "-o", str(exe)],
         cwd=work)
    dumps = work / "cg"
    dumps.mkdir(exist_ok=True)
    for old in dumps.iterdir():
        old.unlink()
    argv = [a.replace("--collect-atstart=no", f"--toggle-collect={ENTRY}") for a in cg.command(dumps, regions=True)]
    proc = _run([*argv, str(exe)], cwd=work, timeout=TIMEOUT_S,
                env=Pins(warmup=0).environment({**os.environ, "LC_ALL": "C"}))
    totals: dict[str, float] = {}
    prefix = "Client Request: "
    for dump in sorted(dumps.iterdir()):
        trigger, total = cg.parse_dump(dump.read_bytes())
        if trigger.startswith(prefix):
            name = trigger[len(prefix):].strip()
            totals[name] = totals.get(name, 0.0) + float(total)
    # which lambda each launch ran: the harness prints the pointers, llvm-nm the symbols (no PIE)
    sym = {}
    nm = _run([tools.require("llvm-nm-22"), "--defined-only", str(exe)]).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("__tvm_parallel_lambda"):
            sym[int(parts[0], 16)] = parts[2]
    values: dict[str, dict[str, float]] = {}
    checksum = float("nan")
    for line in proc.stdout.splitlines():
        slot, ptr = line.split()
        if slot == "checksum":
            checksum = float(ptr)
            continue
        fn = sym.get(int(ptr, 16))
        if fn is None:
            raise LabelError(f"parallel launch of an unknown function at {ptr}")
        values[fn] = {"instructions_executed": totals.get(slot, 0.0)}
    if ENTRY not in totals:
        raise LabelError(f"callgrind counted nothing in {ENTRY}")
    values[ENTRY] = {"instructions_executed": totals[ENTRY]}
    missing = {fn: {"instructions_executed": "this parallel loop body did not run"} for fn in lambdas
               if fn not in values}
    opts = tuple(a for a in argv[1:] if not a.startswith("--callgrind-out-file"))
    prov = Provenance("valgrind", cg.valgrind_version(), "x86_64 (host, under valgrind), one TVM thread",
                      ("via TVM FFI C harness, parallel launches serial", *opts))
    return Labels(values, {"instructions_executed": prov}, missing), checksum


def sample(seed: int, sched_seed: int, work: Path, *, dynamic: bool = True):
    """(origin, TVM's IR text, knobs, labels of its kernel functions) for one workload × schedule."""
    import tvm

    from .rows import static_labels as _static_labels

    name, func, specs = workload(seed)
    target = target_for(sched_seed)
    try:
        mod, knobs = schedule(func, target, sched_seed)
        ll = stable_text(tvm.compile(mod, target=target).mod.inspect_source("ll"))
    except LabelError:
        raise
    except Exception as e:   # a sampled schedule TVM rejects is skipped, not a dataset failure
        raise LabelError(f"TVM rejected schedule {sched_seed} of {name}: {str(e).splitlines()[0][:300]}") from None
    work.mkdir(parents=True, exist_ok=True)
    path = work / "k.ll"
    path.write_text(internalise(ll))
    labels, obj = _static_labels(path, work)
    kernels = [fn for fn in labels.values if is_kernel(fn)]
    if dynamic:
        lambdas = [fn for fn in kernels if fn.startswith("__tvm_parallel_lambda")]
        labels = labels.merge(count_instructions(obj, specs, work, lambdas)[0])
    labels.values = {fn: v for fn, v in labels.values.items() if is_kernel(fn)}
    labels.missing = {fn: v for fn, v in labels.missing.items() if is_kernel(fn)}
    return name, ll, knobs, labels
