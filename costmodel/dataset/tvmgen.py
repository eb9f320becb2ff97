"""GPU samples from TVM: TE workloads × sampled CUDA schedules → NVPTX LLVM IR → ptxas labels.

TVM's CUDA code generation needs no GPU.  Its CUDA C is compiled for the device only by clang-22
(``--cuda-device-only -nocudainc -nocudalib`` with a small prelude for the CUDA keywords), which gives
the NVPTX LLVM IR our features read; llc-22 and ptxas -v then label it for sm_80 and sm_90.  The origin
program is the workload instance (operator and shapes); its schedules are the configurations.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from .. import tools
from .labellers import LabelError, Labels

PRELUDE = """\
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __host__ __attribute__((host))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __forceinline__ __inline__ __attribute__((always_inline))
#include <__clang_cuda_builtin_vars.h>
__device__ static inline float max(float a, float b) { return a > b ? a : b; }
__device__ static inline float min(float a, float b) { return a < b ? a : b; }
__device__ static inline int max(int a, int b) { return a > b ? a : b; }
__device__ static inline int min(int a, int b) { return a < b ? a : b; }
"""

_LAUNCH = re.compile(r'__global__\s+void\s+__launch_bounds__\((\d+)\)\s+(\w+)\(')


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def workload(seed: int):
    """(name, te tensors [inputs..., output], output op name, is_matmul_like) for one origin program."""
    from tvm import te

    rng = np.random.default_rng(seed)
    kind = _pick(rng, ["matmul", "bmm", "conv2d", "elementwise", "reduce"])
    dt = _pick(rng, ["float32", "float32", "int32"])   # float16 needs cuda_fp16.h, absent without CUDA
    if kind == "matmul":
        m, n, k = (int(_pick(rng, [64, 128, 256, 512])) for _ in range(3))
        A, B = te.placeholder((m, k), dt, "A"), te.placeholder((k, n), dt, "B")
        r = te.reduce_axis((0, k), "k")
        C = te.compute((m, n), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), "C")
        return f"tvm_matmul_{dt}_{m}x{n}x{k}", [A, B, C], True
    if kind == "bmm":
        b, m, n, k = int(_pick(rng, [2, 4, 8])), *(int(_pick(rng, [32, 64, 128])) for _ in range(3))
        A, B = te.placeholder((b, m, k), dt, "A"), te.placeholder((b, k, n), dt, "B")
        r = te.reduce_axis((0, k), "k")
        C = te.compute((b, m, n), lambda x, i, j: te.sum(A[x, i, r] * B[x, r, j], axis=r), "C")
        return f"tvm_bmm_{dt}_{b}x{m}x{n}x{k}", [A, B, C], True
    if kind == "conv2d":
        n, ci, co = 1, int(_pick(rng, [16, 32, 64])), int(_pick(rng, [16, 32, 64]))
        hw, ks = int(_pick(rng, [14, 28, 56])), int(_pick(rng, [1, 3, 5]))
        pad = ks // 2
        X, W = te.placeholder((n, ci, hw, hw), dt, "X"), te.placeholder((co, ci, ks, ks), dt, "W")
        rc, ry, rx = te.reduce_axis((0, ci), "rc"), te.reduce_axis((0, ks), "ry"), te.reduce_axis((0, ks), "rx")

        def body(b, o, y, x):
            yy, xx = y + ry - pad, x + rx - pad
            inside = te.all(yy >= 0, yy < hw, xx >= 0, xx < hw)
            v = te.if_then_else(inside, X[b, rc, yy, xx], te.const(0, dt))
            return te.sum(v * W[o, rc, ry, rx], axis=[rc, ry, rx])

        C = te.compute((n, co, hw, hw), body, "C")
        return f"tvm_conv2d_{dt}_{ci}x{co}x{hw}k{ks}", [X, W, C], True
    if kind == "elementwise":
        shape = (int(_pick(rng, [256, 1024, 4096])), int(_pick(rng, [16, 64, 256])))
        ins = [te.placeholder(shape, dt, f"I{j}") for j in range(int(rng.integers(2, 5)))]
        ops = [_pick(rng, ["+", "*", "-", "max"]) for _ in ins[1:]]

        def ew(i, j):
            v = ins[0][i, j]
            for t, op in zip(ins[1:], ops, strict=True):
                w = t[i, j]
                v = v + w if op == "+" else v * w if op == "*" else v - w if op == "-" else te.max(v, w)
            return v

        C = te.compute(shape, ew, "C")
        return f"tvm_ew_{dt}_{len(ins)}_{'_'.join('max' if o == 'max' else 'op' for o in ops)}_{shape[0]}x{shape[1]}", \
            [*ins, C], False
    rows, cols = int(_pick(rng, [128, 1024, 4096])), int(_pick(rng, [64, 256, 1024]))
    A = te.placeholder((rows, cols), dt, "A")
    r = te.reduce_axis((0, cols), "k")
    C = te.compute((rows,), lambda i: te.sum(A[i, r] * A[i, r], axis=r), "C")
    return f"tvm_reduce_{dt}_{rows}x{cols}", [A, C], True


def schedule(tensors, matmul_like: bool, seed: int):
    """A sampled GPU schedule of the output block; returns (IRModule, knobs)."""
    import tvm
    from tvm import s_tir, te

    rng = np.random.default_rng(seed)
    mod = tvm.IRModule({"main": te.create_prim_func(tensors)})
    sch = s_tir.Schedule(mod)
    blk = sch.get_sblock("C")
    loops = sch.get_loops(blk)
    nsp = len(tensors[-1].shape)
    spatial, red = loops[:nsp], loops[nsp:]
    knobs = {"threads": int(_pick(rng, [32, 64, 128, 256, 512, 1024])),
             "inner": int(_pick(rng, [1, 1, 2, 4, 8])), "unroll_k": int(_pick(rng, [1, 1, 2, 4, 8, 16])),
             "shared": bool(matmul_like and rng.random() < 0.4), "local_acc": bool(red and rng.random() < 0.4)}
    fused = sch.fuse(*spatial) if len(spatial) > 1 else spatial[0]
    bx, tx, inner = sch.split(fused, [None, knobs["threads"], knobs["inner"]])
    sch.bind(bx, "blockIdx.x")
    sch.bind(tx, "threadIdx.x")
    if red and knobs["unroll_k"] > 1:
        ko, ki = sch.split(red[-1], [None, knobs["unroll_k"]])
        sch.unroll(ki)
    if knobs["local_acc"]:
        acc = sch.cache_write(blk, 0, "local")
        sch.reverse_compute_at(acc, tx)
    if knobs["shared"]:
        for idx in range(len(tensors) - 1):
            sh = sch.cache_read(blk, idx, "shared")
            sch.compute_at(sh, tx if knobs["threads"] <= 64 else bx)
            ls = sch.get_loops(sh)
            depth = len(sch.get_loops(blk)) - len(sch.get_loops(blk)) + (2 if knobs["threads"] > 64 else 3)
            rest = ls[depth - 1:] if len(ls) >= depth else ls[-1:]
            f2 = sch.fuse(*rest) if len(rest) > 1 else rest[0]
            _, t2 = sch.split(f2, [None, knobs["threads"]])
            sch.bind(t2, "threadIdx.x")
    if knobs["inner"] > 1 and rng.random() < 0.5:
        sch.unroll(inner)
        knobs["unroll_inner"] = True
    return sch.mod, knobs


def cuda_to_nvptx_ll(cuda_src: str, work: Path, arch: str = "sm_90") -> str:
    clang = tools.require("clang-22")
    work.mkdir(parents=True, exist_ok=True)
    (work / "cuda.h").write_text("/* TVM's kernels use no driver API */\n")
    (work / "prelude.h").write_text(PRELUDE)
    (work / "k.cu").write_text(cuda_src)
    argv = [clang, "--cuda-device-only", f"--cuda-gpu-arch={arch}", "-nocudainc", "-nocudalib", "-I.",
            "-include", "prelude.h", "-O3", "-x", "cuda", "-Wno-unknown-cuda-version", "-S", "-emit-llvm",
            "k.cu", "-o", "k.ll"]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=work)
    if proc.returncode != 0:
        raise LabelError(f"clang-22 (CUDA device) failed: {proc.stderr[-1500:]}")
    return (work / "k.ll").read_text()


def sample(seed: int, sched_seed: int, work: Path) -> tuple[str, str, dict, str, Labels]:
    """(origin, ir_text, knobs, cuda_src, labels) for one workload × schedule."""
    import tvm

    from .labellers import PtxasLabeller

    name, tensors, mm = workload(seed)
    try:
        mod, knobs = schedule(tensors, mm, sched_seed)
        ex = tvm.compile(mod, target={"kind": "cuda", "arch": "sm_90"})
    except Exception as e:   # a sampled schedule TVM rejects is skipped, not a dataset failure
        raise LabelError(f"TVM rejected schedule {sched_seed} of {name}: {str(e).splitlines()[0][:300]}") from None
    src = ex.mod.imports[0].inspect_source()
    ll = cuda_to_nvptx_ll(src, work)
    blocks = {m.group(2): int(m.group(1)) for m in _LAUNCH.finditer(src)}
    (work / "k.ll").write_text(ll)
    labels = PtxasLabeller().label(work / "k.ll", work / "ptx", blocks)
    return name, ll, knobs, src, labels
