"""Oracles: turn a worker reply into a finding (kind, normalised message, top frames) or None.

Signals with TVM's backtrace, hangs, internal errors not explained by the pre-condition model,
pass output rejected by the well-formedness verifier, codegen failures, and differential
results (mutated list vs default pipeline vs NumPy).  A signal while the *default* pipeline's
code runs is the mutated program's own fault (it would crash however TVM compiled it), so it
is not a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .protocol import ExitKind, Outcome, Stage, parse_stage
from .triage import BUG, MISUSE, ROBUSTNESS, Triage, triage

_FRAME_RE = re.compile(r"line \d+, in ([^\n]*?(?:tvm|llvm)::[^\n]*)")
# Errors that say the *input* program is outside what TVM supports (mutated IR can do that), not
# that TVM is wrong: expected, counted, never reported.
INPUT_LIMITATIONS = (
    "Nested parallel loop is not supported",
    "Divide by zero",  # a constant division by zero in the (mutated) program, folded by the simplifier
    # a GPU-target case whose (mutated) program touches memory outside its thread-bound loops:
    # VerifyMemory's documented rejection of host code reading device memory
    "Did you forget to bind?",
    # documented limits of a GPU code generator, met by a program it does not take (a buffer the
    # kernel allocates in global memory, a 64-bit float for WebGPU)
    "Cannot allocate global memory when targeting CUDA", "CodeGenWebGPU: only support",
    "Do not support storage scope: global", "Can only allocate shared or local memory inside kernel",
    # CUDA's vector types have 2-4 lanes (8/16 for narrow ones); GPU schedules vectorise by those, the
    # fuzzer's loop-kind flip by any extent
    "to CUDA type",
    # ThreadSync's documented refusal: a barrier inside a condition would deadlock; the fuzzer's wrap_if
    # put shared-memory traffic under one
    "Cannot insert syncs inside condition",
    # LowerCrossThreadReduction's documented refusals of loop nests it does not take (ValueError)
    "Cross-thread reduction cannot be applied", "Cross-thread reduction requires",
    # VectorizeLoop's refusal of a symbolic extent on a fixed-width (non-VLA) target: the fuzzer's
    # symbolic mutation made a vectorized loop's extent unknown
    "Failed to vectorize loop with extent",
    # UnrollLoop's refusal of an unrolled loop whose extent is not constant (the fuzzer's symbolic
    # extent under a loop it marked unrolled)
    "Cannot unroll non-constant loop",
    # the constant folder's refusal of a 16-bit float literal out of its range: converting a value a
    # floating type cannot hold is undefined (C11 6.3.1.4-5); an integer made unsigned is defined (it
    # wraps), so "exceeds maximum of uint8" stays a bug
    "exceeds minimum of float16", "exceeds maximum of float16", "exceeds minimum of bfloat16",
    "exceeds maximum of bfloat16",
    # ForceNarrowIndexToInt32's deliberate refusal (a TVM_FFI_THROW before it rewrites anything) of integer
    # buffers wider than 32 bits, parameters or allocations: a pass "not to be used in default cases" (its
    # docstring) that cannot narrow data; the fuzzer's retype made the data int64
    "The buffer parameter", "allocated in the function has dtype",
    # this machine, not TVM: the NVPTX code generator links CUDA's libdevice, which is not installed
    "nvidia-cuda-toolkit/libdevice", "Cannot find CUDA path",
)

_CHECK_RE = re.compile(r"(Check failed: .*|InternalError: .*|TVMError: .*)")


@dataclass(frozen=True)
class Verdict:
    kind: str
    message: str
    frames: tuple[str, ...]
    detail: str  # the raw error / log the finding keeps
    location: str = ""      # the failing check's source location (src/...cc:LINE) or innermost TVM frame
    pass_index: int | None = None  # the blamed pass (None: after the list)
    pass_name: str = ""
    triage: Triage = field(default_factory=lambda: Triage(BUG))
    notes: tuple[str, ...] = ()  # what else the report should say (which side is wrong, the blame move)
    check: str = ""         # the raw error message of the failing check (the signature's condition)

    @property
    def normalised(self) -> str:
        return normalise(self.message)

    @property
    def condition(self) -> str:
        """The failing check's condition without values, names or dtypes (the signature's text)."""
        return condition(self.check or self.message)


def normalise(msg: str) -> str:
    """Drop what varies between two occurrences of one bug: numbers, addresses, names, paths."""
    m = msg.strip().splitlines()
    line = next((x for x in m if "Check failed" in x), m[-1] if m else "")
    line = re.sub(r"<root>[\w.\[\]]*", "<root>", line)        # IR paths
    line = re.sub(r"\b(variables?|var) \(?[\w, ]+\)?", r"\1 ?", line)  # variable names
    line = re.sub(r"0x[0-9a-fA-F]+", "0x?", line)
    line = re.sub(r"\b\d+(\.\d+)?\b", "N", line)
    line = re.sub(r"[\"'][^\"']{0,80}[\"']", "'?'", line)
    line = re.sub(r"/[\w./-]+", "PATH", line)
    return re.sub(r"\s+", " ", line)[:240]


_GENERIC = ("ObjectVisitor", "ObjectMutator", "DispatchNode", "StmtExprVisitor", "StmtExprMutator", "StmtVisitor",
            "StmtMutator", "ExprVisitor", "ExprMutator", "Structural", "Backtrace", "LogFatal", "FatalError",
            "Segfault", "signal", "ErrorBuilder", "ffi::details", "ffi::Function", "FunctionObj", "TypedFunction",
            "PassNode", "Pass::operator", "SequentialNode", "__libc", "_start")


def _short(frame: str) -> str:
    """A frame's function name without template arguments or parameter lists."""
    f = re.sub(r"\s+", " ", frame).strip()
    prev = None
    while prev != f:  # innermost <...> first, until none is left
        prev, f = f, re.sub(r"<[^<>]*>", "", f)
    f = f.split("(", 1)[0].strip()
    return f.split(" ")[-1] if " " in f else f


def top_frames(log: str, n: int = 3, *, innermost_first: bool = False) -> tuple[str, ...]:
    """The ``n`` innermost TVM/LLVM frames that are not generic visitor/dispatch machinery.

    TVM's exception tracebacks list the throw site last; its signal backtraces list it first."""
    found = [_short(f) for f in _FRAME_RE.findall(log)]
    if not innermost_first:
        found.reverse()
    frames: list[str] = []
    for f in found:
        if any(g in f for g in _GENERIC) or f in frames:
            continue
        frames.append(f)
        if len(frames) == n:
            break
    return tuple(frames)


_SRC_RE = re.compile(r'File "[^"]*?/?(src/[^"]+?\.(?:cc|h|cpp))", line (\d+)')
_DTYPE_RE = re.compile(r"\b(?:u?int|float|bfloat|e[45]m\d\w*)\d*(?:x\d+)?\b|\bbool\b")


def source_location(text: str) -> str:
    """``src/...cc:LINE`` of the throw site: the innermost TVM source frame of the traceback."""
    found = _SRC_RE.findall(text or "")
    return f"{found[-1][0]}:{found[-1][1]}" if found else ""


def condition(msg: str) -> str:
    """A check's condition as written in the source (``Check failed: (cond) is false`` / ``a == b``),
    or the error's first line, without values, names, numbers or dtypes."""
    if "LLVM module verification failed" in msg:  # the verifier's first complaint, not its header
        rest = [x.strip() for x in msg.split("following errors:", 1)[-1].splitlines() if x.strip()]
        msg = rest[0] if rest else msg
    line = msg.split("Check failed:", 1)[1] if "Check failed:" in msg else msg
    line = line.strip().splitlines()[0] if line.strip() else ""
    if "Check failed:" in msg:
        line = re.split(r" \([^()]* vs\. [^()]*\)| : | is false", line, maxsplit=1)[0]
    line = re.sub(r"^\w+Error: ", "", line)
    line = normalise(line)
    line = re.sub(r"\b(buffer|Buffer|variable|var) [\w.]+", r"\1 ?", line)  # names of buffers and variables
    line = re.sub(r"(?<=[A-Za-z_])\d+\b", "N", line)  # numbered names: index_var_0, cse_v2, v_i0
    return _DTYPE_RE.sub("DT", line)


def _blame(res: dict, i_fail: int | None) -> dict | None:
    """The first ill-formed pass output before (or at) the failure, which is the culprit."""
    bad = res.get("first_ill_formed")
    if bad is None:
        return None
    if i_fail is not None and bad["pass_index"] > i_fail:
        return None
    return bad


def classify(reply: dict, passes: list | None = None) -> Verdict | None:
    """The verdict on one reply, blamed on the first pass with ill-formed output and triaged
    (``passes``: the case's JSON pass list; without it every verdict is triaged ``bug``)."""
    v = _classify(reply)
    if v is None:
        return None
    # a child that died by a signal or hung returned no result: what it reported of the input before
    # the passes ran (artefacts, target limits, UB) is what there is to triage by
    res = reply.get("result") or reply.get("facts") or {}
    if passes is not None:
        v = replace(v, triage=triage(v.kind, v.pass_index, passes, res))
    if v.kind.startswith("signal") and parse_stage(reply.get("stage") or "")[0] in (Stage.PARSE, Stage.MUTATE):
        # TVM died under the fuzzer's own front (schedule primitives, printing, parsing): the case never
        # reached the compile pipeline, and its reproducer, which starts from the printed case, cannot replay it
        return replace(v, triage=Triage(ROBUSTNESS, (
            f"TVM crashed in the fuzzer's {reply.get('stage')} stage (its own schedule primitives, printer or "
            "parser), before any pass of the compile pipeline ran",)))
    return _target_gate(v, res)


def _target_gate(v: Verdict, res: dict) -> Verdict:
    """A GPU or C target case (compiled, never run) whose input TVM's own default pipeline rejects
    with another error is not a bug of the pass list: the input is not one the target takes."""
    dflt = res.get("default_outcome") or {}
    if not res.get("target") or not v.triage.is_bug:
        return v
    if "error" not in dflt:
        return replace(v, notes=(*v.notes, f"plain tvm.compile for the {res['target']} target succeeds on this input"))
    derr = dflt["error"].get("message") or ""
    if condition(derr) == v.condition:
        return replace(v, notes=(*v.notes, f"plain tvm.compile for the {res['target']} target fails the same way"))
    why = (f"the input is not one the {res['target']} target takes: TVM's own default pipeline rejects it too, "
           f"with another error ({_check_line(dflt['error'])[:300]})")
    return replace(v, triage=Triage(MISUSE, (why,)))


def _stage_pass(stage: str) -> tuple[int | None, str]:
    st, idx, label = parse_stage(stage)
    if st in (Stage.PASS, Stage.VERIFY) and idx is not None:
        return idx, label
    return None, (st.value if st is not None else stage) or "start"


def _classify(reply: dict) -> Verdict | None:
    o = Outcome.from_json(reply)
    stage, res, stderr = o.stage, o.result, o.stderr
    if o.exit.kind == ExitKind.SIGNAL:
        if parse_stage(stage)[0] == Stage.RUN_DEFAULT:
            return None  # the mutated program crashing under TVM's own default pipeline: the program's fault
        idx, where = _stage_pass(stage)
        frames = top_frames(stderr, innermost_first=True)
        msg = f"{o.exit.name} in {where}"
        # no TVM frame to sign by: the pass (without its parameters) stands in for the location
        return Verdict(f"signal-{(o.exit.name or 'SIG').lower()}", msg, frames, stderr,
                       location=frames[0] if frames else where.split("(")[0], pass_index=idx, pass_name=where)
    if o.exit.kind == ExitKind.HANG:
        idx, where = _stage_pass(stage)
        return Verdict("hang", f"no result after {o.exit.timeout} s in stage {stage.split(':')[0]}", (), stderr,
                       location=where, pass_index=idx, pass_name=where)
    if o.exit.kind == ExitKind.SERVER_DIED:
        return Verdict("server-died", "the fork server died", (), stderr)
    status = res.get("status")
    err = res.get("error") or {}
    msg = err.get("message") or ""
    text = msg + "\n" + (err.get("traceback") or "")
    if any(p in msg for p in INPUT_LIMITATIONS):
        return None
    i_fail = res.get("pass_index") if status == "pass_error" else None
    bad = _blame(res, i_fail) if status in ("pass_error", "ill_formed", "codegen_error", "run_error") else None
    if bad is not None:  # an earlier pass left ill-formed IR: it is the culprit, whatever fell over later
        berr = bad["error"]
        btext = (berr.get("message") or "") + "\n" + (berr.get("traceback") or "")
        later = res.get("pass_name") or status
        first = f"blamed on pass #{bad['pass_index']} {bad['pass_name']}, whose output is the first ill-formed one"
        if bad["pass_index"] == i_fail:
            notes = ()
        elif status == "ill_formed":
            notes = (first + "; the rest of the list kept it ill-formed",)
        else:
            notes = (f"{first}; the case then failed at {later} ({status})",)
        # the verifier's own source line is the same for every ill-formed output: the culprit pass
        # is where the root cause is
        return Verdict("ill-formed", f"{bad['pass_name']}: {_check_line(berr)}", top_frames(btext), btext,
                       location=f"output of {bad['pass_name'].split('(')[0]}", pass_index=bad["pass_index"],
                       pass_name=bad["pass_name"], notes=notes, check=berr.get("message") or "")
    if status == "pass_error" and err.get("internal"):
        where = res.get("pass_name", "?")
        return Verdict("internal-error", f"{where}: {_check_line(err)}", top_frames(text), text,
                       location=source_location(text), pass_index=i_fail, pass_name=where, check=msg)
    if status == "ill_formed":  # not blamed on a pass (none changed the IR?): the verifier's word
        return Verdict("ill-formed", _check_line(err), top_frames(text), text, location="output of the pass list",
                       check=msg)
    if status == "codegen_error":
        return Verdict("codegen-error", _check_line(err), top_frames(text), text, location=source_location(text),
                       pass_name="codegen", check=msg)
    if status == "default_error" and err.get("internal"):
        return Verdict("internal-error", "default pipeline: " + _check_line(err), top_frames(text), text,
                       location=source_location(text), pass_name="default pipeline", check=msg,
                       notes=("plain tvm.compile (the default pipeline) fails on this input",))
    if status == "mismatch":
        if res.get("ub") or res.get("out_of_bounds") or res.get("racy"):
            return None  # no defined result to compare
        wrong = res.get("wrong") or f"the pass list or the {res.get('against')}"
        return Verdict("miscompile", f"output differs from the {res.get('against')} (buffer {res.get('buffer')})",
                       (), str(res), location=f"wrong: {wrong}", notes=(f"wrong side: {wrong}",))
    if status == "run_error" and not res.get("explained"):
        return Verdict("run-error", _check_line(err), top_frames(text), text, location=source_location(text),
                       check=msg)
    return None


def _check_line(err: dict) -> str:
    msg = err.get("message") or ""
    m = _CHECK_RE.search(msg)
    line = m.group(1) if m else (msg.strip().splitlines() or [""])[-1]
    return f"{err.get('type', 'Error')}: {line[:400]}"


def expected_error(reply: dict, passes: list | None = None) -> bool:
    """An error that is no finding: an input limitation, or a verdict triaged other than ``bug``."""
    res = reply.get("result") or {}
    msg = (res.get("error") or {}).get("message") or ""
    if any(p in msg for p in INPUT_LIMITATIONS):
        return True
    v = classify(reply, passes)
    return v is not None and not v.triage.is_bug
