"""What every generated origin program is: a name, a seed and its kernels.  Each generator (``cgen``,
``mlirgen``) says how its kernels make one source file; the unit the evaluation splits by is this."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass
class Kernel:
    name: str
    family: str
    source: str
    ctype: str = ""     # the C element type (cgen's harness needs it); an MLIR kernel's is in its source


@dataclass
class Program:
    name: str
    seed: int
    kernels: list[Kernel] = field(default_factory=list)

    @property
    def source(self) -> str:
        raise NotImplementedError

    @property
    def source_hash(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:16]
