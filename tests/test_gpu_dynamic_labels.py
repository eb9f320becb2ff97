"""benchmarks/gpu_dynamic_labels.py: the bundle ``prepare`` writes from real TVM CUDA kernels, the ncu
CSV parser, and (only where a CUDA driver is) the launcher."""

from __future__ import annotations

import ctypes.util
import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

from irtoolkit.costmodel import tools

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gpu_dynamic_labels", ROOT / "benchmarks" / "gpu_dynamic_labels.py")
gdl = importlib.util.module_from_spec(_spec)
sys.modules["gpu_dynamic_labels"] = gdl
_spec.loader.exec_module(gdl)

SEEDS = [0, 3, 5]   # a reduce, a conv2d and another reduce: one workload has 2 inputs, one 1


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    pytest.importorskip("tvm")
    for tool in ("clang-22", "llc-22", "ptxas"):
        if tools.find(tool) is None:
            pytest.skip(f"{tool} not found")
    out = tmp_path_factory.mktemp("gpu-dynamic")
    gdl.prepare(None, limit=8, bundle=out, seeds=SEEDS, configs_per_program=3)
    return out


def test_bundle_kernels_are_launchable_as_described(bundle):
    from irtoolkit.costmodel.dataset import tvmgen

    m = json.loads((bundle / "manifest.json").read_text())
    assert len(m["kernels"]) >= 4
    assert len({k["function"] for k in m["kernels"]}) == len(m["kernels"])   # ncu rows need unique names
    assert sum(p.stat().st_size for p in bundle.iterdir()) < 20e6 * len(m["kernels"]) / 150
    labelled = {}
    for k in m["kernels"]:
        assert (bundle / k["cubin"]).read_bytes()[:4] == b"\x7fELF"
        ptx = (bundle / k["ptx"]).read_text()
        # the PTX entry signature, parsed here independently of the script's parser
        sig = re.search(rf"\.entry\s+{k['function']}\s*\(([^)]*)\)", ptx)
        assert sig, k["function"]
        decl = re.findall(r"\.param\s+\.(\w+)", sig.group(1))
        assert len(decl) == len(k["params"])
        for p, ty in zip(k["params"], decl, strict=True):
            assert ty == "u64" if p["kind"] == "buffer" else int(ty[1:]) == 8 * p["bytes"]
        assert k["param_mismatch"] == []
        assert math.prod(k["block"]) == k["launch_bounds"]
        # the grid from TVM's thread extents covers the output exactly: threads × inner per element
        out_bytes = next(p["bytes"] for p in k["params"] if p["name"] == "C_ptr")
        per_block = math.prod(k["block"]) * k["config"]["inner"]
        assert math.prod(k["grid"]) == -(-(out_bytes // 4) // per_block)
        # renaming the entry changes nothing ptxas decides: the labels the dataset build gives this IR
        key = (k["seed"], k["schedule_seed"])
        if key not in labelled:
            labelled[key] = tvmgen.sample(k["seed"], k["schedule_seed"], bundle / "work" / str(len(labelled)))[4]
        want = labelled[key].values[k["tvm_function"]]
        assert k["static"]["registers"] == want["gpu_registers_sm90"]
        assert k["static"]["occupancy"] == want["gpu_occupancy_sm90"]


# FORMAT TEST: a CSV written here after Nsight Compute's documented ``--csv --page raw`` layout (header
# row, units row, one row per launch), not ncu's output: it checks the parser, not any GPU number.
RAW_CSV = """==PROF== Connected to process 4242 (/usr/bin/python3)
==PROF== Disconnected from process 4242
"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC",\
"gpu__time_duration.sum","launch__occupancy_limit_registers","launch__registers_per_thread",\
"sm__maximum_warps_per_active_cycle_pct","sm__throughput.avg.pct_of_peak_sustained_elapsed",\
"sm__warps_active.avg.pct_of_peak_sustained_active"
"","","","","","","","","","","","usecond","block","register/thread","%","%","%"
"0","4242","python3","gpu1","k0000_main_kernel","1","7","(1024, 1, 1)","(1, 1, 1)","0","9.0","1,234.50","2","30","100","0.41","48.7"
"1","4242","python3","gpu1","k0001_main_kernel","1","7","(64, 1, 1)","(98, 1, 1)","0","9.0","3.10","32","24","18.75","12.5","17.9"
"2","4242","python3","gpu1","other_kernel","1","7","(32, 1, 1)","(1, 1, 1)","0","9.0","1.00","8","8","50","1","1"
"""


def test_ncu_raw_csv_parser_format():
    got = gdl.parse_ncu_raw_csv(RAW_CSV)
    assert set(got) == {"k0000", "k0001"}
    a = got["k0000"]
    assert a["duration_ns"] == pytest.approx(1_234_500)
    assert a["achieved_occupancy"] == pytest.approx(0.487)
    assert a["theoretical_occupancy"] == pytest.approx(1.0)
    assert a["sm_throughput_pct"] == pytest.approx(0.41)
    assert a["registers_per_thread"] == 30 and a["grid_size"] == "(1, 1, 1)"
    with pytest.raises(ValueError, match="no ncu raw CSV header"):
        gdl.parse_ncu_raw_csv("==ERROR== ERR_NVGPUCTRPERM - no permission to access GPU performance counters")


@pytest.mark.skipif(ctypes.util.find_library("cuda") is None,
                    reason="no CUDA driver (libcuda) here: collect runs only on a GPU machine")
def test_collect_on_gpu(bundle, tmp_path):
    res = gdl.collect(tmp_path, bundle, no_ncu=gdl.find_ncu() is None, reps=5)
    assert all(k["status"] == "ok" and k["event_ns_median"] > 0 for k in res["kernels"]), res["kernels"]
    summary = gdl.report(tmp_path / "gpu_dynamic.json", bundle, dest=tmp_path / "report.json")
    assert summary["ran"] == len(res["kernels"])
