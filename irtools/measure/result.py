"""The result of one measurement: a JSON-serialisable record of counts and how they were made."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field


@dataclass
class Measurement:
    """Instruction counts of one target, and everything needed to reproduce them.

    ``runs`` are the per-repeat counts with the calibrated empty-region overhead subtracted
    (clamped at zero); ``raw`` are the same before subtraction; ``instructions`` is their median.
    ``exact`` is true when the backend counts every retired instruction deterministically
    (callgrind); hardware counters see interrupts and skid, so they are not exact.
    """

    target: str
    kind: str                      # "callable" | "native" | "process"
    backend: str                   # "perf" | "callgrind"
    backend_version: str
    exact: bool
    instructions: int
    runs: list[int]
    raw: list[int]
    baseline: int
    target_cpu: str
    pins: dict
    warmup: int
    repeat: int
    extra: dict[str, list[int]] = field(default_factory=dict)   # cycles, branch_misses where present
    multiplexed: bool = False
    python: str = ""
    result: str | None = None      # repr of what the target returned (last run), for checking correctness
    notes: list[str] = field(default_factory=list)
    region_ns: list[int] = field(default_factory=list)      # wall time of each region, counting included
    region_cpu_ns: list[int] = field(default_factory=list)  # CPU time of the same (insensitive to load)

    @property
    def median(self) -> float:
        return float(statistics.median(self.runs)) if self.runs else 0.0

    @property
    def min(self) -> int:
        return min(self.runs) if self.runs else 0

    @property
    def max(self) -> int:
        return max(self.runs) if self.runs else 0

    @property
    def spread(self) -> int:
        """max - min over the runs (0 when every run counted the same)."""
        return self.max - self.min

    @property
    def relative_spread(self) -> float:
        return self.spread / self.median if self.median else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(median=self.median, min=self.min, max=self.max, spread=self.spread,
                 relative_spread=self.relative_spread)
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, d: dict) -> Measurement:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in names})
