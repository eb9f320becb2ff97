"""``latency_ns``: wall-clock nanoseconds per call of a generated kernel on this machine, best of N.

Method.  The kernels' object is made as the callgrind path makes it (``llc-22 -O2 -filetype=obj`` from
the stored IR), and linked with a timing harness written here (:func:`timing_harness`, clang-22 -O2
-march=x86-64; as in the callgrind harness only the kernels' object varies between rows).  The harness
pins itself to one CPU (``sched_setaffinity``) and, kernel by kernel in program order, draws the
kernel's inputs from the same xorshift stream in the same order as ``cgen.Program.harness()``, so
each kernel sees exactly the data whose executed instructions callgrind counted.  Those inputs are
kept as a pristine copy.  Each kernel gets a few warm-up calls, a batch size calibrated at run time so
that a timed batch lasts at least ``min_batch_ns`` (100 µs), then ``repeats`` (7) timed batches with
``clock_gettime(CLOCK_MONOTONIC)`` around each; a process's figure is its best batch's time per call.
Calls go through a volatile function pointer and their results into a volatile sink, so nothing is
hoisted or dropped, and the empty kernel below pays the same call.  Each module's harness is run as
``runs`` (24) separate processes, interleaved with the other modules of the relabel shard so that one
module's processes lie seconds apart; the label is the minimum over the 1st, 3rd, 5th... processes (12
× 7 = 84 batches), and the 2nd, 4th... repeat the estimate for the noise floor.

Why so many processes: on this 2-core machine (shared with other work while labelled) a process runs in
one of a fast state and 1.3-2.4x slower ones, which flip every few hundred ms; a dependency chain
(``reduce``, ``recurrence``) hardly moves while branchy and throughput-bound kernels slow down, the
signature of another tenant on the core, and neither disabling address randomisation nor SCHED_FIFO
changes it.  Inside one process the repeats agree to 0.1-0.3 %, so more batches per process would not
help; more processes, spread in time, do.  (With 2 back-to-back processes the label-to-label MAPE looked
like 9 % but two labellings minutes apart differed by 19 %; with 24 interleaved processes both are
about the same, and the per-row figure below is honest about the labelling as a whole.)

Kernels write their buffers (``c``, and ``a`` for the 2-D stencils), so the inputs are copied back from
the pristine copy before every timed batch, outside the timed region: each batch starts from the
callgrind data.  Inside a batch, calls after the first see what the previous call left.  For the
generator's kernels that changes no branch, no address and no trip count: control flow depends only on
``a`` (never written by a kernel that branches on it), ``ix`` (never written) and compile-time bounds;
only the values in ``c`` drift, and with integer-valued inputs and ``+ - *`` (no division) floating
values grow to inf/NaN at worst, never into subnormals, the slow FP path.  Timing one call per batch
instead would put ``clock_gettime`` (about 20 ns) into the label of kernels that take a few ns.
Caches are warm (the copy-back just touched the inputs): the label is a warm-cache latency.  Helpers
(``*_helper``) have no label: the harness calls kernels only, and a helper's time is in its caller's.

Noise floor, measured per row (``row["noise"]["latency_ns"]``, the one place it is recorded):

- ``empty_ns``: an empty ``noinline`` kernel of the same signature, timed the same way: the call,
  loop and sink overhead that every label contains (not subtracted); ``clock_ns``: the cost of one
  ``clock_gettime`` (best of 1000 back-to-back pairs), which a batch of ≥ 100 µs divides away.
- ``second_ns`` / ``median_ns`` / ``worst_ns``: the other batches of the process that gave the label.
- ``process_best_ns``: every process's best, in run order; ``rerun_ns``: the label's estimator over the
  other half of the processes.  :func:`noise_floor` turns these into the label-to-label MAPE, the floor
  below which no model's MAPE on ``latency_ns`` means anything; :func:`compare_labellings` compares two
  whole labellings (``relabel --redo`` on a copy; ``python -m irtoolkit.costmodel.dataset.latency A --against B``).

Labels are of this machine at the load it had when labelled (the provenance names the CPU); the floor
is what it is, and it is reported, not assumed.
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


@dataclass
class _Prepared:
    prog: cgen.Program
    exe: Path
    workdir: Path
    runs: list[HarnessRun] = field(default_factory=list)
    error: IrtoolsError | None = None


class LatencyLabeller:
    """Wall-clock ns per call.  Each harness process gives, per kernel, the best of ``repeats`` batches;
    ``runs`` processes are run per module, the label is the minimum over the 1st, 3rd, 5th... and the
    2nd, 4th... make the same estimate again (``rerun_ns``, the noise floor).

    The processes of the modules labelled together (``label_many``: a relabel shard) are interleaved,
    round by round, so that one module's processes lie seconds apart; a single module's are ``gap_s``
    apart (see the module docstring for why: one process sees one state of a machine that flips
    between fast and slow ones, and the minimum over processes spread in time is the undisturbed time).

    ``label_many`` is what ``irtoolkit.costmodel.dataset.relabel`` calls with a shard's modules and their rows (the
    rows name the program); ``label`` does one module, ``label_program`` takes the program and object.
    """
    name = "latency"
    targets = (TARGET,)

    def __init__(self, *, repeats: int = 7, warmup: int = 3, min_batch_ns: int = 100_000, runs: int = 24,
                 gap_s: float = 0.05, cpu: int | None = None, timeout: float = 120):
        if repeats < 3 or runs < 1:
            raise IrtoolsError("latency labelling needs repeats >= 3 and runs >= 1")
        self.repeats, self.warmup, self.min_batch_ns, self.runs = repeats, warmup, min_batch_ns, runs
        self.gap_s = gap_s
        # the last CPU this process may use: on a small machine cpu 0 takes most interrupts
        self.cpu = cpu if cpu is not None else max(os.sched_getaffinity(0))
        self.timeout = timeout

    # ------------------------------------------------------------------ one module, many modules
    def label(self, ir_path: Path, workdir: Path, rows: list[dict] | None = None) -> LatencyLabels:
        (out,) = self.label_many([(ir_path, workdir, rows)])
        if isinstance(out, IrtoolsError):
            raise out
        return out

    def label_many(self, items: list[tuple[Path, Path, list[dict] | None]]) -> list[LatencyLabels | IrtoolsError]:
        """Labels of each (IR file, work folder, rows) item, or the error that stopped it; a missing tool
        is raised, since it is no property of a module."""
        preps: list[_Prepared | IrtoolsError] = []
        for ir_path, workdir, rows in items:
            try:
                if not rows:
                    raise LabelError("the latency labeller needs the module's rows (to know its program)")
                preps.append(self._prepare(program_of(rows), self._object(ir_path, workdir), workdir))
            except tools.ToolMissing:
                raise
            except IrtoolsError as e:
                preps.append(e)
        self._measure([p for p in preps if isinstance(p, _Prepared)])
        out: list[LatencyLabels | IrtoolsError] = []
        for p, (_ir, _wd, rows) in zip(preps, items, strict=True):
            if isinstance(p, IrtoolsError):
                out.append(p)
                continue
            try:
                labels = self._labels(p)
            except IrtoolsError as e:
                out.append(e)
                continue
            labels.missing.update(helper_reasons({r["function"] for r in rows or []}, p.prog))
            out.append(labels)
        return out

    def label_program(self, prog: cgen.Program, obj: Path, workdir: Path) -> LatencyLabels:
        p = self._prepare(prog, obj, workdir)
        self._measure([p])
        return self._labels(p)

    # ------------------------------------------------------------------ steps
    def _object(self, ir_path: Path, workdir: Path) -> Path:
        llc = tools.require("llc-22")
        workdir.mkdir(parents=True, exist_ok=True)
        obj = workdir / (ir_path.stem + ".o")
        # the object the callgrind path links: llc-22 -O2 of the stored IR (remarks change no code)
        _run([llc, "-O2", "-filetype=obj", str(ir_path), "-o", str(obj)])
        return obj

    def _prepare(self, prog: cgen.Program, obj: Path, workdir: Path) -> _Prepared:
        clang = tools.require("clang-22")
        workdir.mkdir(parents=True, exist_ok=True)
        src = workdir / "latency_harness.c"
        src.write_text(timing_harness(prog, repeats=self.repeats, warmup=self.warmup,
                                      min_batch_ns=self.min_batch_ns))
        exe = workdir / "latency_harness.exe"
        # -no-pie: llc writes the static relocation model by default, which a PIE link rejects
        _run([clang, "-O2", "-march=x86-64", "-no-pie", str(src), str(obj), "-o", str(exe)])
        return _Prepared(prog, exe, workdir)

    def _measure(self, preps: list[_Prepared]) -> None:
        import time

        for i in range(self.runs):
            if i and len(preps) == 1:
                time.sleep(self.gap_s)      # alone: no other module's runs to space this one's out
            for p in preps:
                if p.error is not None:
                    continue
                try:
                    proc = _run([str(p.exe), str(self.cpu)], cwd=p.workdir, timeout=self.timeout)
                except IrtoolsError as e:
                    p.error = e
                    continue
                p.runs.append(parse_output(proc.stdout))

    def _labels(self, p: _Prepared) -> LatencyLabels:
        if p.error is not None:
            raise p.error
        mine, again = p.runs[0::2], p.runs[1::2]
        if not any(r.kernels for r in mine):
            raise LabelError(f"the timing harness of {p.prog.name} printed no kernel timings")
        labels = LatencyLabels(provenance={TARGET: Provenance(
            "irtools latency harness", f"{tools.version('clang-22')}; {tools.version('llc-22')}",
            f"x86_64 {_cpu_model()}, pinned to cpu {self.cpu}",
            ("objects by llc-22 -O2 -filetype=obj", "harness clang-22 -O2 -march=x86-64",
             f"best of {self.repeats} batches per process", f"batch >= {self.min_batch_ns} ns, calibrated per kernel",
             f"{self.warmup} warm-up calls", "inputs re-copied before every batch", "CLOCK_MONOTONIC",
             f"label: minimum over processes 1, 3, ... of {self.runs}, interleaved with the other modules' "
             f"(alone: {self.gap_s} s apart); noise rerun_ns: the same over processes 2, 4, ..."))})
        types = {k.name: k.ctype for k in p.prog.kernels}
        for k in p.prog.kernels:
            got = [r for r in mine if k.name in r.kernels]
            if not got:
                labels.missing[k.name] = {TARGET: "the timing harness printed no timing for it"}
                continue
            best = min(got, key=lambda r: r.kernels[k.name].best)
            t = best.kernels[k.name]
            e = best.empty.get(types[k.name])
            labels.values[k.name] = {TARGET: t.best}
            re = [r.kernels[k.name].best for r in again if k.name in r.kernels]
            labels.noise[k.name] = {TARGET: {
                "second_ns": t.second, "median_ns": t.median, "worst_ns": t.worst, "batch": t.batch,
                "repeats": self.repeats, "empty_ns": e.best if e else None, "clock_ns": best.clock_ns,
                "process_best_ns": [r.kernels[k.name].best if k.name in r.kernels else None for r in p.runs],
                "rerun_ns": [min(re)] if re else []}}
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

    from .rows import load_rows

    ap = argparse.ArgumentParser(prog="python -m irtoolkit.costmodel.dataset.latency",
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
