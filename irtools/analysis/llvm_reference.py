"""What LLVM's own ``opt`` says about a file: func-properties, dominator trees, loops.

These run the real ``opt-22`` and parse its printer passes' output, so that irtools' own
analyses can be checked against LLVM (tests) and so that the cost model can label data with
LLVM's feature extractor.  Every parser here is a plain function over text as well, for
output captured elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from irtools.errors import IrtoolsError

__all__ = [
    "DEFAULT_OPT",
    "FUNC_PROPERTY_NAMES",
    "OptError",
    "domtree",
    "func_properties",
    "loops",
    "parse_domtree",
    "parse_func_properties",
    "parse_loops",
    "run_opt",
]

DEFAULT_OPT = "opt-22"

# The order opt-22 (LLVM 22.1) prints them with -enable-detailed-function-properties.
FUNC_PROPERTY_NAMES: tuple[str, ...] = (
    "BasicBlockCount", "BlocksReachedFromConditionalInstruction", "Uses",
    "DirectCallsToDefinedFunctions", "LoadInstCount", "StoreInstCount", "MaxLoopDepth",
    "TopLevelLoopCount", "TotalInstructionCount",
    "BasicBlocksWithSingleSuccessor", "BasicBlocksWithTwoSuccessors",
    "BasicBlocksWithMoreThanTwoSuccessors", "BasicBlocksWithSinglePredecessor",
    "BasicBlocksWithTwoPredecessors", "BasicBlocksWithMoreThanTwoPredecessors", "BigBasicBlocks",
    "MediumBasicBlocks", "SmallBasicBlocks", "CastInstructionCount", "FloatingPointInstructionCount",
    "IntegerInstructionCount", "ConstantIntOperandCount", "ConstantFPOperandCount",
    "ConstantOperandCount", "InstructionOperandCount", "BasicBlockOperandCount",
    "GlobalValueOperandCount", "InlineAsmOperandCount", "ArgumentOperandCount", "UnknownOperandCount",
    "CriticalEdgeCount", "ControlFlowEdgeCount", "UnconditionalBranchCount", "ConditionalBranchCount",
    "BranchInstructionCount", "BranchSuccessorCount", "SwitchInstructionCount", "SwitchSuccessorCount",
    "IntrinsicCount", "DirectCallCount", "IndirectCallCount", "CallReturnsIntegerCount",
    "CallReturnsFloatCount", "CallReturnsPointerCount", "CallReturnsVectorIntCount",
    "CallReturnsVectorFloatCount", "CallReturnsVectorPointerCount", "CallWithManyArgumentsCount",
    "CallWithPointerArgumentCount",
)


class OptError(IrtoolsError):
    """``opt`` is missing, or it rejected the input."""


def run_opt(path: str | os.PathLike, passes: str, *extra: str, opt: str = DEFAULT_OPT,
            timeout: float = 120.0) -> str:
    """Run ``opt -passes=PASSES -disable-output`` on a file; return what it printed (stderr).

    Printer passes write to stderr; anything opt prints there besides their output (warnings)
    is ignored by the parsers below.
    """
    exe = shutil.which(opt)
    if exe is None:
        raise OptError(f"{opt} not found on PATH (Debian package llvm-22)")
    cmd = [exe, f"-passes={passes}", *extra, "-disable-output", os.fspath(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise OptError(f"{opt} timed out after {timeout:g}s on {path}") from e
    if proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()
        raise OptError(f"{opt} failed on {path} (exit {proc.returncode}): " + (msg[0] if msg else ""))
    return proc.stderr


_FP_HEAD = re.compile(r"^Printing analysis results of CFA for function '(.*)':$")
_FP_LINE = re.compile(r"^([A-Za-z]+): (-?\d+)$")


def parse_func_properties(text: str) -> dict[str, dict[str, int]]:
    """``{function: {property: value}}`` from ``print<func-properties>`` output."""
    out: dict[str, dict[str, int]] = {}
    current: dict[str, int] | None = None
    for line in text.splitlines():
        m = _FP_HEAD.match(line)
        if m:
            current = out.setdefault(m.group(1), {})
            continue
        if current is not None:
            m = _FP_LINE.match(line)
            if m:
                current[m.group(1)] = int(m.group(2))
            elif not line.strip():
                current = None
    return out


def func_properties(path: str | os.PathLike, *, detailed: bool = True,
                    opt: str = DEFAULT_OPT) -> dict[str, dict[str, int]]:
    """LLVM's FunctionPropertiesAnalysis for every defined function of an IR file."""
    extra = ("-enable-detailed-function-properties",) if detailed else ()
    return parse_func_properties(run_opt(path, "print<func-properties>", *extra, opt=opt))


_DT_HEAD = re.compile(r"^DominatorTree for function: (.*)$")
_DT_NODE = re.compile(r"^(\s*)\[(\d+)\] (.*?) \{[-\d]+,[-\d]+\} \[(\d+)\]$")
_LOOP_HEAD = re.compile(r"^Loop info for function '(.*)':$")


def parse_domtree(text: str) -> dict[str, dict[str, str | None]]:
    """``{function: {block: idom or None}}`` from ``print<domtree>`` output.

    Blocks are spelled as LLVM prints them (``%entry``, ``%3``, ``%"a b"``).
    """
    out: dict[str, dict[str, str | None]] = {}
    current: dict[str, str | None] | None = None
    stack: list[str] = []
    for line in text.splitlines():
        m = _DT_HEAD.match(line)
        if m:
            current = out.setdefault(m.group(1), {})
            stack = []
            continue
        if current is None:
            continue
        m = _DT_NODE.match(line)
        if m:
            level, name = int(m.group(2)), m.group(3)
            del stack[level - 1:]
            current[name] = stack[-1] if stack else None
            stack.append(name)
        elif line.startswith("Roots:"):
            current = None
    return out


def domtree(path: str | os.PathLike, *, opt: str = DEFAULT_OPT) -> dict[str, dict[str, str | None]]:
    return parse_domtree(run_opt(path, "print<domtree>", opt=opt))


def parse_loops(text: str) -> dict[str, str]:
    """``{function: loop lines}`` from ``print<loops>``: the text after each "Loop info" line.

    Functions without loops map to ``""``; a "Parallel " prefix is dropped; the text is what
    :meth:`irtools.analysis.loops.LoopInfo.format_llvm` produces.
    """
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        m = _LOOP_HEAD.match(line)
        if m:
            current = out.setdefault(m.group(1), [])
            continue
        if current is not None:
            body = line.lstrip()
            # "Parallel " marks loops whose metadata says so; irtools does not model that
            if body.startswith("Parallel Loop at depth "):
                line = line[:len(line) - len(body)] + body[len("Parallel "):]
                body = body[len("Parallel "):]
            if body.startswith("Loop at depth "):
                current.append(line.rstrip())
            else:
                current = None
    return {fn: "".join(s + "\n" for s in lines) for fn, lines in out.items()}


def loops(path: str | os.PathLike, *, opt: str = DEFAULT_OPT) -> dict[str, str]:
    return parse_loops(run_opt(path, "print<loops>", opt=opt))


_SCEV_FN = re.compile(r"^Determining loop execution counts for: @(.*)$")
_SCEV_COUNT = re.compile(r"^Loop %(.*?): (backedge-taken count|constant max backedge-taken count) is (.*)$")


def parse_trip_counts(text: str) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """``{function: {loop header: (trip count, most trips)}}`` from ``print<scalar-evolution>``.

    Trip counts are SCEV's backedge-taken counts plus one, where they are constants (``i64 99``);
    the first is the exact count, the second the constant maximum; None where SCEV has none
    (``***COULDNOTCOMPUTE***`` or an expression).  Names are as opt prints them (``@"a b"`` quoted).
    """
    out: dict[str, dict[str, list[int | None]]] = {}
    current: dict[str, list[int | None]] | None = None
    for line in text.splitlines():
        m = _SCEV_FN.match(line)
        if m:
            current = out.setdefault(m.group(1), {})
            continue
        m = _SCEV_COUNT.match(line)
        if m and current is not None:
            slot = current.setdefault(m.group(1), [None, None])
            value = m.group(3).split()
            n = None
            if len(value) == 2 and value[0][:1] == "i" and value[0][1:].isdigit() and value[1].lstrip("-").isdigit():
                n = int(value[1]) % (1 << int(value[0][1:])) + 1   # SCEV prints the count signed
            slot[0 if m.group(2) == "backedge-taken count" else 1] = n
    return {fn: {h: (a, b) for h, (a, b) in loops.items()} for fn, loops in out.items()}


def trip_counts(path: str | os.PathLike, *, opt: str = DEFAULT_OPT) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    return parse_trip_counts(run_opt(path, "print<scalar-evolution>", opt=opt))


def opt_version(opt: str = DEFAULT_OPT) -> str:
    """``opt --version``'s version line, for labelling data made with it."""
    exe = shutil.which(opt)
    if exe is None:
        raise OptError(f"{opt} not found on PATH (Debian package llvm-22)")
    text = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"LLVM version (\S+)", text)
    return m.group(1) if m else text.strip()

