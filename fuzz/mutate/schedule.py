"""IR mutators that apply one random ``s_tir`` schedule primitive to a block-form PrimFunc.

Schedule primitives are TVM's own semantics-preserving IR rewrites (split, fuse, reorder, cache
stages, compute-at, inlining, rfactor, layout transforms...).  Applied at random they give the
passes loop nests, buffers and scopes that neither the seeds nor the expression/statement
mutators of :mod:`irtoolkit.fuzz.mutate.ir` produce, and they run TVM's scheduling code itself.  A
primitive whose checks refuse the request (``ScheduleError``) is a clean "nothing to do".
"""

from __future__ import annotations

import random


def _index_map():
    from tvm.tirx import IndexMap

    return IndexMap


def _blocks(sch) -> list:
    """Every non-root block of the function, as schedule block handles."""
    import tvm_ffi

    names: list[str] = []

    def visit(o):
        if type(o).__name__ == "SBlock" and o.name_hint != "root" and o.name_hint not in names:
            names.append(o.name_hint)

    tvm_ffi.structural_walk(sch.mod["main"].body, visit)
    out = []
    for n in names:
        try:
            out.append(sch.get_sblock(n))
        except Exception:  # noqa: BLE001 - duplicated block names cannot be addressed by name
            continue
    return out


def _loop(sch, blk, rng):
    loops = sch.get_loops(blk)
    return rng.choice(loops) if loops else None


def _perm(n: int, rng: random.Random) -> list[int]:
    p = list(range(n))
    rng.shuffle(p)
    return p


def _apply(sch, rng: random.Random) -> bool:
    IndexMap = _index_map()  # noqa: N806
    blocks = _blocks(sch)
    if not blocks:
        return False
    blk = rng.choice(blocks)
    loops = sch.get_loops(blk)
    prim = rng.choice(PRIMITIVES)
    if prim in ("split", "parallel", "vectorize", "unroll", "annotate", "blockize", "rfactor",
                "decompose_reduction", "compute_at", "reverse_compute_at") and not loops:
        return False
    if prim == "split":
        sch.split(rng.choice(loops), [None, rng.choice([2, 3, 4, 8, 16])])
    elif prim == "fuse":
        if len(loops) < 2:
            return False
        i = rng.randrange(len(loops) - 1)
        sch.fuse(*loops[i:i + rng.randint(2, len(loops) - i)])
    elif prim == "reorder":
        if len(loops) < 2:
            return False
        chosen = rng.sample(list(loops), rng.randint(2, len(loops)))
        sch.reorder(*chosen)
    elif prim == "parallel":
        sch.parallel(rng.choice(loops))
    elif prim == "vectorize":
        sch.vectorize(loops[-1] if rng.random() < 0.7 else rng.choice(loops))
    elif prim == "unroll":
        sch.unroll(rng.choice(loops))
    elif prim == "annotate":
        sch.annotate(rng.choice(loops), rng.choice(["pragma_auto_unroll_max_step", "pragma_unroll_explicit",
                                                     "software_pipeline_stage", "pragma_loop_partition_hint"]),
                     rng.choice([0, 1, 16]))
    elif prim == "compute_inline":
        sch.compute_inline(blk)
    elif prim == "reverse_compute_inline":
        sch.reverse_compute_inline(blk)
    elif prim == "cache_read":
        sch.cache_read(blk, rng.randrange(4), rng.choice(["global", "local", "shared"]))
    elif prim == "cache_write":
        sch.cache_write(blk, 0, rng.choice(["global", "local"]))
    elif prim == "set_scope":
        sch.set_scope(blk, 0, rng.choice(["global", "local"]))
    elif prim == "storage_align":
        sch.storage_align(blk, 0, rng.randrange(2), rng.choice([4, 8, 16]), rng.choice([0, 1, 2]))
    elif prim in ("compute_at", "reverse_compute_at"):
        # under a loop of a consumer (compute_at) or of a producer (reverse_compute_at)
        others = sch.get_consumers(blk) if prim == "compute_at" else sch.get_producers(blk)
        if not others:
            return False
        target = _loop(sch, rng.choice(others), rng)
        if target is None:
            return False
        if prim == "compute_at":
            sch.compute_at(blk, target, preserve_unit_loops=rng.random() < 0.5)
        else:
            sch.reverse_compute_at(blk, target)
    elif prim == "decompose_reduction":
        sch.decompose_reduction(blk, rng.choice(loops))
    elif prim == "rfactor":
        sch.rfactor(rng.choice(loops), 0)
    elif prim == "blockize":
        sch.blockize(rng.choice(loops))
    elif prim == "add_unit_loop":
        sch.add_unit_loop(blk)
    elif prim == "transform_layout":
        n = len(sch.get(blk).writes[0].region)
        perm = _perm(n, rng)
        sch.transform_layout(blk, ("write", 0), IndexMap.from_func(lambda *idx: [idx[p] for p in perm], ndim=n))
    elif prim == "transform_block_layout":
        n = len(sch.get(blk).iter_vars)
        if n < 2:
            return False
        perm = _perm(n, rng)
        sch.transform_block_layout(blk, IndexMap.from_func(lambda *iv: [iv[p] for p in perm], ndim=n))
    elif prim == "set_dtype":  # TVM refuses it for parameters, which are the interface
        sch.unsafe_set_dtype(blk, 0, rng.choice(["float16", "bfloat16", "float64", "int32", "int8"]))
    elif prim == "reindex":
        sch.reindex(blk, (rng.choice(["read", "write"]), 0))
    elif prim == "reorder_block_iter_var":
        n = len(sch.get(blk).iter_vars)
        if n < 2:
            return False
        sch.reorder_block_iter_var(blk, _perm(n, rng))
    elif prim == "cache_inplace":
        sch.cache_inplace(blk, 0, rng.choice(["global", "local"]))
    elif prim == "rolling_buffer":
        sch.rolling_buffer(blk, 0)
    elif prim == "decompose_padding":
        if not loops:
            return False
        sch.decompose_padding(blk, rng.choice(loops))
    elif prim == "cache_index":
        sch.cache_index(blk, rng.choice(["global", "local"]))
    else:  # pragma: no cover - PRIMITIVES and the branches above are kept in step
        raise AssertionError(prim)
    return True


PRIMITIVES = ("split", "fuse", "reorder", "parallel", "vectorize", "unroll", "annotate", "compute_inline",
              "reverse_compute_inline", "cache_read", "cache_write", "set_scope", "storage_align", "compute_at",
              "reverse_compute_at", "decompose_reduction", "rfactor", "blockize", "add_unit_loop",
              "transform_layout", "transform_block_layout", "set_dtype", "reindex", "reorder_block_iter_var",
              "cache_inplace", "rolling_buffer", "decompose_padding", "cache_index")



def schedule_step(func, rng: random.Random):
    """One random schedule primitive applied to ``func``; None when it does not apply."""
    from tvm import s_tir

    try:
        sch = s_tir.Schedule(func, error_render_level="none")
        if not _apply(sch, rng):
            return None
        return sch.mod["main"]
    except Exception:  # noqa: BLE001 - ScheduleError and friends: the primitive refused
        return None
