"""Oracles: turn a worker reply into a finding (kind, normalised message, top frames) or None.

Signals with TVM's backtrace, hangs, internal errors not explained by the pre-condition model,
pass output rejected by the well-formedness verifier, codegen failures, and differential
results (mutated list vs default pipeline vs NumPy).  A signal while the *default* pipeline's
code runs is the mutated program's own fault (it would crash however TVM compiled it), so it
is not a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FRAME_RE = re.compile(r"line \d+, in ([^\n]*?(?:tvm|llvm)::[^\n]*)")
# Errors that say the *input* program is outside what TVM supports (mutated IR can do that), not
# that TVM is wrong: expected, counted, never reported.
INPUT_LIMITATIONS = (
    "Nested parallel loop is not supported",
    "Divide by zero",  # a constant division by zero in the (mutated) program, folded by the simplifier
)

_CHECK_RE = re.compile(r"(Check failed: .*|InternalError: .*|TVMError: .*)")


@dataclass(frozen=True)
class Verdict:
    kind: str
    message: str
    frames: tuple[str, ...]
    detail: str  # the raw error / log the finding keeps

    @property
    def normalised(self) -> str:
        return normalise(self.message)


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


def classify(reply: dict) -> Verdict | None:
    ex = reply.get("exit") or {}
    stage = reply.get("stage") or ""
    res = reply.get("result") or {}
    stderr = reply.get("stderr") or ""
    if ex.get("kind") == "signal":
        if stage.startswith("run-default"):
            return None
        parts = stage.split(":")
        where = parts[2] if parts[0] == "pass" and len(parts) > 2 else (parts[0] or "start")
        msg = f"{ex.get('name')} in {where}"
        return Verdict(f"signal-{ex.get('name', 'SIG').lower()}", msg,
                       top_frames(stderr, innermost_first=True), stderr)
    if ex.get("kind") == "hang":
        return Verdict("hang", f"no result after {ex.get('timeout')} s in stage {stage.split(':')[0]}", (), stderr)
    if ex.get("kind") == "server_died":
        return Verdict("server-died", "the fork server died", (), stderr)
    status = res.get("status")
    err = res.get("error") or {}
    text = (err.get("message") or "") + "\n" + (err.get("traceback") or "")
    if any(p in (err.get("message") or "") for p in INPUT_LIMITATIONS):
        return None
    if status == "pass_error" and err.get("internal") and not res.get("explained"):
        where = res.get("pass_name", "?")
        return Verdict("internal-error", f"{where}: {_check_line(err)}", top_frames(text), text)
    if status == "ill_formed" and not res.get("explained"):
        return Verdict("ill-formed", _check_line(err), top_frames(text), text)
    if status == "codegen_error" and not res.get("explained"):
        return Verdict("codegen-error", _check_line(err), top_frames(text), text)
    if status == "default_error" and err.get("internal"):
        return Verdict("internal-error", "default pipeline: " + _check_line(err), top_frames(text), text)
    if status == "mismatch":
        return Verdict("miscompile", f"output differs from the {res.get('against')} (buffer {res.get('buffer')})",
                       (), str(res))
    if status == "run_error" and not res.get("explained"):
        return Verdict("run-error", _check_line(err), top_frames(text), text)
    return None


def _check_line(err: dict) -> str:
    msg = err.get("message") or ""
    m = _CHECK_RE.search(msg)
    line = m.group(1) if m else (msg.strip().splitlines() or [""])[-1]
    return f"{err.get('type', 'Error')}: {line[:400]}"


def expected_error(reply: dict) -> bool:
    """An error the pre-condition model explains (counted, never reported)."""
    res = reply.get("result") or {}
    msg = (res.get("error") or {}).get("message") or ""
    if any(p in msg for p in INPUT_LIMITATIONS):
        return True
    return res.get("status") in ("pass_error", "ill_formed", "codegen_error", "run_error") and bool(res.get("explained"))
