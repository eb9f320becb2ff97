"""Label sources.  One interface: every labeller returns per-function values *and* a provenance
record (tool, version, target, options), so a dataset row says exactly how each number was made.

- ``llc_static``: llc-22 -O2 optimisation remarks (regalloc, asm-printer, prologepilog) plus the
  function symbol sizes of the object llc wrote (llvm-nm-22 --print-size).
- ``callgrind_dynamic``: instructions executed per kernel call, counted by the project's callgrind
  backend (``irtools.measure.callgrind``: its valgrind command in region mode, its dump reader, the
  pinned environment of ``irtools.measure.Pins``); the harness switches counting on around each kernel
  call with client requests, so each kernel's count excludes set-up (deterministic run after run).
- ``mca_loops``: llvm-mca-22's block reciprocal throughput of each innermost loop in the assembly
  llc-22 -O2 writes (loops found from llc's own loop comments), summed per function.
- ``ptxas_gpu``: ptxas -v resource usage (registers, spills, shared memory) for sm_80 / sm_90 and the
  theoretical occupancy those imply for the kernel's block size.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from irtools.errors import IrtoolsError

from .. import tools


class LabelError(IrtoolsError):
    """A labelling tool failed on an input; the message carries the tool's own diagnostics."""


@dataclass(frozen=True)
class Provenance:
    tool: str
    version: str
    target: str            # what the tool ran for: triple/cpu or GPU arch
    options: tuple[str, ...] = ()

    def to_json(self) -> dict:
        d = asdict(self)
        d["options"] = list(self.options)
        return d


@dataclass
class Labels:
    """``values[function][target_name] = number``; ``provenance[target_name]`` says how.

    ``missing[function][target_name] = reason`` for a function the labeller saw but could not (or,
    by definition, does not) label: a row then says why a label is absent instead of leaving a gap
    that looks like a labeller never run.
    """
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    missing: dict[str, dict[str, str]] = field(default_factory=dict)

    def merge(self, other: Labels) -> Labels:
        for fn, vals in other.values.items():
            self.values.setdefault(fn, {}).update(vals)
        for fn, why in other.missing.items():
            self.missing.setdefault(fn, {}).update(why)
        self.provenance.update(other.provenance)
        return self


def _run(argv: list[str], *, cwd: str | os.PathLike | None = None, timeout: float = 300,
         env: dict | None = None, failure=None) -> subprocess.CompletedProcess:
    """``argv``'s completed process; ``LabelError`` on a time-out or a non-zero exit, its text by
    ``failure(proc)`` where given (default: the exit code and the last lines of the output)."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise LabelError(f"{Path(argv[0]).name} timed out after {timeout}s") from e
    if proc.returncode != 0:
        if failure is not None:
            raise LabelError(failure(proc))
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise LabelError(f"{Path(argv[0]).name} failed (exit {proc.returncode}):\n" + "\n".join(tail))
    return proc


# ----------------------------------------------------------------------------- llc remarks

def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        inner = s[1:-1]
        return inner.replace("''", "'") if s[0] == "'" else inner
    return s


def parse_remarks(text: str) -> list[dict]:
    """The YAML optimisation-remark stream as dicts (Pass, Name, Function, Args: {key: value}).

    LLVM writes a fixed, flat subset of YAML; reading it line by line avoids a YAML dependency.
    """
    out: list[dict] = []
    cur: dict | None = None
    for line in text.splitlines():
        if line.startswith("--- !"):
            cur = {"Kind": line[5:].strip(), "Args": {}}
            out.append(cur)
            continue
        if cur is None or line.startswith("..."):
            continue
        if line.startswith("  - ") and ":" in line:
            key, _, val = line[4:].partition(":")
            key = key.strip()
            if key not in ("String", "DebugLoc"):
                cur["Args"].setdefault(key, _unquote(val))
        elif not line.startswith(" ") and ":" in line:
            key, _, val = line.partition(":")
            if key in ("Pass", "Name", "Function"):
                cur[key] = _unquote(val)
    return out


def remarks_to_labels(remarks: list[dict]) -> dict[str, dict[str, float]]:
    per: dict[str, dict[str, float]] = {}
    for r in remarks:
        fn = r.get("Function")
        if not fn:
            continue
        d = per.setdefault(fn, {"machine_instructions": 0.0, "spills": 0.0, "reloads": 0.0, "stack_bytes": 0.0})
        name, args = r.get("Name"), r["Args"]
        if name == "InstructionCount" and "NumInstructions" in args:
            d["machine_instructions"] = float(args["NumInstructions"])
        elif name == "StackSize" and "NumStackBytes" in args:
            d["stack_bytes"] = float(args["NumStackBytes"])
        elif name == "SpillReloadCopies":
            # the function-level summary ("generated in function") already includes its loops
            d["spills"] = float(args.get("NumSpills", 0)) + float(args.get("NumFoldedSpills", 0))
            d["reloads"] = float(args.get("NumReloads", 0)) + float(args.get("NumFoldedReloads", 0))
    return per


def symbol_sizes(obj: Path) -> dict[str, float]:
    """Function name → bytes in .text, from the object's symbol table."""
    nm = tools.require("llvm-nm-22")
    proc = _run([nm, "--print-size", "--defined-only", str(obj)])
    out: dict[str, float] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "Tt":
            out[parts[3]] = float(int(parts[1], 16))
    return out


_TRIPLE = re.compile(r'^target triple\s*=\s*"([^"]*)"', re.M)
_CPU = re.compile(r'"target-cpu"="([^"]*)"')


class LlcStaticLabeller:
    name = "llc_static"
    targets = ("machine_instructions", "spills", "reloads", "stack_bytes", "text_bytes")

    def __init__(self, *, opt: str = "-O2", extra: tuple[str, ...] = ()):
        self.opt = opt
        self.extra = extra

    def label(self, ir_path: Path, workdir: Path) -> tuple[Labels, Path]:
        """Labels every defined function of ``ir_path``; returns them and the object llc wrote."""
        llc = tools.require("llc-22")
        workdir.mkdir(parents=True, exist_ok=True)
        obj = workdir / (ir_path.stem + ".o")
        yaml = workdir / (ir_path.stem + ".remarks.yaml")
        opts = (self.opt, "-pass-remarks-analysis=regalloc|asm-printer|prologepilog",
                "-pass-remarks-missed=regalloc", "-filetype=obj", *self.extra)
        _run([llc, *opts, f"-pass-remarks-output={yaml}", str(ir_path), "-o", str(obj)])
        per = remarks_to_labels(parse_remarks(yaml.read_text()))
        sizes = symbol_sizes(obj)
        for fn, d in per.items():
            if fn in sizes:
                d["text_bytes"] = sizes[fn]
        text = ir_path.read_text(errors="replace")
        m = _TRIPLE.search(text)
        cpus = sorted(set(_CPU.findall(text)))
        tgt = f"{m.group(1) if m else 'default'} cpu={','.join(cpus) or 'generic'}"
        llc_prov = Provenance("llc-22", tools.version("llc-22"), tgt, opts)
        nm_prov = Provenance("llvm-nm-22", tools.version("llvm-nm-22"), tgt, ("--print-size",))
        prov = {t: llc_prov for t in self.targets if t != "text_bytes"}
        prov["text_bytes"] = nm_prov
        return Labels(per, prov), obj


# ----------------------------------------------------------------------------- llvm-mca on loops

_FN_BEGIN = re.compile(r"#\s*-- Begin function (\S+)")
_FN_END = re.compile(r"^\.Lfunc_end\d+:|#\s*-- End function")
_BLOCK = re.compile(r"^(\.LBB\d+_\d+|# %bb\.\d+):(.*)$")
_HEADER = re.compile(r"=>\s*This (?:Inner )?Loop Header: Depth=(\d+)")
_PARENT = re.compile(r"Parent Loop (BB\d+_\d+) Depth=(\d+)")
_IN_LOOP = re.compile(r"in Loop: Header=(BB\d+_\d+) Depth=(\d+)")


@dataclass
class AsmLoop:
    function: str
    header: str                    # "BB1_4", as llc's comments name it
    depth: int
    parents: tuple[str, ...]       # headers of the enclosing loops, outermost first
    lines: list[str] = field(default_factory=list)   # the loop's blocks, layout order


def _is_instruction(line: str) -> bool:
    t = line.strip()
    if t.startswith((".intel_syntax", ".att_syntax")):
        return True    # inline asm may switch syntax; the lines after it only parse under the switch
    return bool(t) and not t.startswith(("#", ".")) and not t.endswith(":")


def asm_innermost_loops(asm: str) -> dict[str, list[AsmLoop]]:
    """Function → its innermost loops, read from the loop comments llc puts on each block.

    A loop header carries ``=>This [Inner ]Loop Header: Depth=N`` (after ``Parent Loop`` lines that
    name the enclosing headers), every other block of a loop ``in Loop: Header=BBx_y Depth=N`` for the
    innermost loop holding it; blocks with neither are outside every loop.  A loop is innermost when
    no other loop's header names it as a parent.  A loop's blocks need not be contiguous (block
    placement may move a cold block out of line), so its instructions are gathered per loop, not as
    one span of the file.  Functions without loops are absent.
    """
    per_fn: dict[str, dict[str, AsmLoop]] = {}
    fn: str | None = None
    cur: AsmLoop | None = None     # innermost loop of the block being read
    label, comment = "", []        # block label and its comment lines, until the block's first instruction
    pending = False

    def settle() -> AsmLoop | None:
        text = " ".join(comment)
        loops = per_fn.setdefault(fn, {})
        m = _HEADER.search(text)
        if m:
            name = label[2:]       # ".LBB1_4" → "BB1_4": headers are branch targets, so always labelled
            parents = tuple(p for p, _d in sorted(_PARENT.findall(text), key=lambda x: int(x[1])))
            lp = loops.setdefault(name, AsmLoop(fn, name, int(m.group(1)), parents))
            lp.parents = lp.parents or parents
            return lp
        m = _IN_LOOP.search(text)
        if m:
            return loops.setdefault(m.group(1), AsmLoop(fn, m.group(1), int(m.group(2)), ()))
        return None

    for line in asm.splitlines():
        m = _FN_BEGIN.search(line)
        if m:
            fn, cur, pending = m.group(1), None, False
            continue
        if fn is None:
            continue
        if _FN_END.search(line):
            fn, cur, pending = None, None, False
            continue
        m = _BLOCK.match(line)
        if m:
            label, comment, pending = m.group(1), [m.group(2)], True
            continue
        if pending:
            if line.lstrip().startswith("#"):
                comment.append(line)
                continue
            cur, pending = settle(), False
        if cur is not None and _is_instruction(line):
            cur.lines.append(line.split("#", 1)[0].rstrip())
    out: dict[str, list[AsmLoop]] = {}
    for f, loops in per_fn.items():
        parents = {p for lp in loops.values() for p in lp.parents}
        inner = [lp for name, lp in loops.items() if name not in parents and lp.lines]
        if inner:
            out[f] = inner
    return out


_MCA_REGION = re.compile(r"^\[\d+\] Code Region - (\S+)")
_MCA_RTHROUGHPUT = re.compile(r"^Block RThroughput:\s*([0-9.]+)")
_MCA_ERROR = re.compile(r"^[^:\n]*:(\d+):\d+: error: (.*)$", re.M)


def parse_mca(text: str) -> dict[str, float]:
    """Region name → Block RThroughput from llvm-mca's report."""
    out: dict[str, float] = {}
    region = None
    for line in text.splitlines():
        m = _MCA_REGION.match(line)
        if m:
            region = m.group(1)
            continue
        m = _MCA_RTHROUGHPUT.match(line)
        if m and region is not None:
            out[region] = float(m.group(1))
            region = None
    return out


class McaLoopLabeller:
    """``mca_inner_loop_rthroughput``: per function, the sum over its innermost loops of llvm-mca's
    Block RThroughput (cycles per iteration of the loop body in steady state, for the module's CPU).

    llc-22 writes the assembly with the static labeller's optimisation level (it reads -mcpu/-mattr
    from the functions' attributes, as for the object), each innermost loop's instructions go into
    their own ``LLVM-MCA-BEGIN fn#k`` region of a file that holds only those regions, and one
    llvm-mca-22 run per module reports every region.  A function without loops gets no label (its
    ``missing`` reason says so): zero would claim a loop that costs nothing.  A region llvm-mca
    rejects leaves its function unlabelled with llvm-mca's message, and the others are measured again
    without it.
    """
    name = "mca_loops"
    targets = ("mca_inner_loop_rthroughput",)
    target = "mca_inner_loop_rthroughput"

    def __init__(self, *, opt: str = "-O2", extra: tuple[str, ...] = ()):
        self.opt = opt
        self.extra = extra

    def label(self, ir_path: Path, workdir: Path) -> Labels:
        llc = tools.require("llc-22")
        workdir.mkdir(parents=True, exist_ok=True)
        asm = workdir / (ir_path.stem + ".s")
        llc_opts = (self.opt, "-filetype=asm", *self.extra)
        _run([llc, *llc_opts, str(ir_path), "-o", str(asm)])
        text = ir_path.read_text(errors="replace")
        m = _TRIPLE.search(text)
        triple = m.group(1) if m else None
        cpus = Counter(_CPU.findall(text))
        # one scheduling model per llvm-mca run: the module's (cgen modules have a single target-cpu)
        cpu = cpus.most_common(1)[0][0] if cpus else "x86-64"
        mca_opts = (f"-mcpu={cpu}", *([f"-mtriple={triple}"] if triple else []), "-iterations=1",
                    "-instruction-info=false", "-resource-pressure=false")
        loops = asm_innermost_loops(asm.read_text(errors="replace"))
        labels = Labels(provenance={self.target: Provenance(
            "llvm-mca-22", tools.version("llvm-mca-22"), f"{triple or 'default'} cpu={cpu}",
            (*mca_opts, f"via llc-22 {' '.join(llc_opts)}", "innermost loops from llc's loop comments"))})
        defined = set(re.findall(r"^define\b[^@\n]*@\"?([^\s\"(]+)", text, re.M))
        for fn in sorted(defined - set(loops)):
            labels.missing[fn] = {self.target: "no loops"}
        return labels.merge(self.measure(loops, mca_opts, workdir / (ir_path.stem + ".mca.s")))

    def measure(self, loops: dict[str, list[AsmLoop]], mca_opts: tuple[str, ...], mca_in: Path) -> Labels:
        """One llvm-mca-22 run over every loop's region; a function whose region it rejects is dropped
        (with llvm-mca's message as the reason) and the rest run again."""
        mca = tools.require("llvm-mca-22")
        labels = Labels()
        todo = dict(loops)
        for _attempt in range(len(todo) + 1):
            if not todo:
                break
            lines: list[str] = []
            owner: list[str | None] = []       # function of each line, to blame an error line on
            for fn, lps in todo.items():
                for k, lp in enumerate(lps):
                    block = [f"# LLVM-MCA-BEGIN {fn}#{k}", *lp.lines, f"# LLVM-MCA-END {fn}#{k}"]
                    lines += block
                    owner += [fn] * len(block)
            mca_in.write_text("\n".join(lines) + "\n")
            try:
                proc = subprocess.run([mca, *mca_opts, str(mca_in)], capture_output=True, text=True,
                                      timeout=300)
            except subprocess.TimeoutExpired:
                for fn in todo:
                    labels.missing[fn] = {self.target: "llvm-mca-22 timed out"}
                break
            if proc.returncode == 0:
                got = parse_mca(proc.stdout)
                for fn, lps in todo.items():
                    vals = [got.get(f"{fn}#{k}") for k in range(len(lps))]
                    if any(v is None for v in vals):
                        labels.missing[fn] = {self.target: "llvm-mca-22 reported no Block RThroughput"}
                    else:
                        labels.values[fn] = {self.target: float(sum(vals))}
                break
            blamed: dict[str, str] = {}
            for ln, msg in _MCA_ERROR.findall(proc.stderr):
                i = int(ln) - 1
                if 0 <= i < len(owner) and owner[i] is not None:
                    blamed.setdefault(owner[i], f"llvm-mca-22: {msg.strip()}: {lines[i].strip()}")
            if not blamed:
                # not tied to a region: nothing in this module is measurable with this llvm-mca
                why = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no message"]
                for fn in todo:
                    labels.missing[fn] = {self.target: f"llvm-mca-22 failed: {why[0]}"}
                break
            for fn, why in blamed.items():
                labels.missing[fn] = {self.target: why}
                del todo[fn]
        return labels


# ----------------------------------------------------------------------------- callgrind

class CallgrindLabeller:
    """Instructions executed per call, for programs whose harness dumps one profile per kernel.

    ``irtools.measure.measure_process`` counts a whole process, whose start-up would swamp small
    kernels, so the region mode of the same backend is used: the harness (cgen) toggles counting
    around each kernel call and names the dump after the kernel.
    """
    name = "callgrind_dynamic"
    targets = ("instructions_executed",)

    def __init__(self, *, timeout: float = 300):
        self.timeout = timeout

    def label(self, obj: Path, harness_c: Path, workdir: Path) -> Labels:
        from irtools.measure import Pins
        from irtools.measure import callgrind as cg

        clang = tools.require("clang-22")
        exe = workdir / "harness.exe"
        # the harness itself is plain -O1 x86-64: only the kernels' object varies between rows
        # -no-pie: llc writes the static relocation model by default, which a PIE link rejects
        _run([clang, "-O1", "-march=x86-64", "-no-pie", str(harness_c), str(obj), "-o", str(exe)])
        dumps = workdir / "cg"
        dumps.mkdir(exist_ok=True)
        for old in dumps.iterdir():
            old.unlink()
        argv = cg.command(dumps, regions=True)
        _run([*argv, str(exe)], cwd=workdir, timeout=self.timeout, env=Pins(warmup=0).environment({
            **os.environ, "LC_ALL": "C"}))
        values: dict[str, dict[str, float]] = {}
        prefix = "Client Request: "
        for dump in sorted(dumps.iterdir()):
            trigger, total = cg.parse_dump(dump.read_bytes())
            if trigger.startswith(prefix):
                values[trigger[len(prefix):].strip()] = {"instructions_executed": float(total)}
        if not values:
            raise LabelError(f"callgrind wrote no per-kernel dumps in {dumps}")
        opts = tuple(a for a in argv[1:] if not a.startswith("--callgrind-out-file"))
        prov = Provenance("valgrind", cg.valgrind_version(), "x86_64 (host, under valgrind)",
                          ("via irtools.measure.callgrind (region mode, irtools.measure.Pins)", *opts))
        return Labels(values, {"instructions_executed": prov})


# ----------------------------------------------------------------------------- ptxas

# per-SM limits (CUDA occupancy calculator, compute capability 8.0 and 9.0)
ARCH_LIMITS = {
    "sm_80": dict(max_warps=64, max_blocks=32, regs=65536, reg_unit=256, max_regs_thread=255, sub_partitions=4,
                  smem=167936, smem_unit=128, smem_reserved=1024),
    "sm_90": dict(max_warps=64, max_blocks=32, regs=65536, reg_unit=256, max_regs_thread=255, sub_partitions=4,
                  smem=233472, smem_unit=128, smem_reserved=1024),
}


def occupancy(arch: str, threads_per_block: int, regs_per_thread: int, smem_per_block: int) -> float:
    """Theoretical occupancy (active warps / max warps), as NVIDIA's occupancy calculator computes it."""
    lim = ARCH_LIMITS[arch]
    warps = max(1, -(-threads_per_block // 32))
    by_warps = lim["max_warps"] // warps
    if regs_per_thread > 0:
        regs_per_warp = -(-(max(regs_per_thread, 1) * 32) // lim["reg_unit"]) * lim["reg_unit"]
        # The register file is split over the SM's 4 sub-partitions and a warp's registers live in
        # one of them: whole warps per quarter, not per SM (checked against cuOccupancy... on an
        # H200: 47 registers, 64 threads → 20 blocks, not the 21 a whole-SM pool would give).
        warps_by_regs = lim["sub_partitions"] * ((lim["regs"] // lim["sub_partitions"]) // regs_per_warp)
        by_regs = warps_by_regs // warps
    else:
        by_regs = lim["max_blocks"]
    if smem_per_block > 0:
        need = -(-(smem_per_block + lim["smem_reserved"]) // lim["smem_unit"]) * lim["smem_unit"]
        by_smem = lim["smem"] // need
    else:
        by_smem = lim["max_blocks"]
    blocks = max(0, min(lim["max_blocks"], by_warps, by_regs, by_smem))
    return blocks * warps / lim["max_warps"]


_PTXAS_FN = re.compile(r"Compiling entry function '([^']+)' for '(sm_\d+)'")
_PTXAS_SPILL = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
_PTXAS_USED = re.compile(r"Used (\d+) registers")
_PTXAS_SMEM = re.compile(r"(\d+) bytes smem")


def parse_ptxas(text: str) -> dict[str, dict[str, dict[str, float]]]:
    """ptxas -v stderr → {function: {arch: {registers, spill_bytes, shared_bytes}}}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    cur = None
    for line in text.splitlines():
        m = _PTXAS_FN.search(line)
        if m:
            cur = out.setdefault(m.group(1), {}).setdefault(m.group(2), {
                "registers": 0.0, "spill_bytes": 0.0, "shared_bytes": 0.0})
            continue
        if cur is None:
            continue
        m = _PTXAS_SPILL.search(line)
        if m:
            cur["spill_bytes"] = float(int(m.group(1)) + int(m.group(2)))
        m = _PTXAS_USED.search(line)
        if m:
            cur["registers"] = float(m.group(1))
            m2 = _PTXAS_SMEM.search(line)
            if m2:
                cur["shared_bytes"] = float(m2.group(1))
    return out


class PtxasLabeller:
    """GPU resource labels for NVPTX LLVM IR: llc-22 → PTX per arch → ptxas -v."""
    name = "ptxas_gpu"
    targets = ("gpu_registers_sm80", "gpu_registers_sm90", "gpu_spill_bytes_sm90", "gpu_shared_bytes_sm90",
               "gpu_occupancy_sm80", "gpu_occupancy_sm90")

    def __init__(self, archs: tuple[str, ...] = ("sm_80", "sm_90")):
        self.archs = archs

    def label(self, ir_path: Path, workdir: Path, block_sizes: dict[str, int]) -> Labels:
        llc, ptxas = tools.require("llc-22"), tools.require("ptxas")
        workdir.mkdir(parents=True, exist_ok=True)
        per: dict[str, dict[str, float]] = {}
        for arch in self.archs:
            ptx = workdir / f"{ir_path.stem}.{arch}.ptx"
            _run([llc, "-O2", "-mtriple=nvptx64-nvidia-cuda", f"-mcpu={arch}", str(ir_path), "-o", str(ptx)])
            proc = _run([ptxas, "-v", f"-arch={arch}", str(ptx), "-o", os.devnull])
            for fn, archs in parse_ptxas(proc.stderr + proc.stdout).items():
                r = archs.get(arch)
                if r is None:
                    continue
                d = per.setdefault(fn, {})
                sfx = arch.replace("_", "")
                d[f"gpu_registers_{sfx}"] = r["registers"]
                if arch == "sm_90":
                    d["gpu_spill_bytes_sm90"] = r["spill_bytes"]
                    d["gpu_shared_bytes_sm90"] = r["shared_bytes"]
                if fn in block_sizes:
                    d[f"gpu_occupancy_{sfx}"] = occupancy(arch, block_sizes[fn], int(r["registers"]),
                                                          int(r["shared_bytes"]))
        prov = Provenance("ptxas", tools.version("ptxas"), ",".join(self.archs),
                          ("-v", "via llc-22 -O2 -mtriple=nvptx64-nvidia-cuda"))
        return Labels(per, {t: prov for t in self.targets})
