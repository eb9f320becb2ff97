"""What the cost model predicts: one named target per label, with its unit and where it comes from.

A target name is the key used everywhere: in dataset rows, model manifests, API results and the
``irtools cost --json`` objects.  ``source`` names the labeller that produces it (see
``irtoolkit.costmodel.dataset.labellers``), so a row says exactly which tool made each number.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    unit: str
    domain: str          # "cpu-static", "cpu-dynamic" or "gpu-static"
    source: str          # labeller name
    description: str
    log_scale: bool = True   # counts spanning orders of magnitude are learnt as log1p
    integer: bool = True
    # a feature that must be positive for the target to exist (a loop target of a loop-free function
    # has no value): predictions for other rows are None, as their labels were
    applies_if: str | None = None
    # a count that is zero for most functions: a classifier decides zero or not, and the count is the
    # regression's where it says not (at least 1); a threshold on the regression alone mixes the two
    # questions (real code, 4-fold by package: spill/no-spill F1 0.855 regression, 0.867 classifier)
    gated: bool = False


TARGETS: dict[str, Target] = {t.name: t for t in [
    Target("machine_instructions", "instructions", "cpu-static", "llc_static",
           "machine instructions emitted by llc-22 -O2 for the function (asm-printer NumInstructions)"),
    Target("spills", "spills", "cpu-static", "llc_static",
           "register-allocator spills in the function (regalloc NumSpills, loops included)", gated=True),
    Target("reloads", "reloads", "cpu-static", "llc_static",
           "register-allocator reloads in the function (regalloc NumReloads)", gated=True),
    Target("stack_bytes", "bytes", "cpu-static", "llc_static",
           "stack frame size (prologepilog NumStackBytes)"),
    Target("text_bytes", "bytes", "cpu-static", "llc_static",
           "size of the function's symbol in the object's .text (llvm-nm-22 --print-size)"),
    Target("instructions_executed", "instructions", "cpu-dynamic", "callgrind_dynamic",
           "instructions executed by one call of the function, callees included, on the generated "
           "harness input (valgrind callgrind, inclusive Ir); a TVM parallel loop body is a row of its "
           "own, run once over its whole range, and is not counted in the function that launches it"),
    Target("latency_ns", "ns", "cpu-dynamic", "latency",
           "ns per call of the function on the generated harness input, best of N timed repeats on this "
           "machine (irtoolkit.costmodel.dataset.latency: pinned to one CPU, batches of >= 100 us, CLOCK_MONOTONIC); "
           "kernels only, helpers have no label", integer=False),
    # Functions without loops have no label (missing, not zero): a zero would read as a loop that
    # costs nothing and pull the model towards it.
    Target("mca_inner_loop_rthroughput", "cycles/iteration", "cpu-static", "mca_loops",
           "sum over the function's innermost loops of llvm-mca-22's Block RThroughput of the loop's "
           "machine code (llc-22 -O2 assembly, -mcpu from the module); absent for functions without loops",
           integer=False, applies_if="ir.fp.TopLevelLoopCount"),
    Target("gpu_registers_sm80", "registers/thread", "gpu-static", "ptxas_gpu",
           "registers per thread from ptxas -v for sm_80", log_scale=False),
    Target("gpu_registers_sm90", "registers/thread", "gpu-static", "ptxas_gpu",
           "registers per thread from ptxas -v for sm_90", log_scale=False),
    Target("gpu_spill_bytes_sm90", "bytes", "gpu-static", "ptxas_gpu",
           "spill stores + spill loads in bytes from ptxas -v for sm_90"),
    Target("gpu_shared_bytes_sm90", "bytes", "gpu-static", "ptxas_gpu",
           "static shared memory per block from ptxas -v for sm_90"),
    Target("gpu_occupancy_sm80", "fraction", "gpu-static", "ptxas_gpu",
           "theoretical occupancy (active warps / max warps per SM) on sm_80", log_scale=False,
           integer=False),
    Target("gpu_occupancy_sm90", "fraction", "gpu-static", "ptxas_gpu",
           "theoretical occupancy (active warps / max warps per SM) on sm_90", log_scale=False,
           integer=False),
]}

CPU_TARGETS = [n for n, t in TARGETS.items() if t.domain.startswith("cpu")]
GPU_TARGETS = [n for n, t in TARGETS.items() if t.domain == "gpu-static"]


def get(name: str) -> Target:
    from irtools.errors import IrtoolsError

    try:
        return TARGETS[name]
    except KeyError:
        raise IrtoolsError(f"unknown cost-model target {name!r}; known: {', '.join(TARGETS)}") from None
