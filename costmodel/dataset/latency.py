"""``latency_ns``: wall-clock nanoseconds per call of a generated kernel on this machine, best of N.

Method.  The kernels' object is made as the callgrind path makes it (``llc-22 -O2 -filetype=obj`` from
the stored IR), and linked with a timing harness written here (:func:`timing_harness`, clang-22 -O2
-march=x86-64, like the callgrind harness only the kernels' object varies between rows).  The harness
pins itself to one CPU (``sched_setaffinity``) and, kernel by kernel in program order, draws the
kernel's inputs from the same xorshift stream in the same order as ``cgen.Program.harness()``, so
each kernel sees exactly the data whose executed instructions callgrind counted.  Those inputs are
kept as a pristine copy.  Each kernel gets a few warm-up calls, a batch size calibrated at run time so
that a timed batch lasts at least ``min_batch_ns`` (100 µs), then ``repeats`` (21) timed batches with
``clock_gettime(CLOCK_MONOTONIC)`` around each; the label is the best batch's time per call.  Calls
go through a volatile function pointer and their results into a volatile sink, so nothing is hoisted
or dropped, and the empty kernel below pays the same call.

Kernels write their buffers (``c``, and ``a`` for the 2-D stencils), so the inputs are copied back from
the pristine copy before every timed batch, outside the timed region: each batch starts from the
callgrind data.  Inside a batch, calls after the first see what the previous call left.  For the
generator's kernels that changes no branch, no address and no trip count: control flow depends only on
``a`` (never written by a kernel that branches on it), ``ix`` (never written) and compile-time bounds;
only the values in ``c`` drift, and with integer-valued inputs and ``+ - *`` (no division) floating
values grow to inf/NaN at worst, never into subnormals, the only slow x86 FP path.  Timing one call per
batch instead would put ``clock_gettime`` (about 20 ns) into the label of kernels that take a few ns.
Caches are warm (the copy-back just touched the inputs): the label is a warm-cache latency.

Noise floor, measured per row (``row["noise"]["latency_ns"]``, the one place it is recorded):

- ``empty_ns``: an empty ``noinline`` kernel of the same signature, timed the same way: the call,
  loop and sink overhead that every label contains (not subtracted); ``clock_ns``: the cost of one
  ``clock_gettime`` (best of 1000 back-to-back pairs), which a batch of ≥ 100 µs divides away.
- ``second_ns`` / ``median_ns``: the 2nd-best and median batch of the same run, the spread inside
  one run.
- ``rerun_ns``: the best-of-N of a second, separate harness process run straight after the first.
  :func:`noise_floor` turns these into the label-to-label MAPE between the two labellings: the floor
  below which no model's MAPE on ``latency_ns`` means anything.

Labels are of this machine at the load it had when labelled (the provenance names the CPU); with
other work on the other core the floor is what it is, and it is reported, not assumed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from irtools.errors import IrtoolsError

from .. import tools
from . import cgen
from .labellers import LabelError, Labels, Provenance, _run

TARGET = "latency_ns"
_ORIGIN = re.compile(r"^cgen_(\d+)$")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def timing_harness(prog: cgen.Program, *, repeats: int = 21, warmup: int = 3,
                   min_batch_ns: int = 100_000) -> str:
    """A main(argc, argv) that times each kernel of ``prog`` (argv[1]: the CPU to pin to).

    Output lines: ``C clock_ns``, then per kernel ``K name best second median worst batch`` and per
    kernel type ``E type best second median worst batch`` (ns per call) for the empty kernel.
    """
    n = cgen.BUF_ELEMS
    types = list(dict.fromkeys(k.ctype for k in prog.kernels))
    L = ["#define _GNU_SOURCE", "#include <sched.h>", "#include <stdio.h>", "#include <stdlib.h>",
         "#include <string.h>", "#include <time.h>", "",
         f"#define BUF {n}", f"#define REPEATS {repeats}", f"#define WARMUP {warmup}",
         f"#define MIN_NS {min_batch_ns}LL", "#define MAX_BATCH (1L << 24)", ""]
    for k in prog.kernels:
        t = k.ctype
        L.append(f"{t} {k.name}({t} *a, {t} *b, {t} *c, int *ix);")
    # the callgrind harness's generator, word for word: the same stream gives the same inputs
    L += ["", "static unsigned long long st = 88172645463325252ULL;",
          "static unsigned next(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17;"
          " return (unsigned)(st >> 11); }",
          "static volatile double sink;",
          "static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);"
          " return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }",
          "static int cmp(const void *x, const void *y) { double a = *(const double *)x, b = *(const double *)y;"
          " return (a > b) - (a < b); }",
          "static void report(char tag, const char *name, double *per, long batch) {",
          "  qsort(per, REPEATS, sizeof(double), cmp);",
          "  printf(\"%c %s %.4f %.4f %.4f %.4f %ld\\n\", tag, name, per[0], per[1], per[REPEATS / 2],"
          " per[REPEATS - 1], batch);",
          "}", ""]
    for t in types:
        v = t.replace(" ", "_")
        L += [f"__attribute__((noinline)) {t} empty_{v}({t} *a, {t} *b, {t} *c, int *ix)"
              " { (void)a; (void)b; (void)c; (void)ix; return 0; }",
              f"static void measure_{v}(char tag, const char *name, {t} (*f)({t} *, {t} *, {t} *, int *),",
              f"                        {t} *a, {t} *b, {t} *c, const {t} *pa, const {t} *pb, const {t} *pc,"
              " int *ix) {",
              # a volatile pointer: the compiler may neither inline nor drop the calls, empty ones included
              f"  {t} (*volatile fp)({t} *, {t} *, {t} *, int *) = f;",
              f"  const size_t bytes = sizeof({t}) * BUF;",
              "#define RESET() do { memcpy(a, pa, bytes); memcpy(b, pb, bytes); memcpy(c, pc, bytes); } while (0)",
              "  for (int w = 0; w < WARMUP; w++) { RESET(); sink += (double)fp(a, b, c, ix); }",
              "  long batch = 1;",
              "  for (;;) {",
              "    RESET();",
              "    long long t0 = now();",
              "    for (long i = 0; i < batch; i++) sink += (double)fp(a, b, c, ix);",
              "    long long dt = now() - t0;",
              "    if (dt >= MIN_NS || batch >= MAX_BATCH) break;",
              "    long next_batch = dt > 0 ? (long)((double)batch * 1.25 * MIN_NS / dt) + 1 : batch * 16;",
              "    batch = next_batch > batch * 16 ? batch * 16 : next_batch > batch ? next_batch : batch * 2;",
              "    if (batch > MAX_BATCH) batch = MAX_BATCH;",
              "  }",
              "  double per[REPEATS];",
              "  for (int r = 0; r < REPEATS; r++) {",
              "    RESET();",
              "    long long t0 = now();",
              "    for (long i = 0; i < batch; i++) sink += (double)fp(a, b, c, ix);",
              "    per[r] = (double)(now() - t0) / (double)batch;",
              "  }",
              "#undef RESET",
              "  report(tag, name, per, batch);",
              "}", ""]
    L += ["int main(int argc, char **argv) {",
          "  if (argc > 1) {",
          "    cpu_set_t set; CPU_ZERO(&set); CPU_SET(atoi(argv[1]), &set);",
          "    if (sched_setaffinity(0, sizeof set, &set) != 0) { perror(\"sched_setaffinity\"); return 2; }",
          "  }",
          "  long long clk = 1LL << 60;",
          "  for (int i = 0; i < 1000; i++) { long long t0 = now(), t1 = now(); if (t1 - t0 < clk) clk = t1 - t0; }",
          "  printf(\"C %lld\\n\", clk);",
          f"  int *ix = malloc(sizeof(int) * {n});",
          f"  for (int i = 0; i < {n}; i++) ix[i] = (int)(next() % 1024);"]
    for t in cgen.TYPES:
        v = t.replace(" ", "_")
        L.append(f"  {t} *{v}_a = malloc(sizeof({t}) * BUF), *{v}_b = malloc(sizeof({t}) * BUF),"
                 f" *{v}_c = malloc(sizeof({t}) * BUF);")
        L.append(f"  {t} *{v}_pa = malloc(sizeof({t}) * BUF), *{v}_pb = malloc(sizeof({t}) * BUF),"
                 f" *{v}_pc = malloc(sizeof({t}) * BUF);")
    for k in prog.kernels:
        t, v = k.ctype, k.ctype.replace(" ", "_")
        L.append(f"  for (int i = 0; i < {n}; i++) {{ {v}_pa[i] = ({t})(next() % 97) - 40;"
                 f" {v}_pb[i] = ({t})(next() % 89) - 30; {v}_pc[i] = ({t})(next() % 7); }}")
        L.append(f'  measure_{v}(\'K\', "{k.name}", {k.name}, {v}_a, {v}_b, {v}_c, {v}_pa, {v}_pb, {v}_pc, ix);')
    for t in types:
        v = t.replace(" ", "_")
        L.append(f'  measure_{v}(\'E\', "{t}", empty_{v}, {v}_a, {v}_b, {v}_c, {v}_pa, {v}_pb, {v}_pc, ix);')
    L += ["  return sink == 12345.678 ? 1 : 0;", "}", ""]
    return "\n".join(L)


@dataclass
class Timing:
    best: float
    second: float
    median: float
    worst: float
    batch: int


@dataclass
class HarnessRun:
    clock_ns: float
    kernels: dict[str, Timing] = field(default_factory=dict)
    empty: dict[str, Timing] = field(default_factory=dict)     # by C type


def parse_output(text: str) -> HarnessRun:
    run = HarnessRun(clock_ns=float("nan"))
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "C":
            run.clock_ns = float(parts[1])
        elif len(parts) == 7 and parts[0] in "KE":
            t = Timing(*(float(x) for x in parts[2:6]), int(parts[6]))
            (run.kernels if parts[0] == "K" else run.empty)[parts[1]] = t
    return run


@dataclass
class LatencyLabels(Labels):
    """Labels plus, per function, what the noise-floor measurements gave (``row["noise"][target]``)."""
    noise: dict[str, dict[str, dict]] = field(default_factory=dict)


def program_of(rows: list[dict]) -> cgen.Program:
    """The generated program the rows of one module come from (``origin`` is ``cgen_<seed>``)."""
    origins = {r["origin"] for r in rows}
    if len(origins) != 1:
        raise LabelError(f"rows of one module name {len(origins)} origin programs: {sorted(origins)}")
    (origin,) = origins
    m = _ORIGIN.match(origin)
    if m is None:
        raise LabelError(f"origin {origin!r} is not a generated C program (cgen_<seed>)")
    return cgen.generate_program(int(m.group(1)))


class LatencyLabeller:
    """Wall-clock ns per call, best of ``repeats`` batches, plus a second harness run for the noise floor.

    ``label(ir_path, workdir, rows=...)`` fits ``costmodel.dataset.relabel`` (which hands a labeller
    with ``needs_rows`` the rows of the module); ``label_program`` takes the program and object directly.
    """
    name = "latency"
    targets = (TARGET,)
    needs_rows = True

    def __init__(self, *, repeats: int = 21, warmup: int = 3, min_batch_ns: int = 100_000, runs: int = 2,
                 cpu: int | None = None, timeout: float = 120):
        if repeats < 3 or runs < 1:
            raise IrtoolsError("latency labelling needs repeats >= 3 and runs >= 1")
        self.repeats, self.warmup, self.min_batch_ns, self.runs = repeats, warmup, min_batch_ns, runs
        # the last CPU this process may use: on a small machine cpu 0 takes most interrupts
        self.cpu = cpu if cpu is not None else max(os.sched_getaffinity(0))
        self.timeout = timeout

    def label(self, ir_path: Path, workdir: Path, rows: list[dict] | None = None) -> LatencyLabels:
        if not rows:
            raise LabelError("the latency labeller needs the module's rows (to know its program)")
        llc = tools.require("llc-22")
        workdir.mkdir(parents=True, exist_ok=True)
        obj = workdir / (ir_path.stem + ".o")
        # the object the callgrind path links: llc-22 -O2 of the stored IR (remarks change no code)
        _run([llc, "-O2", "-filetype=obj", str(ir_path), "-o", str(obj)])
        prog = program_of(rows)
        labels = self.label_program(prog, obj, workdir)
        labels.missing.update(helper_reasons({r["function"] for r in rows}, prog))
        return labels

    def label_program(self, prog: cgen.Program, obj: Path, workdir: Path) -> LatencyLabels:
        clang = tools.require("clang-22")
        workdir.mkdir(parents=True, exist_ok=True)
        src = workdir / "latency_harness.c"
        src.write_text(timing_harness(prog, repeats=self.repeats, warmup=self.warmup,
                                      min_batch_ns=self.min_batch_ns))
        exe = workdir / "latency_harness.exe"
        # -no-pie: llc writes the static relocation model by default, which a PIE link rejects
        _run([clang, "-O2", "-march=x86-64", "-no-pie", str(src), str(obj), "-o", str(exe)])
        runs = [parse_output(_run([str(exe), str(self.cpu)], cwd=workdir, timeout=self.timeout).stdout)
                for _ in range(self.runs)]
        first = runs[0]
        if not first.kernels:
            raise LabelError(f"the timing harness of {prog.name} printed no kernel timings")
        labels = LatencyLabels(provenance={TARGET: Provenance(
            "irtools latency harness", f"{tools.version('clang-22')}; {tools.version('llc-22')}",
            f"x86_64 {_cpu_model()}, pinned to cpu {self.cpu}",
            ("objects by llc-22 -O2 -filetype=obj", "harness clang-22 -O2 -march=x86-64",
             f"best of {self.repeats} batches", f"batch >= {self.min_batch_ns} ns, calibrated per kernel",
             f"{self.warmup} warm-up calls", "inputs re-copied before every batch", "CLOCK_MONOTONIC",
             f"{self.runs} harness runs, the label from the first"))})
        types = {k.name: k.ctype for k in prog.kernels}
        for k in prog.kernels:
            t = first.kernels.get(k.name)
            if t is None:
                labels.missing[k.name] = {TARGET: "the timing harness printed no timing for it"}
                continue
            labels.values[k.name] = {TARGET: t.best}
            e = first.empty.get(types[k.name])
            labels.noise[k.name] = {TARGET: {
                "second_ns": t.second, "median_ns": t.median, "worst_ns": t.worst, "batch": t.batch,
                "repeats": self.repeats, "empty_ns": e.best if e else None, "clock_ns": first.clock_ns,
                "rerun_ns": [r.kernels[k.name].best for r in runs[1:] if k.name in r.kernels]}}
        return labels


def helper_reasons(functions, prog: cgen.Program) -> dict[str, dict[str, str]]:
    """Why a defined function that is not a kernel (a ``_helper``) has no latency label."""
    kernels = {k.name for k in prog.kernels}
    return {fn: {TARGET: "not a kernel: the harness calls kernels only (a helper's time is in its caller's)"}
            for fn in functions if fn not in kernels}


def noise_floor(rows: list[dict]) -> dict:
    """Label-to-label repeatability of ``latency_ns`` over rows that carry a second run.

    ``label_to_label_mape``: mean |rerun − label| / label, the MAPE one labelling scores against
    another; also the spread inside a run (2nd-best and median over best) and the empty kernel's share
    of the label.
    """
    ape, spread2, spread_med, empty_share = [], [], [], []
    for r in rows:
        y = r.get("labels", {}).get(TARGET)
        nz = r.get("noise", {}).get(TARGET)
        if not y or not nz:
            continue
        for again in nz.get("rerun_ns") or []:
            ape.append(abs(again - y) / y)
        spread2.append(nz["second_ns"] / y - 1)
        spread_med.append(nz["median_ns"] / y - 1)
        if nz.get("empty_ns") is not None:
            empty_share.append(nz["empty_ns"] / y)
    if not ape:
        return {"n": 0}
    a = np.asarray(ape)
    return {"n": len(a), "label_to_label_mape": float(a.mean()), "label_to_label_median_ape": float(np.median(a)),
            "label_to_label_p90_ape": float(np.quantile(a, 0.9)),
            "second_best_over_best_median": float(np.median(spread2)),
            "median_over_best_median": float(np.median(spread_med)),
            "empty_kernel_share_median": float(np.median(empty_share)) if empty_share else None,
            "empty_kernel_share_max": float(np.max(empty_share)) if empty_share else None}


def compare_labellings(rows_a: list[dict], rows_b: list[dict]) -> dict:
    """MAPE of one labelling's ``latency_ns`` against another's, matched by (IR file, function).

    Two labellings of the same dataset at different times (relabel a copy later) give the floor across
    time and load, which the back-to-back ``rerun_ns`` of one labelling cannot show.
    """
    a = {(r["ir_file"], r["function"]): r["labels"][TARGET] for r in rows_a if TARGET in r.get("labels", {})}
    pairs = [(a[k], r["labels"][TARGET]) for r in rows_b
             if TARGET in r.get("labels", {}) and (k := (r["ir_file"], r["function"])) in a]
    if not pairs:
        return {"n": 0}
    x, y = np.asarray(pairs).T
    ape = np.abs(y - x) / x
    from scipy.stats import kendalltau

    return {"n": len(ape), "mape": float(ape.mean()), "median_ape": float(np.median(ape)),
            "p90_ape": float(np.quantile(ape, 0.9)), "kendall_tau": float(kendalltau(x, y).statistic)}


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from .build import load_rows

    ap = argparse.ArgumentParser(prog="python -m costmodel.dataset.latency",
                                 description="latency_ns noise floor of a labelled dataset (its rows' second "
                                             "runs), or of two labellings of the same dataset (--against)")
    ap.add_argument("dataset")
    ap.add_argument("--against", help="another labelling of the same programs (a relabelled copy)")
    args = ap.parse_args(argv)
    rows = load_rows(args.dataset)
    out = {"within_labelling": noise_floor(rows)}
    if args.against:
        out["across_labellings"] = compare_labellings(rows, load_rows(args.against))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
