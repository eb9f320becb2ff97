"""The fuzz protocol's types: a case's request, its outcome (the reply), the stage it reached,
its status.  JSON (plain dicts) only at the process boundary: the engine builds a
:class:`Request` and sends ``to_json()``; the oracle reads a reply through :meth:`Outcome.from_json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum

# a case past its timeout runs once more, alone, with this many times the time before it counts as a
# hang: on a loaded 2-core machine cases of 3-27 s had passed a 10-s timeout
HANG_CONFIRM = 3.0


class Stage(str, Enum):
    """Where a case is (announced before each step, so a signal or a hang is placed)."""
    PARSE = "parse"
    MUTATE = "mutate"
    PASS = "pass"            # pass:<index>:<label>
    VERIFY = "verify"        # verify:<index>:<label> after pass <index>; plain "verify" after the list
    LOWER_DEFAULT = "lower-default"
    CODEGEN = "codegen"
    JIT = "jit"
    CODEGEN_DEFAULT = "codegen-default"
    RUN_DEFAULT = "run-default"
    RUN = "run"
    DONE = "done"

    def at(self, index: int, label: str) -> str:
        """The stage string of a per-pass stage."""
        return f"{self.value}:{index}:{label}"


def parse_stage(text: str) -> tuple[Stage | None, int | None, str]:
    """``"pass:3:tirx.X"`` -> (Stage.PASS, 3, "tirx.X"); unknown text -> (None, None, text)."""
    parts = (text or "").split(":", 2)
    try:
        st = Stage(parts[0])
    except ValueError:
        return None, None, text or ""
    if len(parts) == 3:
        return st, int(parts[1]), parts[2]
    return st, None, st.value


class Status(str, Enum):
    OK = "ok"
    REJECTED = "rejected"          # the input is not valid TIR (a clean rejection)
    PASS_ERROR = "pass_error"
    ILL_FORMED = "ill_formed"
    NOT_LOWERED = "not_lowered"    # the list does not lower far enough to build
    DEFAULT_ERROR = "default_error"
    CODEGEN_ERROR = "codegen_error"
    NO_INPUTS = "no_inputs"
    RUN_ERROR = "run_error"
    RUN_ERROR_DEFAULT = "run_error_default"
    MISMATCH = "mismatch"


class ExitKind(str, Enum):
    EXIT = "exit"
    SIGNAL = "signal"
    HANG = "hang"
    SERVER_DIED = "server_died"


@dataclass
class Request:
    """One case for a worker."""
    id: int
    text: str                     # TVMScript of the input PrimFunc
    passes: list                  # JSON pass list
    seed: int
    seed_name: str = ""
    ir_mutations: int = 0         # IR mutations the child applies before running
    ir_mutated: bool = False      # the input was mutated before (no NumPy reference then)
    timeout: float = 10.0
    origin: str | None = None     # corpus entry id
    skip_seen_lowered: bool = False
    op: str = "?"
    differential: bool = True
    check_roundtrip: bool = False
    inject_signal: int | None = None  # tests only: the child kills itself with it at the first pass
    fresh: bool = False
    mutators: list | None = None  # the only IR mutators the child may apply (a baseline's), None: all

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, d: dict) -> Request:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Exit:
    kind: ExitKind
    code: int | None = None
    signal: int | None = None
    name: str | None = None
    timeout: float | None = None


@dataclass
class Outcome:
    """A worker's reply: how the child ended, where, and the case's result dict (``result``:
    written by :func:`irtoolkit.fuzz.tvm.execute.run_case`, keys documented there)."""
    exit: Exit
    stage: str = ""
    stderr: str = ""
    case: str | None = None
    applied: list = field(default_factory=list)
    result: dict = field(default_factory=dict)
    new_cov: list = field(default_factory=lambda: [0, 0])
    # what the child found in the input before the passes ran (artefacts, limits, ub), sent ahead of
    # the result: all a signal or a hang leaves to triage by
    facts: dict = field(default_factory=dict)

    @property
    def status(self) -> Status | None:
        s = self.result.get("status")
        return Status(s) if s in Status._value2member_map_ else None

    @property
    def where(self) -> tuple[Stage | None, int | None, str]:
        return parse_stage(self.stage)

    @classmethod
    def from_json(cls, d: dict) -> Outcome:
        ex = dict(d.get("exit") or {"kind": "exit", "code": 0})
        kind = ExitKind(ex.pop("kind"))
        ex = {k: v for k, v in ex.items() if k in ("code", "signal", "name", "timeout")}
        return cls(Exit(kind, **ex), d.get("stage") or "", d.get("stderr") or "", d.get("case"),
                   list(d.get("applied") or []), dict(d.get("result") or {}), list(d.get("new_cov") or [0, 0]),
                   dict(d.get("facts") or {}))
