"""Checks the cost model's static GPU labels against a real GPU's driver.

The GPU targets of the cost model (registers per thread, spill and shared-memory bytes, theoretical
occupancy) are labelled without a GPU: llc-22 → PTX → ptxas -v, and an occupancy calculator in
``irtoolkit.costmodel.dataset.labellers``.  This script asks the CUDA driver of a real card the same questions:

    python benchmarks/gpu_label_check.py prepare            # here: PTX + cubins + our labels
    python benchmarks/gpu_label_check.py check  --out DIR   # on a GPU machine: driver's answers
    python benchmarks/gpu_label_check.py report DIR/gpu_driver.json   # here: agreement → results/

``check`` needs only Python and libcuda (ctypes), so it runs on a bare GPU machine.  It loads each
kernel twice: the cubin ptxas made here (registers must match by construction; the driver's
occupancy calculator must match ours) and the PTX JIT-compiled by the driver's own, newer,
compiler (how far the labels drift across toolchain versions).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "build" / "gpu-check"
ARCH = "sm_90"


# ----------------------------------------------------------------------------- prepare (no GPU)

def prepare(dataset: Path, limit: int) -> None:
    sys.path.insert(0, str(ROOT))
    import irtools
    from irtoolkit.costmodel import tools
    from irtoolkit.costmodel.dataset.labellers import occupancy, parse_ptxas
    from irtoolkit.costmodel.features import feature_matrix

    ptxas = tools.require("ptxas")   # the one that made the labels (recorded in their provenance)

    rows = [json.loads(line) for shard in sorted((dataset / "shards").glob("*.jsonl"))
            for line in shard.read_text().splitlines() if line.strip()]
    BUNDLE.mkdir(parents=True, exist_ok=True)
    kernels, seen = [], set()
    for row in rows:
        if len(kernels) >= limit or row["ir_file"] in seen:
            continue
        seen.add(row["ir_file"])
        ll = dataset / row["ir_file"]
        stem = ll.stem
        mod = irtools.parse_llvm(ll)
        ptx, cubin = BUNDLE / f"{stem}.ptx", BUNDLE / f"{stem}.cubin"
        subprocess.run(["llc-22", "-O2", "-mtriple=nvptx64-nvidia-cuda", f"-mcpu={ARCH}", str(ll), "-o", str(ptx)],
                       check=True)
        proc = subprocess.run([ptxas, "-v", f"-arch={ARCH}", str(ptx), "-o", str(cubin)],
                              check=True, capture_output=True, text=True)
        usage = parse_ptxas(proc.stderr + proc.stdout)
        # threads per block from the launch bounds (nvvm.maxntid), as the gpu.max_threads feature reads them
        _kind, fnames, X = feature_matrix(mod, ["gpu.max_threads"])
        for name, (threads,) in zip(fnames, X.tolist(), strict=True):
            if name not in usage or not threads > 0:
                continue
            block = int(threads)
            r = usage[name][ARCH]
            kernels.append({"ir": row["ir_file"], "ptx": ptx.name, "cubin": cubin.name, "function": name,
                            "block": block, "family": row.get("family"),
                            "ptxas": {"registers": r["registers"], "spill_bytes": r["spill_bytes"],
                                      "shared_bytes": r["shared_bytes"]},
                            "our_occupancy": occupancy(ARCH, block, int(r["registers"]), int(r["shared_bytes"]))})
    ver = tools.version("ptxas")
    (BUNDLE / "manifest.json").write_text(json.dumps({"arch": ARCH, "ptxas": ver, "kernels": kernels}, indent=1))
    print(f"{len(kernels)} kernels in {BUNDLE}")


# ----------------------------------------------------------------------------- check (on the GPU)

ATTR = {"max_threads": 0, "shared_bytes": 1, "local_bytes": 3, "registers": 4, "ptx_version": 5, "binary_version": 6}


def _cuda():
    cu = ctypes.CDLL("libcuda.so.1")

    def ok(rc, what):
        if rc != 0:
            msg = ctypes.c_char_p()
            cu.cuGetErrorString(rc, ctypes.byref(msg))
            raise RuntimeError(f"{what}: CUDA error {rc} ({msg.value.decode() if msg.value else '?'})")
    return cu, ok


def check(out: Path) -> None:
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    cu, ok = _cuda()
    ok(cu.cuInit(0), "cuInit")
    dev = ctypes.c_int()
    ok(cu.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet")
    name = ctypes.create_string_buffer(256)
    cu.cuDeviceGetName(name, 256, dev)
    major, minor, drv = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    cu.cuDeviceGetAttribute(ctypes.byref(major), 75, dev)
    cu.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev)
    cu.cuDriverGetVersion(ctypes.byref(drv))
    ctx = ctypes.c_void_p()
    ok(cu.cuCtxCreate_v2(ctypes.byref(ctx), 0, dev), "cuCtxCreate")

    def attrs(data: bytes, fname: str, block: int) -> dict:
        mod, fn = ctypes.c_void_p(), ctypes.c_void_p()
        ok(cu.cuModuleLoadData(ctypes.byref(mod), ctypes.c_char_p(data)), f"cuModuleLoadData {fname}")
        try:
            ok(cu.cuModuleGetFunction(ctypes.byref(fn), mod, fname.encode()), "cuModuleGetFunction")
            res = {}
            for key, code in ATTR.items():
                v = ctypes.c_int()
                ok(cu.cuFuncGetAttribute(ctypes.byref(v), code, fn), f"cuFuncGetAttribute {key}")
                res[key] = v.value
            blocks = ctypes.c_int()
            ok(cu.cuOccupancyMaxActiveBlocksPerMultiprocessor(ctypes.byref(blocks), fn, block, 0), "occupancy")
            res["active_blocks"] = blocks.value
            res["occupancy"] = blocks.value * -(-block // 32) / 64   # 64 warps per SM on sm_80 / sm_90
            return res
        finally:
            cu.cuModuleUnload(mod)

    results = []
    for k in manifest["kernels"]:
        entry = {"function": k["function"], "ir": k["ir"]}
        for kind, fname in (("cubin", k["cubin"]), ("ptx_jit", k["ptx"])):
            data = (BUNDLE / fname).read_bytes() + (b"\0" if kind == "ptx_jit" else b"")
            try:
                entry[kind] = attrs(data, k["function"], k["block"])
            except RuntimeError as e:
                entry[kind] = {"error": str(e)}
        results.append(entry)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_driver.json").write_text(json.dumps({
        "device": name.value.decode(), "compute_capability": f"{major.value}.{minor.value}",
        "driver_version": drv.value, "kernels": results}, indent=1))
    print(f"{len(results)} kernels checked on {name.value.decode()} (driver {drv.value})")


# ----------------------------------------------------------------------------- report (no GPU)

def report(driver_json: Path) -> dict:
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    drv = json.loads(driver_json.read_text())
    ours = {(k["ir"], k["function"]): k for k in manifest["kernels"]}
    n = reg_eq = occ_eq = smem_eq = jit_reg_eq = jit_n = 0
    jit_diff, occ_miss = [], []
    for r in drv["kernels"]:
        k = ours[(r["ir"], r["function"])]
        c = r.get("cubin", {})
        if "error" in c:
            continue
        n += 1
        reg_eq += c["registers"] == k["ptxas"]["registers"]
        smem_eq += c["shared_bytes"] == k["ptxas"]["shared_bytes"]
        if abs(c["occupancy"] - k["our_occupancy"]) < 1e-9:
            occ_eq += 1
        else:
            occ_miss.append({"function": k["function"], "ir": k["ir"], "block": k["block"],
                             "registers": k["ptxas"]["registers"], "ours": k["our_occupancy"],
                             "driver": c["occupancy"]})
        j = r.get("ptx_jit", {})
        if "error" not in j:
            jit_n += 1
            jit_reg_eq += j["registers"] == k["ptxas"]["registers"]
            jit_diff.append(j["registers"] - k["ptxas"]["registers"])
    summary = {
        "benchmark": "gpu_label_check", "device": drv["device"], "compute_capability": drv["compute_capability"],
        "driver_version": drv["driver_version"], "ptxas": manifest["ptxas"], "kernels": n,
        "registers_equal_cubin": reg_eq, "shared_bytes_equal": smem_eq, "occupancy_equal": occ_eq, "occupancy_mismatches": occ_miss[:20],
        "driver_jit_kernels": jit_n, "driver_jit_registers_equal": jit_reg_eq,
        "driver_jit_register_delta_mean": (sum(jit_diff) / len(jit_diff)) if jit_diff else None,
        "driver_jit_register_delta_abs_mean": (sum(map(abs, jit_diff)) / len(jit_diff)) if jit_diff else None,
        "command": "python benchmarks/gpu_label_check.py prepare|check|report",
    }
    dest = ROOT / "results" / "gpu_label_check.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "occupancy_mismatches"}, indent=1))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="compile the GPU dataset's kernels to PTX and cubins (no GPU)")
    p.add_argument("--dataset", default=str(ROOT / "build" / "costmodel-gpu"))
    p.add_argument("--limit", type=int, default=400)
    c = sub.add_parser("check", help="ask the CUDA driver (needs a GPU)")
    c.add_argument("--out", default=os.environ.get("OUT", str(BUNDLE)))
    r = sub.add_parser("report", help="compare the driver's answers with our labels")
    r.add_argument("driver_json")
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        prepare(Path(a.dataset), a.limit)
    elif a.cmd == "check":
        check(Path(a.out))
    else:
        report(Path(a.driver_json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
