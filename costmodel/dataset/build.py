"""Dataset building: sharded, resumable, with a progress bar.

Layout of a dataset folder::

    meta.json                 generator, shard size, tool versions
    ir/<sha>.ll               every labelled IR module, named by the hash of its text
    shards/shard-00012.jsonl  one row per (module, function), written atomically when the shard is done

A shard that exists is done and is skipped on the next run, so an interrupted build resumes where it
stopped.  Rows carry the origin program (the unit the evaluation splits by), the compile
configuration, the IR file and hash, the labels and, per target, the tool/version/target that made it;
``missing`` says why a function has no value for a target it was labelled for (e.g. no loops for
``mca_inner_loop_rthroughput``).  ``irtoolkit.costmodel.dataset.relabel`` adds a new labeller's targets to an
existing dataset.  Dynamic builds also time each kernel (``latency_ns``, ``irtoolkit.costmodel.dataset.latency``)
and keep that labeller's noise-floor measurements in ``row["noise"]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from irtools.errors import IrtoolsError

from .. import tools
from .rows import SCHEMA, load_rows, remove, shard_path, static_labels  # noqa: F401  (the dataset API)
from .sources import SOURCES

_SETTINGS = ("generator", "per_shard", "configs_per_program", "dynamic", "seed_offset")


def _settings(meta: dict) -> dict:
    """What must agree between a dataset's meta.json and a build that resumes it."""
    s = {k: meta.get(k, 0 if k == "seed_offset" else None) for k in _SETTINGS}
    # a dataset built before the apps moved under irtoolkit (#18) names its generator by the old path,
    # costmodel.dataset.cgen and so on (rename: keep)
    if isinstance(s["generator"], str) and s["generator"].startswith("costmodel."):
        s["generator"] = "irtoolkit." + s["generator"]
    return s


def _build_shard(args: tuple[str, int, int, int, bool, int, str]) -> tuple[int, int, list[str]]:
    out_s, idx, per_shard, cfgs, dynamic, seed0, source = args
    out = Path(out_s)
    rows: list[dict] = []
    errors: list[str] = []
    make = SOURCES[source].rows
    for seed in range(seed0 + idx * per_shard, seed0 + (idx + 1) * per_shard):
        try:
            rows.extend(make(seed, out, configs_per_program=cfgs, dynamic=dynamic, skipped=errors))
        except IrtoolsError as e:
            # a program a tool rejects is recorded and skipped: one bad sample must not stop a build
            errors.append(f"seed {seed}: {e}")
    path = shard_path(out, idx)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
        for e in errors:
            f.write(json.dumps({"error": e}) + "\n")
    os.replace(tmp, path)
    return idx, len(rows), errors


def build(out: str | os.PathLike, *, shards: int, per_shard: int = 4, configs_per_program: int = 3,
          dynamic: bool = True, jobs: int = 1, progress: bool = True, seed_offset: int = 0,
          source: str = "cgen") -> dict:
    """Build (or resume) a dataset; returns a summary.

    ``source`` is ``"cgen"`` (generated C kernels, CPU labels), ``"tvm-cuda"`` (TVM workloads × sampled
    CUDA schedules, ptxas labels; ``configs_per_program`` schedules per workload), ``"tvm-llvm"`` (TVM
    workloads × schedules from MetaSchedule's CPU design space, TVM's LLVM IR, static CPU labels and,
    when ``dynamic``, instructions executed by the kernel functions) or ``"mlir"`` (MLIR
    linalg/affine kernels × tiling/vectorisation/unrolling lowered by mlir-opt-22, static CPU labels;
    a lowering mlir-opt rejects is an error record in its shard).

    Shard ``i`` holds the programs of seeds ``seed_offset + i*per_shard ...``; a different
    ``seed_offset`` gives programs never seen by a model trained on another offset."""
    outp = Path(out)
    (outp / "ir").mkdir(parents=True, exist_ok=True)
    (outp / "shards").mkdir(exist_ok=True)
    if source not in SOURCES:
        raise IrtoolsError(f"unknown dataset source {source!r} ({', '.join(SOURCES)})")
    src = SOURCES[source]
    if src.static_only:
        dynamic = False
    gen, used = src.generator, src.used_tools(dynamic)
    meta = {"schema": SCHEMA, "generator": gen, "per_shard": per_shard,
            "configs_per_program": configs_per_program, "dynamic": dynamic, "seed_offset": seed_offset,
            "tools": {t: tools.version(t) for t in used}}
    meta_path = outp / "meta.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if _settings(old) != _settings(meta):
            raise IrtoolsError(f"{outp} was built with other settings ({old}); use another folder")
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    todo = [i for i in range(shards) if not shard_path(outp, i).exists()]
    summary = {"shards": shards, "skipped": shards - len(todo), "rows": 0, "errors": []}
    work = [(str(outp), i, per_shard, configs_per_program, dynamic, seed_offset, source) for i in todo]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    cols = [TextColumn("[bold]dataset"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"),
            TimeRemainingColumn()]
    with Progress(*cols, disable=not progress, transient=False) as bar:
        task = bar.add_task("shards", total=shards, completed=shards - len(todo))
        if jobs <= 1:
            results: Iterator = map(_build_shard, work)
            pool = None
        else:
            pool = ProcessPoolExecutor(max_workers=jobs)
            results = pool.map(_build_shard, work)
        try:
            for _idx, n, errs in results:
                summary["rows"] += n
                summary["errors"].extend(errs)
                bar.advance(task)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    return summary
