"""Dataset building: sharded, resumable, with a progress bar.

Layout of a dataset folder::

    meta.json                 generator, shard size, tool versions
    ir/<sha>.ll               every labelled IR module, named by the hash of its text
    shards/shard-00012.jsonl  one row per (module, function), written atomically when the shard is done

A shard that exists is done and is skipped on the next run, so an interrupted build resumes where it
stopped.  Rows carry the origin program (the unit the evaluation splits by), the compile
configuration, the IR file and hash, the labels and, per target, the tool/version/target that made it;
``missing`` says why a function has no value for a target it was labelled for (e.g. no loops for
``mca_inner_loop_rthroughput``).  ``costmodel.dataset.relabel`` adds a new labeller's targets to an
existing dataset.  Dynamic builds also time each kernel (``latency_ns``, ``costmodel.dataset.latency``)
and keep that labeller's noise-floor measurements in ``row["noise"]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from irtools.errors import IrtoolsError

from .. import tools
from . import cgen
from .labellers import CallgrindLabeller, LabelError, Labels, LlcStaticLabeller, McaLoopLabeller
from .latency import TARGET as LAT
from .latency import LatencyLabeller, helper_reasons

SCHEMA = 1
SOURCES = ("cgen", "tvm-cuda", "tvm-llvm", "mlir")
_SETTINGS = ("generator", "per_shard", "configs_per_program", "dynamic", "seed_offset")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _store_ir(out: Path, text: str) -> tuple[str, str]:
    sha = _sha(text)
    rel = f"ir/{sha[:20]}.ll"
    path = out / rel
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return rel, sha


def _static_labels(ll: Path, cdir: Path):
    """llc-22 remarks and symbol sizes, and the llvm-mca loop label where it can be made; and the object."""
    static, obj = LlcStaticLabeller().label(ll, cdir)
    try:
        return static.merge(McaLoopLabeller().label(ll, cdir)), obj
    except tools.ToolMissing:
        raise
    except LabelError as e:
        # the static labels stand; the rows say why the loop label is absent
        why = {McaLoopLabeller.target: str(e).splitlines()[0]}
        static.missing.update({fn: dict(why) for fn in static.values})
        return static, obj


def _rows(labels: Labels, family, noise: dict | None = None, **common) -> list[dict]:
    """One row per labelled function.  ``common`` holds what the module's functions share (source,
    origin, origin_hash, config, producer, ir_file, ir_sha256); ``family`` is the kernel family, or a
    function that gives it per function name."""
    noise = noise or {}
    return [{"schema": SCHEMA, **common, "family": family(fn) if callable(family) else family, "function": fn,
             "labels": vals,
             "provenance": {t: labels.provenance[t].to_json() for t in vals if t in labels.provenance},
             **({"missing": labels.missing[fn]} if labels.missing.get(fn) else {}),
             **({"noise": noise[fn]} if fn in noise else {})}
            for fn, vals in sorted(labels.values.items())]


def _or_skip(seed: int, skipped: list[str] | None, make, *args, **kw):
    """``make(*args, **kw)``, or None when a tool rejects this sample (its reason goes to ``skipped``);
    a missing tool still stops the build."""
    try:
        return make(*args, **kw)
    except tools.ToolMissing:
        raise
    except LabelError as e:
        if skipped is not None:
            skipped.append(f"seed {seed}: skipped {e}")
        return None


def cgen_rows(seed: int, out: Path, *, configs_per_program: int = 3, dynamic: bool = True) -> list[dict]:
    """All rows of one generated C program under a few compile configurations."""
    prog = cgen.generate_program(seed)
    clang = tools.require("clang-22")
    rows: list[dict] = []
    families = {k.name: k.family for k in prog.kernels}
    with tempfile.TemporaryDirectory(prefix="costmodel-") as td:
        work = Path(td)
        (work / "prog.c").write_text(prog.source)
        (work / "harness.c").write_text(prog.harness())
        for ci, (opt, march, unroll) in enumerate(cgen.sample_configs(seed, configs_per_program)):
            cdir = work / f"cfg{ci}"
            cdir.mkdir()
            flags = [opt, f"-march={march}", *([unroll] if unroll else [])]
            ll = cdir / "prog.ll"
            # relative source path: the IR names its source file, and a temp path would change its hash
            proc = subprocess.run([clang, *flags, "-S", "-emit-llvm", "-fno-ident", "prog.c", "-o", str(ll)],
                                  capture_output=True, text=True, cwd=work)
            if proc.returncode != 0:
                raise LabelError(f"clang-22 failed on program {prog.name}: {proc.stderr[-2000:]}")
            text = ll.read_text()
            labels, obj = _static_labels(ll, cdir)
            noise: dict[str, dict] = {}
            if dynamic:
                labels = labels.merge(CallgrindLabeller().label(obj, work / "harness.c", cdir))
                try:
                    lat = LatencyLabeller().label_program(prog, obj, cdir)
                    lat.missing.update(helper_reasons(labels.values, prog))
                    noise = lat.noise
                except LabelError as e:
                    # the other labels stand: a harness that fails to time is not a reason to drop the program
                    lat = Labels(missing={fn: {LAT: str(e).splitlines()[0]} for fn in labels.values})
                labels = labels.merge(lat)
            rel, sha = _store_ir(out, text)
            clang_cmd = {"tool": "clang-22", "version": tools.version("clang-22"), "flags": flags}
            rows += _rows(labels, lambda fn: families.get(fn, families.get(fn.removesuffix("_helper"), "helper")),
                          noise, source="cgen", origin=prog.name, origin_hash=prog.source_hash,
                          config={"opt": opt, "march": march, "unroll": unroll or "default"}, producer=clang_cmd,
                          ir_file=rel, ir_sha256=sha)
    return rows


def mlir_rows(seed: int, out: Path, *, configs_per_program: int = 3,
              skipped: list[str] | None = None) -> list[dict]:
    """Rows of one generated MLIR module under a few lowering configurations (static labels only:
    there is no harness).  A configuration mlir-opt-22 rejects is skipped; its reason goes to
    ``skipped``."""
    from . import mlirgen

    prog = mlirgen.generate(seed)
    families = {k.name: k.family for k in prog.kernels}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="costmodel-mlir-") as td:
        for ci, cfg in enumerate(mlirgen.lowerings(seed, configs_per_program)):
            cdir = Path(td, f"cfg{ci}")
            text = _or_skip(seed, skipped, mlirgen.lower, prog.source, cfg, cdir)
            if text is None:
                continue
            labels, _obj = _static_labels(cdir / "prog.ll", cdir)
            rel, sha = _store_ir(out, text)
            rows += _rows(labels, lambda fn: families.get(fn, "helper"), source="mlir", origin=prog.name,
                          origin_hash=prog.source_hash, config=dict(cfg), producer=mlirgen.producer(cfg),
                          ir_file=rel, ir_sha256=sha)
    return rows


def tvm_cuda_rows(seed: int, out: Path, *, configs_per_program: int = 4) -> list[dict]:
    """Rows of one TVM workload under a few sampled CUDA schedules (a rejected schedule is skipped)."""
    from . import tvmgen

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="costmodel-gpu-") as td:
        for j in range(configs_per_program):
            got = _or_skip(seed, None, tvmgen.sample, seed, seed * 1000 + j, Path(td, f"s{j}"))
            if got is None:
                continue
            origin, ll, knobs, _src, labels = got
            rel, sha = _store_ir(out, ll)
            prod = {"tool": "tvm+clang-22", "version": f"{_tvm_version()}; {tools.version('clang-22')}",
                    "flags": ["cuda sm_90", "--cuda-device-only", "-O3"]}
            rows += _rows(labels, origin.split("_")[1], source="tvm-cuda", origin=origin,
                          origin_hash=origin, config=knobs, producer=prod, ir_file=rel, ir_sha256=sha)
    return rows


def tvm_llvm_rows(seed: int, out: Path, *, configs_per_program: int = 4, dynamic: bool = True,
                  skipped: list[str] | None = None) -> list[dict]:
    """Rows of one TVM workload under a few schedules sampled from MetaSchedule's CPU design space
    (a schedule TVM or a postprocessor rejects is skipped; its reason goes to ``skipped``)."""
    from . import tvmcpu

    rows: list[dict] = []
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="costmodel-tvmcpu-") as td:
        for j in range(configs_per_program):
            got = _or_skip(seed, skipped, tvmcpu.sample, seed, seed * 1000 + j, Path(td, f"s{j}"),
                           dynamic=dynamic)
            if got is None:
                continue
            origin, ll, knobs, labels = got
            rel, sha = _store_ir(out, ll)
            if sha in seen:     # two seeds drew the same decisions: one row set is enough
                continue
            seen.add(sha)
            prod = {"tool": "tvm", "version": _tvm_version(), "flags": [json.dumps(knobs["target"], sort_keys=True),
                                                                         "tvm.compile (opt level 3)"]}
            rows += _rows(labels, origin.split("_")[1], source="tvm-llvm", origin=origin,
                          origin_hash=origin, config=knobs, producer=prod, ir_file=rel, ir_sha256=sha)
    return rows


def _tvm_version() -> str:
    import tvm

    return f"apache-tvm {tvm.__version__}"


def _shard_path(out: Path, idx: int) -> Path:
    return out / "shards" / f"shard-{idx:05d}.jsonl"


def _build_shard(args: tuple[str, int, int, int, bool, int, str]) -> tuple[int, int, list[str]]:
    out_s, idx, per_shard, cfgs, dynamic, seed0, source = args
    out = Path(out_s)
    rows: list[dict] = []
    errors: list[str] = []
    for seed in range(seed0 + idx * per_shard, seed0 + (idx + 1) * per_shard):
        try:
            if source == "tvm-cuda":
                rows.extend(tvm_cuda_rows(seed, out, configs_per_program=cfgs))
            elif source == "tvm-llvm":
                rows.extend(tvm_llvm_rows(seed, out, configs_per_program=cfgs, dynamic=dynamic, skipped=errors))
            elif source == "mlir":
                # a rejected lowering is a record in the shard, like a rejected program
                rows.extend(mlir_rows(seed, out, configs_per_program=cfgs, skipped=errors))
            else:
                rows.extend(cgen_rows(seed, out, configs_per_program=cfgs, dynamic=dynamic))
        except IrtoolsError as e:
            # a program a tool rejects is recorded and skipped: one bad sample must not stop a build
            errors.append(f"seed {seed}: {e}")
    path = _shard_path(out, idx)
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
    if source == "mlir":
        # static labels only: there is no harness to run, whatever ``dynamic`` says
        dynamic = False
        gen = "costmodel.dataset.mlirgen"
        used = ["mlir-opt-22", "mlir-translate-22", "llc-22", "llvm-nm-22", "llvm-mca-22"]
    elif source == "tvm-llvm":
        gen = "costmodel.dataset.tvmcpu"
        used = ["clang-22", "llc-22", "llvm-nm-22", "llvm-mca-22"] + (["valgrind"] if dynamic else [])
    else:
        gen = "costmodel.dataset.cgen" if source == "cgen" else "costmodel.dataset.tvmgen"
        used = ["clang-22", "llc-22"] + (["llvm-nm-22", "llvm-mca-22"] + (["valgrind"] if dynamic else [])
                                         if source == "cgen" else ["ptxas"])
    meta = {"schema": SCHEMA, "generator": gen, "per_shard": per_shard,
            "configs_per_program": configs_per_program, "dynamic": dynamic, "seed_offset": seed_offset,
            "tools": {t: tools.version(t) for t in used}}
    meta_path = outp / "meta.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if {k: old.get(k, 0 if k == "seed_offset" else None) for k in _SETTINGS} != {k: meta[k] for k in _SETTINGS}:
            raise IrtoolsError(f"{outp} was built with other settings ({old}); use another folder")
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    todo = [i for i in range(shards) if not _shard_path(outp, i).exists()]
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


def load_rows(path: str | os.PathLike) -> list[dict]:
    """Every labelled row of a dataset folder (error records left out)."""
    rows = []
    for shard in sorted(Path(path, "shards").glob("shard-*.jsonl")):
        for line in shard.read_text().splitlines():
            r = json.loads(line)
            if "error" not in r:
                rows.append(r)
    return rows


def remove(path: str | os.PathLike) -> None:
    shutil.rmtree(path, ignore_errors=True)
