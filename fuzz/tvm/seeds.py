"""Seed PrimFuncs from TE/TOPI operators, at several shapes, with and without schedules.

A seed is TVMScript text (the corpus format) plus, where one exists, a NumPy reference of the
unmutated function, so the differential oracle can compare against NumPy as well as against the
default pipeline.  References are keyed by seed name and live here, in code, never on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Seed:
    name: str
    script: str  # TVMScript of the PrimFunc


Ref = Callable[[list[np.ndarray]], list[np.ndarray]]
# name -> reference: given the input arrays (all params but the outputs), the expected outputs
REFERENCES: dict[str, Ref] = {}
N_OUTPUTS: dict[str, int] = {}


def _te():
    import tvm  # noqa: F401  (registers everything te needs)
    from tvm import te, topi

    return te, topi


def _matmul(n, m, k):
    te, _ = _te()
    A = te.placeholder((n, k), name="A")
    B = te.placeholder((k, m), name="B")
    r = te.reduce_axis((0, k), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
    return [A, B, C], lambda x: [x[0] @ x[1]]


def _conv2d(n, c, h, w, o, kk):
    te, topi = _te()
    X = te.placeholder((n, c, h, w), name="X")
    W = te.placeholder((o, c, kk, kk), name="W")
    Y = topi.nn.conv2d_nchw(X, W, stride=1, padding=1, dilation=1)

    def ref(x):  # NumPy only: tvm.topi.testing pulls in SciPy, seconds per fresh process
        a = np.pad(x[0], ((0, 0), (0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(a, (kk, kk), axis=(2, 3))  # n c h w kh kw
        return [np.einsum("nchwij,ocij->nohw", win, x[1]).astype(x[0].dtype)]

    return [X, W, Y], ref


def _pool(kind, shape, k):
    te, topi = _te()
    X = te.placeholder(shape, name="X")
    Y = topi.nn.pool2d(X, (k, k), (k, k), (1, 1), (0, 0, 0, 0), kind, layout="NCHW")

    def ref(x):
        a = x[0]
        n, c, h, w = a.shape
        v = a[:, :, : h // k * k, : w // k * k].reshape(n, c, h // k, k, w // k, k)
        return [v.max(axis=(3, 5)) if kind == "max" else v.mean(axis=(3, 5))]

    return [X, Y], ref


def _softmax(shape):
    te, topi = _te()
    X = te.placeholder(shape, name="X")
    Y = topi.nn.softmax(X, axis=-1)

    def ref(x):
        e = np.exp(x[0] - x[0].max(axis=-1, keepdims=True))
        return [e / e.sum(axis=-1, keepdims=True)]

    return [X, Y], ref


def _reduce(kind, shape, axis):
    te, topi = _te()
    X = te.placeholder(shape, name="X")
    Y = {"sum": topi.sum, "max": topi.max}[kind](X, axis=axis)
    return [X, Y], lambda x: [getattr(np, kind)(x[0], axis=axis)]


def _elementwise(kind, shape, dtype="float32"):
    te, topi = _te()
    A = te.placeholder(shape, name="A", dtype=dtype)
    B = te.placeholder(shape, name="B", dtype=dtype)
    if kind == "add_relu":
        C = te.compute(shape, lambda *i: te.max(A(*i) + B(*i), te.const(0, dtype)), name="C")
        ref = lambda x: [np.maximum(x[0] + x[1], 0).astype(dtype)]
    elif kind == "where":
        C = te.compute(shape, lambda *i: te.if_then_else(A(*i) > B(*i), A(*i) - B(*i), B(*i) * 2), name="C")
        ref = lambda x: [np.where(x[0] > x[1], x[0] - x[1], x[1] * 2).astype(dtype)]
    elif kind == "exp":
        C = topi.exp(A)
        ref = lambda x: [np.exp(x[0])]
        return [A, C], ref
    else:  # bitwise mix on integers
        C = te.compute(shape, lambda *i: (A(*i) & 255) ^ (B(*i) >> 1), name="C")
        ref = lambda x: [((x[0] & 255) ^ (x[1] >> 1)).astype(dtype)]
    return [A, B, C], ref


def _cumsum(shape, axis):
    te, topi = _te()
    X = te.placeholder(shape, name="X")
    Y = topi.cumsum(X, axis=axis)
    return [X, Y], lambda x: [np.cumsum(x[0], axis=axis, dtype="float32")]


def _transpose_pad(shape):
    te, topi = _te()
    X = te.placeholder(shape, name="X")
    Y = topi.nn.pad(topi.transpose(X, (1, 0)), (1, 2), (2, 1))
    return [X, Y], lambda x: [np.pad(x[0].T, ((1, 2), (2, 1)))]


def _schedule_matmul(func, tile):
    """Tile, reorder, vectorise and parallelise the reduction block (a typical CPU schedule)."""
    from tvm import s_tir

    sch = s_tir.Schedule(func)
    blk = sch.get_sblock("C")
    i, j, k = sch.get_loops(blk)
    io, ii = sch.split(i, [None, tile])
    jo, ji = sch.split(j, [None, tile])
    sch.reorder(io, jo, k, ii, ji)
    sch.parallel(io)
    sch.vectorize(ji)
    sch.unroll(ii)
    sch.decompose_reduction(blk, k)
    return sch.mod["main"]


def _schedule_elementwise(func, factor):
    from tvm import s_tir

    sch = s_tir.Schedule(func)
    blk = sch.get_sblock("C")
    loops = sch.get_loops(blk)
    fused = sch.fuse(*loops)
    o, i = sch.split(fused, [None, factor])
    sch.parallel(o)
    sch.vectorize(i)
    return sch.mod["main"]


_BUILDERS: list[tuple[str, Callable, Callable | None]] = [
    ("matmul_16", lambda: _matmul(16, 16, 16), None),
    ("matmul_7x9x5", lambda: _matmul(7, 9, 5), None),
    ("matmul_32_tiled", lambda: _matmul(32, 32, 16), lambda f: _schedule_matmul(f, 8)),
    ("matmul_24_tiled4", lambda: _matmul(24, 12, 8), lambda f: _schedule_matmul(f, 4)),
    ("conv2d_1x3x8x8", lambda: _conv2d(1, 3, 8, 8, 4, 3), None),
    ("conv2d_1x2x5x7", lambda: _conv2d(1, 2, 5, 7, 3, 3), None),
    ("maxpool_2", lambda: _pool("max", (1, 2, 8, 8), 2), None),
    ("avgpool_3", lambda: _pool("avg", (1, 3, 9, 9), 3), None),
    ("softmax_4x16", lambda: _softmax((4, 16)), None),
    ("softmax_3x5x7", lambda: _softmax((3, 5, 7)), None),
    ("sum_axis1", lambda: _reduce("sum", (8, 12), 1), None),
    ("max_axis0", lambda: _reduce("max", (10, 6), 0), None),
    ("add_relu_64", lambda: _elementwise("add_relu", (64,)), None),
    ("add_relu_8x8_sched", lambda: _elementwise("add_relu", (8, 8)), lambda f: _schedule_elementwise(f, 8)),
    ("where_5x6", lambda: _elementwise("where", (5, 6)), None),
    ("exp_33", lambda: _elementwise("exp", (33,)), None),
    ("bitmix_i32_16x4", lambda: _elementwise("bitmix", (16, 4), "int32"), None),
    ("cumsum_6x7", lambda: _cumsum((6, 7), 1), None),
    ("transpose_pad_5x3", lambda: _transpose_pad((5, 3)), None),
]


_BUILT: list[Seed] = []


def build_seeds() -> list[Seed]:
    """Create every seed (needs TVM; built once per process); fills :data:`REFERENCES` on the way."""
    if _BUILT:
        return list(_BUILT)
    _te()
    from tvm import te

    seeds = []
    for name, make, schedule in _BUILDERS:
        tensors, ref = make()
        func = te.create_prim_func(tensors)
        if schedule is not None:
            func = schedule(func)
        REFERENCES[name] = ref
        N_OUTPUTS[name] = 1
        seeds.append(Seed(name, func.script()))
    _BUILT.extend(seeds)
    return seeds


def reference(name: str) -> Ref | None:
    if not REFERENCES:
        build_seeds()
    return REFERENCES.get(name)


SEED_NAMES = [b[0] for b in _BUILDERS]
