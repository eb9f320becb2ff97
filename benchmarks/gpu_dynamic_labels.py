"""Dynamic GPU labels (achieved occupancy, SM throughput, duration) from Nsight Compute.

The cost model's GPU labels are static (ptxas registers, theoretical occupancy; checked against a real
driver by ``gpu_label_check.py``).  This script runs the same TVM CUDA kernels on a real card and asks
Nsight Compute what they did:

    python benchmarks/gpu_dynamic_labels.py prepare --limit 150       # here: bundle in build/gpu-dynamic
    python benchmarks/gpu_dynamic_labels.py collect --out DIR         # on a GPU machine: DIR/gpu_dynamic.json
    python benchmarks/gpu_dynamic_labels.py collect --out DIR --no-ncu  # no ncu there: CUDA-event durations only
    python benchmarks/gpu_dynamic_labels.py report DIR/gpu_dynamic.json   # here: results/gpu_dynamic_labels.json

``prepare`` regenerates the TVM workloads × schedules of the GPU dataset (``build/costmodel-gpu``; its
meta.json gives the seeds) and keeps those whose NVPTX IR hashes to a dataset row.  Per kernel the
bundle holds the PTX and an sm_90 cubin (entry renamed ``kNNNN_<name>`` so that ncu's "Kernel Name"
says which bundle kernel a row is: every TVM kernel is called ``main_kernel``), grid and block from
TVM's ``thread_extent`` launch attributes of the lowered device function, the parameter list (buffer
bytes from the TE tensors, scalars by dtype) checked against the PTX ``.entry`` signature, and our
static labels (ptxas registers, theoretical occupancy).

``collect`` needs only Python, libcuda (ctypes) and, for the ncu metrics, Nsight Compute (``ncu`` on
PATH, in /usr/local/cuda/bin or /opt/nvidia/nsight-compute/*/).  It launches every kernel once under
``ncu --metrics ...`` (ncu's defaults: caches flushed and clocks locked to base between launches, so
its durations are lower-clock, cold-cache figures) and then, outside ncu, times each kernel with CUDA
events (median of ``--reps`` warm launches).  A kernel that fails to load or launch is recorded with
its error and the rest go on.  Buffers are filled with the byte 0x3c (float 0.0115, no NaN/denormal
inputs).  The whole step is sized for a single 10-minute command (150 kernels by default; ``--limit``,
``--ncu-timeout`` 400 s).

``report`` writes results/gpu_dynamic_labels.json (per kernel: static labels, ncu's theoretical and
achieved occupancy, SM throughput, ncu and CUDA-event durations; how often our theoretical occupancy
equals ncu's; correlations) and results/gpu_dynamic_labels.png.

Device command, run at the repository root with ``build/gpu-dynamic`` carried (the bundle is git-ignored;
2.6 MB for the default 150 kernels).  ``collect`` uses the standard library only, so the machine's own
python3 will do; the second half runs only if ``ncu`` is missing (collect then stops before launching):

    python3 benchmarks/gpu_dynamic_labels.py collect --out $OUT || python3 benchmarks/gpu_dynamic_labels.py collect --out $OUT --no-ncu

Status: written and tested without a GPU (prepare on real TVM kernels, the PTX signature cross-checks,
the CSV parser on a CSV laid out as the docs describe, the launcher's control flow against a stand-in
libcuda).  ``collect`` has NOT yet been run on a GPU: no device was available when it was written.
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import glob
import hashlib
import io
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "build" / "gpu-dynamic"
ARCH = "sm_90"

METRICS = {
    "achieved_occupancy_pct": "sm__warps_active.avg.pct_of_peak_sustained_active",
    "sm_throughput_pct": "sm__throughput.avg.pct_of_peak_sustained_elapsed",
    "duration": "gpu__time_duration.sum",
    "theoretical_occupancy_pct": "sm__maximum_warps_per_active_cycle_pct",
    "block_limit_registers": "launch__occupancy_limit_registers",
    "block_limit_shared_mem": "launch__occupancy_limit_shared_mem",
    "block_limit_warps": "launch__occupancy_limit_warps",
    "block_limit_blocks": "launch__occupancy_limit_blocks",
    "registers_per_thread": "launch__registers_per_thread",
}
_DTYPE_BYTES = {"float32": 4, "int32": 4, "float64": 8, "int64": 8, "float16": 2, "int16": 2, "int8": 1,
                "uint8": 1, "bool": 1}
_PTX_BYTES = {"8": 1, "16": 2, "32": 4, "64": 8}


# ----------------------------------------------------------------------------- prepare (no GPU)

def _lower_kernels(mod, target) -> dict[str, dict]:
    """Device kernels of a scheduled module: {name: {grid, block, params}} from TVM's lowered TIR."""
    import tvm
    from tvm.target import Target
    from tvm.tirx.build import split_host_device_mods

    m = tvm.tirx.transform.BindTarget(target.with_host(Target("llvm")))(mod)
    pipeline, _host, _dev = tvm.tirx.get_default_tir_pipeline(target)
    _host_mod, dev = split_host_device_mods(pipeline(m))
    out = {}
    for dmod in dev.values():
        for gv, f in dmod.functions.items():
            # No Python statement visitor in this TVM: the printed TIR is the stable view of the
            # launch_thread (thread_extent) attributes, constants for our static shapes.
            text = f.script()
            grid, block = [1, 1, 1], [1, 1, 1]
            for tag, axis, ext in re.findall(r'T\.launch_thread\("(blockIdx|threadIdx)\.([xyz])",\s*(\d+)\)', text):
                (grid if tag == "blockIdx" else block)["xyz".index(axis)] = int(ext)
            params = []
            for p in f.params:
                ty = str(p.ty)
                h = re.match(r'T\.handle\("(\w+)"', ty)
                params.append({"name": p.name, "kind": "buffer", "dtype": h.group(1)} if h else
                              {"name": p.name, "kind": "scalar", "dtype": ty.removeprefix("T.")})
            launch = [str(x) for x in f.attrs.get("tirx.kernel_launch_params", [])]
            out[gv.name_hint] = {"grid": grid, "block": block, "params": params,
                                 "dynamic_shared": any("dyn_shared" in x for x in launch)}
    return out


def _buffer_bytes(params: list[dict], tensors) -> None:
    """Buffer sizes from the TE tensors the kernel's pointers come from (``A_ptr`` → tensor ``A``)."""
    by_name = {t.name: t for t in tensors}
    for p in params:
        if p["kind"] != "buffer":
            p["bytes"] = _DTYPE_BYTES[p["dtype"]]
            continue
        t = by_name.get(p["name"].removesuffix("_ptr"))
        if t is None:
            raise ValueError(f"kernel parameter {p['name']} matches no TE tensor ({sorted(by_name)})")
        p["bytes"] = math.prod(int(d) for d in t.shape) * _DTYPE_BYTES[str(t.dtype)]


def ptx_entries(ptx: str) -> dict[str, list[dict]]:
    """PTX ``.entry`` signatures: {kernel: [{type, bytes, pointer}]} (what the driver will read)."""
    out = {}
    for m in re.finditer(r"\.entry\s+(\w+)\s*\(([^)]*)\)", ptx):
        out[m.group(1)] = [{"type": t, "bytes": _PTX_BYTES[bits], "pointer": bool(ptr)}
                           for t, bits, ptr in re.findall(r"\.param\s+\.([busf](\d+))(\s+\.ptr)?", m.group(2))]
    return out


def check_params(params: list[dict], ptx_params: list[dict]) -> list[str]:
    """Why a kernel's parameter list disagrees with its PTX signature (empty when it agrees)."""
    if len(params) != len(ptx_params):
        return [f"{len(params)} parameters from TVM, {len(ptx_params)} in the PTX entry"]
    bad = []
    for i, (p, q) in enumerate(zip(params, ptx_params, strict=True)):
        want = 8 if p["kind"] == "buffer" else p["bytes"]
        if q["bytes"] != want or (p["kind"] == "buffer") != (q["pointer"] or q["type"] in ("u64", "b64")):
            bad.append(f"param {i} ({p['name']}, {p['kind']} {p['dtype']}): PTX .{q['type']}")
    return bad


def _check_cuda_names(src: str, kernel: str, params: list[dict]) -> list[str]:
    """The TIR parameter order must be the CUDA signature's, which fixes the PTX ``_param_N`` order."""
    m = re.search(rf"__global__\s+void\s+(?:__launch_bounds__\(\d+\)\s+)?{kernel}\(([^)]*)\)", src)
    names = [a.split()[-1] for a in m.group(1).split(",") if a.strip()] if m else None
    want = [p["name"] for p in params]
    return [] if names == want else [f"CUDA signature {names} != TIR parameters {want}"]


def _dataset_rows(dataset: Path) -> tuple[dict, list[int], int]:
    meta = json.loads((dataset / "meta.json").read_text())
    by_sha: dict[str, list[dict]] = {}
    seeds = []
    for shard in sorted((dataset / "shards").glob("shard-*.jsonl")):
        idx = int(shard.stem.split("-")[1])
        base = meta.get("seed_offset", 0) + idx * meta["per_shard"]
        seeds.extend(range(base, base + meta["per_shard"]))
        for line in shard.read_text().splitlines():
            row = json.loads(line) if line.strip() else {}
            if "ir_sha256" in row:
                by_sha.setdefault(row["ir_sha256"], []).append(row)
    return by_sha, seeds, meta["configs_per_program"]


def prepare(dataset: Path | None, limit: int, bundle: Path = BUNDLE, seeds: list[int] | None = None,
            configs_per_program: int = 4) -> dict:
    """Write ``bundle``: PTX, cubins and manifest.json for up to ``limit`` kernels (no GPU)."""
    sys.path.insert(0, str(ROOT))
    import tvm
    from tvm.target import Target

    from irtoolkit.costmodel import tools
    from irtoolkit.costmodel.dataset import tvmgen
    from irtoolkit.costmodel.dataset.labellers import occupancy, parse_ptxas

    llc, ptxas = tools.require("llc-22"), tools.require("ptxas")
    by_sha: dict[str, list[dict]] = {}
    if dataset is not None:
        by_sha, ds_seeds, configs_per_program = _dataset_rows(dataset)
        seeds = ds_seeds if seeds is None else seeds
    if seeds is None:
        raise ValueError("prepare needs a dataset or explicit seeds")
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    target = Target({"kind": "cuda", "arch": ARCH})
    kernels: list[dict] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gpu-dynamic-") as td:
        for seed in seeds:
            for j in range(configs_per_program):
                if len(kernels) >= limit:
                    break
                sched_seed = seed * 1000 + j   # as irtoolkit.costmodel.dataset.build.tvm_cuda_rows numbers them
                name, tensors, mm = tvmgen.workload(seed)
                try:
                    mod, knobs = tvmgen.schedule(tensors, mm, sched_seed)
                    src = tvm.compile(mod, target=target).mod.imports[0].inspect_source()
                    launch = _lower_kernels(mod, target)
                    ll = tvmgen.cuda_to_nvptx_ll(src, Path(td, "w"))
                except Exception as e:   # a schedule TVM rejects is skipped, as the dataset build does
                    skipped.append(f"{name} schedule {sched_seed}: {str(e).splitlines()[0][:200]}")
                    continue
                sha = hashlib.sha256(ll.encode()).hexdigest()
                mid = f"m{len(kernels):04d}"
                ll_path = Path(td, f"{mid}.ll")
                ll_path.write_text(ll)
                raw_ptx = subprocess.run([llc, "-O2", "-mtriple=nvptx64-nvidia-cuda", f"-mcpu={ARCH}",
                                          str(ll_path), "-o", "-"], check=True, capture_output=True,
                                         text=True).stdout
                entries = [n for n in ptx_entries(raw_ptx) if n in launch]
                # one kNNNN prefix per kernel so that ncu's rows name the bundle kernel they measure
                rename = {n: f"k{len(kernels) + i:04d}_{n}" for i, n in enumerate(entries)}
                ptx = raw_ptx
                for old, new in rename.items():
                    ptx = re.sub(rf"\b{old}(?=\b|_param_)", new, ptx)
                ptx_file, cubin_file = f"{mid}.ptx", f"{mid}.cubin"
                (bundle / ptx_file).write_text(ptx)
                proc = subprocess.run([ptxas, "-v", f"-arch={ARCH}", str(bundle / ptx_file),
                                       "-o", str(bundle / cubin_file)], capture_output=True, text=True)
                if proc.returncode != 0:   # e.g. more static shared memory than sm_90 allows: unlabelled too
                    err = [x for x in proc.stderr.splitlines() if "error" in x] or [proc.stderr[-200:]]
                    skipped.append(f"{name} schedule {sched_seed}: ptxas: {err[0][:200]}")
                    (bundle / ptx_file).unlink()
                    continue
                if dataset is not None and sha not in by_sha:
                    # same TVM, clang and seeds as the build: a miss means the dataset is from other versions
                    skipped.append(f"{name} schedule {sched_seed}: IR not in the dataset")
                    for f in (ptx_file, cubin_file):
                        (bundle / f).unlink()
                    continue
                usage = parse_ptxas(proc.stderr + proc.stdout)
                sigs = ptx_entries(ptx)
                rows = {r["function"]: r for r in by_sha.get(sha, [])}
                bounds = {m.group(2): int(m.group(1)) for m in tvmgen._LAUNCH.finditer(src)}
                for old, new in rename.items():
                    info = launch[old]
                    _buffer_bytes(info["params"], tensors)
                    r = usage[new][ARCH]
                    threads = math.prod(info["block"])
                    k = {"id": new.split("_")[0], "function": new, "tvm_function": old, "origin": name,
                         "family": name.split("_")[1], "config": knobs, "seed": seed, "schedule_seed": sched_seed,
                         "ir_sha256": sha, "ptx": ptx_file, "cubin": cubin_file,
                         "grid": info["grid"], "block": info["block"], "launch_bounds": bounds.get(old),
                         "dynamic_shared": info["dynamic_shared"], "params": info["params"],
                         "ptx_params": sigs[new],
                         "param_mismatch": check_params(info["params"], sigs[new])
                         + _check_cuda_names(src, old, info["params"]),
                         "static": {"registers": int(r["registers"]), "spill_bytes": int(r["spill_bytes"]),
                                    "shared_bytes": int(r["shared_bytes"]),
                                    "occupancy": occupancy(ARCH, threads, int(r["registers"]),
                                                           int(r["shared_bytes"]))}}
                    if old in rows:
                        k["dataset_labels"] = rows[old]["labels"]
                    kernels.append(k)
            if len(kernels) >= limit:
                break
    manifest = {"arch": ARCH, "ptxas": tools.version("ptxas"), "llc": tools.version("llc-22"),
                "tvm": tvm.__version__, "dataset": str(dataset) if dataset else None,
                "kernels": kernels, "skipped": skipped}
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1))
    size = sum(p.stat().st_size for p in bundle.iterdir())
    print(f"{len(kernels)} kernels ({len(skipped)} schedules skipped) in {bundle}, {size / 1e6:.1f} MB")
    return manifest


# ----------------------------------------------------------------------------- collect (on the GPU)

_NCU_GLOBS = ("/usr/local/cuda/bin/ncu", "/usr/local/cuda-*/bin/ncu", "/opt/nvidia/nsight-compute/*/ncu")


def find_ncu() -> str | None:
    found = shutil.which("ncu")
    if found:
        return found
    for pattern in _NCU_GLOBS:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[-1]
    return None


class Launcher:
    """Loads the bundle's cubins into one context and launches kernels with zero-copy-free buffers."""

    # Errors after which the context is unusable: every later call would fail with them too.
    _STICKY = {700, 702, 714, 715, 716, 717, 718, 719}

    def __init__(self, bundle: Path):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from gpu_label_check import _cuda

        self.bundle = bundle
        self.cu, self.ok = _cuda()
        self.cu.cuMemAlloc_v2.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
        self.cu.cuMemsetD8_v2.argtypes = [ctypes.c_uint64, ctypes.c_ubyte, ctypes.c_size_t]
        self.cu.cuMemFree_v2.argtypes = [ctypes.c_uint64]
        self.cu.cuLaunchKernel.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 7 + [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        self.cu.cuEventElapsedTime.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.c_void_p, ctypes.c_void_p]
        self.ok(self.cu.cuInit(0), "cuInit")
        self.dev = ctypes.c_int()
        self.ok(self.cu.cuDeviceGet(ctypes.byref(self.dev), 0), "cuDeviceGet")
        self.ctx = None
        self._new_context()

    def _new_context(self) -> None:
        if self.ctx is not None:
            self.cu.cuCtxDestroy_v2(self.ctx)
        self.ctx = ctypes.c_void_p()
        self.ok(self.cu.cuCtxCreate_v2(ctypes.byref(self.ctx), 0, self.dev), "cuCtxCreate")
        self.modules: dict[str, ctypes.c_void_p] = {}

    def device(self) -> dict:
        name = ctypes.create_string_buffer(256)
        self.cu.cuDeviceGetName(name, 256, self.dev)
        major, minor, drv = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        self.cu.cuDeviceGetAttribute(ctypes.byref(major), 75, self.dev)
        self.cu.cuDeviceGetAttribute(ctypes.byref(minor), 76, self.dev)
        self.cu.cuDriverGetVersion(ctypes.byref(drv))
        return {"device": name.value.decode(), "compute_capability": f"{major.value}.{minor.value}",
                "driver_version": drv.value}

    def _function(self, k: dict) -> ctypes.c_void_p:
        mod = self.modules.get(k["cubin"])
        if mod is None:
            mod = ctypes.c_void_p()
            data = (self.bundle / k["cubin"]).read_bytes()
            self.ok(self.cu.cuModuleLoadData(ctypes.byref(mod), ctypes.c_char_p(data)), f"cuModuleLoadData {k['cubin']}")
            self.modules[k["cubin"]] = mod
        fn = ctypes.c_void_p()
        self.ok(self.cu.cuModuleGetFunction(ctypes.byref(fn), mod, k["function"].encode()), "cuModuleGetFunction")
        return fn

    def run(self, k: dict, reps: int = 0) -> dict:
        """Launch ``k`` once (the launch ncu profiles), then ``reps`` more timed by CUDA events."""
        if k.get("dynamic_shared"):
            return {"error": "dynamic shared memory: its size is not in the bundle"}
        ptrs, holders = [], []
        rec: dict = {}
        try:
            fn = self._function(k)
            for p in k["params"]:
                if p["kind"] == "buffer":
                    d = ctypes.c_uint64()
                    self.ok(self.cu.cuMemAlloc_v2(ctypes.byref(d), max(p["bytes"], 1)), f"cuMemAlloc {p['bytes']}")
                    ptrs.append(d.value)
                    self.ok(self.cu.cuMemsetD8_v2(d.value, 0x3C, p["bytes"]), "cuMemsetD8")
                    holders.append(d)
                else:
                    ctype = {"int32": ctypes.c_int32, "int64": ctypes.c_int64, "float32": ctypes.c_float,
                             "float64": ctypes.c_double}[p["dtype"]]
                    holders.append(ctype(1))
            args = (ctypes.c_void_p * len(holders))(*[ctypes.addressof(h) for h in holders])

            def launch():
                self.ok(self.cu.cuLaunchKernel(fn, *k["grid"], *k["block"], 0, None, args, None), "cuLaunchKernel")

            launch()
            self.ok(self.cu.cuCtxSynchronize(), "kernel")
            if reps:
                e0, e1 = ctypes.c_void_p(), ctypes.c_void_p()
                self.ok(self.cu.cuEventCreate(ctypes.byref(e0), 0), "cuEventCreate")
                self.ok(self.cu.cuEventCreate(ctypes.byref(e1), 0), "cuEventCreate")
                times = []
                for _ in range(reps):
                    self.ok(self.cu.cuEventRecord(e0, None), "cuEventRecord")
                    launch()
                    self.ok(self.cu.cuEventRecord(e1, None), "cuEventRecord")
                    self.ok(self.cu.cuEventSynchronize(e1), "kernel")
                    ms = ctypes.c_float()
                    self.ok(self.cu.cuEventElapsedTime(ctypes.byref(ms), e0, e1), "cuEventElapsedTime")
                    times.append(ms.value * 1e6)
                self.cu.cuEventDestroy_v2(e0)
                self.cu.cuEventDestroy_v2(e1)
                rec = {"event_ns_median": statistics.median(times), "event_ns_min": min(times), "reps": reps}
            rec["status"] = "ok"
        except RuntimeError as e:
            rec = {"status": "error", "error": str(e)}
            code = re.search(r"CUDA error (\d+)", str(e))
            if code and int(code.group(1)) in self._STICKY:
                self._new_context()   # the buffers went with the old context
                return rec
        for d in ptrs:
            self.cu.cuMemFree_v2(d)
        return rec


def launch_all(bundle: Path, log: Path, limit: int | None, reps: int) -> list[dict]:
    """Every bundle kernel, each isolated; the log is rewritten after each so a crash keeps the rest."""
    kernels = json.loads((bundle / "manifest.json").read_text())["kernels"][:limit]
    lau = Launcher(bundle)
    out = []
    for k in kernels:
        t = time.perf_counter()
        rec = lau.run(k, reps)
        out.append({"id": k["id"], "function": k["function"], **rec, "wall_s": round(time.perf_counter() - t, 4)})
        log.write_text(json.dumps({**lau.device(), "kernels": out}, indent=1))
    return out


_UNIT_NS = {"nsecond": 1.0, "ns": 1.0, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6, "second": 1e9, "s": 1e9}


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def parse_ncu_raw_csv(text: str) -> dict[str, dict]:
    """``ncu --csv --page raw`` → {bundle kernel id: record}.

    The raw page is one header row (ID, Process ID, Process Name, Host Name, Kernel Name, Context,
    Stream, Block Size, Grid Size, Device, CC, then one column per metric), one row of units, then one
    row per profiled launch.  Lines ncu or the application print around it (``==PROF==``, ...) are
    skipped; numbers may carry thousands separators.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID",')), None)
    if start is None:
        raise ValueError("no ncu raw CSV header (a line starting with \"ID\",) in the output")
    rows = list(csv.reader(io.StringIO("\n".join(x for x in lines[start:] if x.startswith('"')))))
    header, units = rows[0], rows[1]
    col = {name: i for i, name in enumerate(header)}
    out = {}
    for row in rows[2:]:
        if len(row) != len(header):
            continue
        name = row[col["Kernel Name"]]
        m = re.match(r"(k\d{4})_", name)
        if not m:
            continue
        rec: dict = {"kernel_name": name, "ncu_id": int(row[col["ID"]]), "block_size": row[col.get("Block Size", 0)],
                     "grid_size": row[col.get("Grid Size", 0)]}
        for key, metric in METRICS.items():
            if metric not in col:
                continue
            v = _number(row[col[metric]])
            if v is not None and key == "duration":
                unit = units[col[metric]]
                rec["duration_ns"] = v * _UNIT_NS.get(unit, math.nan)
            elif v is not None:
                rec[key] = v
        if "achieved_occupancy_pct" in rec:
            rec["achieved_occupancy"] = rec["achieved_occupancy_pct"] / 100
        if "theoretical_occupancy_pct" in rec:
            rec["theoretical_occupancy"] = rec["theoretical_occupancy_pct"] / 100
        out[m.group(1)] = rec
    return out


def _ncu_pass(ncu: str, bundle: Path, out: Path, limit: int | None, timeout: int) -> dict:
    rep = out / "ncu"
    argv = [ncu, "--target-processes", "all", "--metrics", ",".join(METRICS.values()), "-f", "-o", str(rep),
            sys.executable, str(Path(__file__).resolve()), "launch", "--bundle", str(bundle),
            "--log", str(out / "launch_ncu.json"), "--reps", "0"] + (["--limit", str(limit)] if limit else [])
    info: dict = {"ncu": ncu, "argv": argv}
    ver = subprocess.run([ncu, "--version"], capture_output=True, text=True)
    info["version"] = (ver.stdout.strip().splitlines() or ["?"])[-1]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**info, "error": f"ncu ran past {timeout} s"}
    (out / "ncu_profile.log").write_text(proc.stdout + proc.stderr)
    info["returncode"] = proc.returncode
    # ncu's own problems (no counter permission: ERR_NVGPUCTRPERM) are ==ERROR== lines
    info["errors"] = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("==ERROR==")][:20]
    report = rep.with_suffix(".ncu-rep")
    if not report.exists():
        return {**info, "error": "ncu wrote no report (see ncu_profile.log)"}
    base = [ncu, "-i", str(report), "--csv", "--page", "raw"]
    imp = subprocess.run(base + ["--print-units", "base"], capture_output=True, text=True)
    if imp.returncode != 0:   # an older ncu without --print-units: _UNIT_NS converts what it prints
        imp = subprocess.run(base, capture_output=True, text=True)
    (out / "ncu_raw.csv").write_text(imp.stdout)
    try:
        info["kernels"] = parse_ncu_raw_csv(imp.stdout)
    except ValueError as e:
        info["error"] = f"{e}; import stderr: {imp.stderr[-500:]}"
    return info


def collect(out: Path, bundle: Path = BUNDLE, no_ncu: bool = False, limit: int | None = None, reps: int = 20,
            ncu_timeout: int = 400) -> dict:
    ncu = None if no_ncu else find_ncu()
    if not no_ncu and ncu is None:
        raise SystemExit("Nsight Compute's ncu not found (searched PATH, " + ", ".join(_NCU_GLOBS)
                         + "); install it or pass --no-ncu for CUDA-event durations only")
    if not (bundle / "manifest.json").exists():
        raise SystemExit(f"no bundle at {bundle}: run prepare first (and carry build/gpu-dynamic to the GPU machine)")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ncu_info = _ncu_pass(ncu, bundle, out, limit, ncu_timeout) if ncu else None
    t1 = time.perf_counter()
    events = launch_all(bundle, out / "launch_events.json", limit, reps)
    t2 = time.perf_counter()
    dev = json.loads((out / "launch_events.json").read_text())
    ncu_k = (ncu_info or {}).pop("kernels", {})
    kernels = [{**e, **({"ncu": ncu_k[e["id"]]} if e["id"] in ncu_k else {})} for e in events]
    result = {**{k: dev[k] for k in ("device", "compute_capability", "driver_version")},
              "ncu": ncu_info, "ncu_s": round(t1 - t0, 1), "events_s": round(t2 - t1, 1), "kernels": kernels}
    (out / "gpu_dynamic.json").write_text(json.dumps(result, indent=1))
    ok = sum(e.get("status") == "ok" for e in events)
    print(f"{ok}/{len(events)} kernels ran on {result['device']}; ncu rows: {len(ncu_k)}"
          + (f"; ncu: {ncu_info.get('error')}" if ncu_info and ncu_info.get("error") else ""))
    return result


# ----------------------------------------------------------------------------- report (no GPU)

def _corr(xs: list[float], ys: list[float]) -> dict | None:
    import numpy as np
    from scipy import stats

    if len(xs) < 3 or np.std(xs) == 0 or np.std(ys) == 0:
        return None
    return {"n": len(xs), "pearson": float(stats.pearsonr(xs, ys)[0]), "spearman": float(stats.spearmanr(xs, ys)[0])}


def report(dyn_json: Path, bundle: Path = BUNDLE, dest: Path | None = None) -> dict:
    manifest = json.loads((bundle / "manifest.json").read_text())
    dyn = json.loads(dyn_json.read_text())
    ours = {k["id"]: k for k in manifest["kernels"]}
    per, occ_miss = [], []
    for r in dyn["kernels"]:
        k = ours[r["id"]]
        n = r.get("ncu", {})
        e = {"id": r["id"], "origin": k["origin"], "family": k["family"], "grid": k["grid"], "block": k["block"],
             "registers": k["static"]["registers"], "our_occupancy": k["static"]["occupancy"],
             "status": r.get("status"), **({"error": r["error"]} if "error" in r else {}),
             "event_ns_median": r.get("event_ns_median"),
             **{key: n.get(key) for key in ("theoretical_occupancy", "achieved_occupancy", "sm_throughput_pct",
                                            "duration_ns", "registers_per_thread")}}
        if e["theoretical_occupancy"] is not None and abs(e["theoretical_occupancy"] - e["our_occupancy"]) > 0.005:
            occ_miss.append(e)
        per.append(e)

    def pairs(a: str, b: str, f=lambda v: v):
        got = [(f(x[a]), f(x[b])) for x in per if x.get(a) is not None and x.get(b) is not None
               and (f is not math.log or (x[a] > 0 and x[b] > 0))]
        return [p[0] for p in got], [p[1] for p in got]

    with_ncu = [x for x in per if x["theoretical_occupancy"] is not None]
    summary = {
        "benchmark": "gpu_dynamic_labels", "device": dyn["device"], "compute_capability": dyn["compute_capability"],
        "driver_version": dyn["driver_version"], "ncu_version": (dyn.get("ncu") or {}).get("version"),
        "ptxas": manifest["ptxas"], "tvm": manifest["tvm"], "kernels": len(per),
        "ran": sum(x["status"] == "ok" for x in per), "failed": [x for x in per if x["status"] != "ok"][:20],
        "ncu_kernels": len(with_ncu),
        "theoretical_occupancy_equal": len(with_ncu) - len(occ_miss), "theoretical_occupancy_mismatches": occ_miss[:20],
        "registers_equal_ncu": sum(x["registers_per_thread"] == x["registers"] for x in with_ncu),
        "correlations": {
            "our_occupancy_vs_achieved": _corr(*pairs("our_occupancy", "achieved_occupancy")),
            "our_occupancy_vs_sm_throughput": _corr(*pairs("our_occupancy", "sm_throughput_pct")),
            "registers_vs_achieved_occupancy": _corr(*pairs("registers", "achieved_occupancy")),
            "log_ncu_duration_vs_log_event_duration": _corr(*pairs("duration_ns", "event_ns_median", math.log)),
        },
        "ncu_s": dyn.get("ncu_s"), "events_s": dyn.get("events_s"),
        "command": "python benchmarks/gpu_dynamic_labels.py prepare|collect|report",
        "per_kernel": per,
    }
    dest = dest or ROOT / "results" / "gpu_dynamic_labels.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(summary, indent=1))
    if with_ncu:
        _plot(with_ncu, dest.with_suffix(".png"))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("per_kernel", "failed",
                                                                    "theoretical_occupancy_mismatches")}, indent=1))
    return summary


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.5))
    ax[0].scatter([r["our_occupancy"] for r in rows], [r["theoretical_occupancy"] for r in rows], s=12)
    ax[0].set(xlabel="our theoretical occupancy", ylabel="ncu theoretical occupancy", title="static label vs ncu")
    ax[1].scatter([r["our_occupancy"] for r in rows], [r["achieved_occupancy"] or 0 for r in rows], s=12)
    ax[1].set(xlabel="our theoretical occupancy", ylabel="ncu achieved occupancy", title="theoretical vs achieved")
    dur = [r for r in rows if r["duration_ns"] and r["event_ns_median"]]
    ax[2].scatter([r["duration_ns"] for r in dur], [r["event_ns_median"] for r in dur], s=12)
    ax[2].set(xscale="log", yscale="log", xlabel="ncu duration (ns, base clocks, cold caches)",
              ylabel="CUDA-event median (ns)", title="duration")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="TVM CUDA kernels → PTX, cubins, launch configs, static labels (no GPU)")
    p.add_argument("--dataset", default=str(ROOT / "build" / "costmodel-gpu"))
    p.add_argument("--seeds", help="comma-separated workload seeds instead of the dataset's")
    p.add_argument("--limit", type=int, default=150)
    p.add_argument("--bundle", default=str(BUNDLE))
    c = sub.add_parser("collect", help="run the bundle under ncu and time it with CUDA events (needs a GPU)")
    c.add_argument("--out", default=os.environ.get("OUT", str(BUNDLE / "out")))
    c.add_argument("--bundle", default=str(BUNDLE))
    c.add_argument("--no-ncu", action="store_true", help="CUDA-event durations only")
    c.add_argument("--limit", type=int)
    c.add_argument("--reps", type=int, default=20)
    c.add_argument("--ncu-timeout", type=int, default=400)
    la = sub.add_parser("launch", help="(run by collect under ncu) launch every bundle kernel")
    la.add_argument("--bundle", default=str(BUNDLE))
    la.add_argument("--log", required=True)
    la.add_argument("--limit", type=int)
    la.add_argument("--reps", type=int, default=0)
    r = sub.add_parser("report", help="join the GPU's answers with our static labels → results/")
    r.add_argument("dynamic_json")
    r.add_argument("--bundle", default=str(BUNDLE))
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else None
        prepare(None if seeds else Path(a.dataset), a.limit, Path(a.bundle), seeds)
    elif a.cmd == "collect":
        collect(Path(a.out), Path(a.bundle), a.no_ncu, a.limit, a.reps, a.ncu_timeout)
    elif a.cmd == "launch":
        launch_all(Path(a.bundle), Path(a.log), a.limit, a.reps)
    else:
        report(Path(a.dynamic_json), Path(a.bundle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
