"""The registry of dataset sources: each source's name, generator, the tools its rows record, and the
recipe that makes the rows of one seed.  ``build`` looks sources up here (no ``if source ==`` chains);
a new source is one :class:`Source` entry.

Labellers are named once, by their ``name`` attribute (``llc_static``, ``mca_loops``,
``callgrind_dynamic``, ``latency``, ``ptxas_gpu``): ``irtoolkit.costmodel.targets`` and ``relabel`` use the same
names.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import tools
from . import cgen
from .labellers import CallgrindLabeller, LabelError, Labels
from .latency import TARGET as LAT
from .latency import LatencyLabeller, helper_reasons
from .rows import make_rows, or_skip, static_labels, store_ir

STATIC_TOOLS = ("llc-22", "llvm-nm-22", "llvm-mca-22")


def cgen_rows(seed: int, out: Path, *, configs_per_program: int = 3, dynamic: bool = True,
              skipped: list[str] | None = None) -> list[dict]:
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
            labels, obj = static_labels(ll, cdir)
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
            rel, sha = store_ir(out, text)
            clang_cmd = {"tool": "clang-22", "version": tools.version("clang-22"), "flags": flags}
            rows += make_rows(labels, lambda fn: families.get(fn, families.get(fn.removesuffix("_helper"), "helper")),
                          noise, source="cgen", origin=prog.name, origin_hash=prog.source_hash,
                          config={"opt": opt, "march": march, "unroll": unroll or "default"}, producer=clang_cmd,
                          ir_file=rel, ir_sha256=sha)
    return rows


def mlir_rows(seed: int, out: Path, *, configs_per_program: int = 3, dynamic: bool = False,
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
            text = or_skip(seed, skipped, mlirgen.lower, prog.source, cfg, cdir)
            if text is None:
                continue
            labels, _obj = static_labels(cdir / "prog.ll", cdir)
            rel, sha = store_ir(out, text)
            rows += make_rows(labels, lambda fn: families.get(fn, "helper"), source="mlir", origin=prog.name,
                          origin_hash=prog.source_hash, config=dict(cfg), producer=mlirgen.producer(cfg),
                          ir_file=rel, ir_sha256=sha)
    return rows


def tvm_cuda_rows(seed: int, out: Path, *, configs_per_program: int = 4, dynamic: bool = False,
                  skipped: list[str] | None = None) -> list[dict]:
    """Rows of one TVM workload under a few sampled CUDA schedules (a rejected schedule is skipped)."""
    from . import tvmgen

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="costmodel-gpu-") as td:
        for j in range(configs_per_program):
            got = or_skip(seed, None, tvmgen.sample, seed, seed * 1000 + j, Path(td, f"s{j}"))
            if got is None:
                continue
            origin, ll, knobs, _src, labels = got
            rel, sha = store_ir(out, ll)
            prod = {"tool": "tvm+clang-22", "version": f"{_tvm_version()}; {tools.version('clang-22')}",
                    "flags": ["cuda sm_90", "--cuda-device-only", "-O3"]}
            rows += make_rows(labels, origin.split("_")[1], source="tvm-cuda", origin=origin,
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
            got = or_skip(seed, skipped, tvmcpu.sample, seed, seed * 1000 + j, Path(td, f"s{j}"),
                           dynamic=dynamic)
            if got is None:
                continue
            origin, ll, knobs, labels = got
            rel, sha = store_ir(out, ll)
            if sha in seen:     # two seeds drew the same decisions: one row set is enough
                continue
            seen.add(sha)
            prod = {"tool": "tvm", "version": _tvm_version(), "flags": [json.dumps(knobs["target"], sort_keys=True),
                                                                         "tvm.compile (opt level 3)"]}
            rows += make_rows(labels, origin.split("_")[1], source="tvm-llvm", origin=origin,
                          origin_hash=origin, config=knobs, producer=prod, ir_file=rel, ir_sha256=sha)
    return rows


def _tvm_version() -> str:
    import tvm

    return f"apache-tvm {tvm.__version__}"


@dataclass(frozen=True)
class Source:
    name: str
    generator: str                                   # the module that makes its programs
    rows: Callable[..., list[dict]]                  # (seed, out, *, configs_per_program, dynamic, skipped)
    tools: tuple[str, ...]                           # the tools its rows record, static labels
    dynamic_tools: tuple[str, ...] = ()              # and those a dynamic build adds
    static_only: bool = False                        # no harness: a build is static whatever is asked

    def used_tools(self, dynamic: bool) -> list[str]:
        return list(self.tools) + (list(self.dynamic_tools) if dynamic else [])


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("cgen", "irtoolkit.costmodel.dataset.cgen", cgen_rows, ("clang-22", *STATIC_TOOLS), ("valgrind",)),
    Source("tvm-cuda", "irtoolkit.costmodel.dataset.tvmgen", tvm_cuda_rows, ("clang-22", "llc-22", "ptxas")),
    Source("tvm-llvm", "irtoolkit.costmodel.dataset.tvmcpu", tvm_llvm_rows, ("clang-22", *STATIC_TOOLS), ("valgrind",)),
    Source("mlir", "irtoolkit.costmodel.dataset.mlirgen", mlir_rows, ("mlir-opt-22", "mlir-translate-22", *STATIC_TOOLS),
           static_only=True),
)}
