"""Thin Python side of ``csrc/counters.c``: one funnel from status codes to typed errors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from irtools._native import load
from irtools.errors import NativeLoadError

from .errors import CounterStatus, error_for

KIND_HARDWARE = 0
KIND_SOFTWARE = 1
HARDWARE_NAMES = ("instructions", "cycles", "branch_misses")
SOFTWARE_NAMES = ("task_clock_ns", "page_faults", "context_switches")


@cache
def lib_ffi():
    """``(lib, ffi)`` of the counters component, after checking the status codes did not drift."""
    lib, ffi = load("counters")
    for st in CounterStatus:
        if getattr(lib, f"COUNTERS_{st.name}") != st.value:
            raise NativeLoadError(f"csrc/counters.h and irtools/measure/errors.py disagree on COUNTERS_{st.name}; "
                                  "rebuild the C core (python irtools/_build.py counters)")
    if (lib.COUNTERS_KIND_HARDWARE, lib.COUNTERS_KIND_SOFTWARE) != (KIND_HARDWARE, KIND_SOFTWARE):
        raise NativeLoadError("csrc/counters.h counter kinds changed; rebuild the C core")
    return lib, ffi


def check(status: int, err, what: str) -> None:
    if status != CounterStatus.OK:
        raise error_for(status, int(err[0]) if err is not None else 0, what)


def probe(kind: int = KIND_HARDWARE) -> tuple[CounterStatus, int]:
    """Whether counters of ``kind`` can be opened here: ``(status, errno)``; never raises."""
    lib, ffi = lib_ffi()
    err = ffi.new("int *")
    return CounterStatus(lib.counters_probe(kind, err)), int(err[0])


@dataclass(frozen=True)
class GroupReading:
    values: dict[str, int]
    time_enabled: int
    time_running: int

    @property
    def multiplexed(self) -> bool:
        return self.time_running < self.time_enabled


class Group:
    """An open perf_event group (this thread) or an inherited set (a child process)."""

    def __init__(self, kind: int = KIND_HARDWARE, pid: int | None = None):
        self._lib, self._ffi = lib_ffi()
        self.kind = kind
        self._g = self._ffi.new("struct counters_group *")
        self._err = self._ffi.new("int *")
        self._read = self._ffi.new("struct counters_reading *")
        if pid is None:
            rc = self._lib.counters_open(self._g, kind, self._err)
        else:
            rc = self._lib.counters_open_process(self._g, kind, pid, self._err)
        check(rc, self._err, "perf_event_open")
        self.handle = self._g

    @property
    def names(self) -> tuple[str, ...]:
        return HARDWARE_NAMES if self.kind == KIND_HARDWARE else SOFTWARE_NAMES

    def start(self) -> None:
        check(self._lib.counters_start(self._g, self._err), self._err, "counters start")

    def stop(self) -> None:
        check(self._lib.counters_stop(self._g, self._err), self._err, "counters stop")

    def read(self) -> GroupReading:
        r = self._read
        check(self._lib.counters_read(self._g, r, self._err), self._err, "counters read")
        vals = {n: int(r.values[i]) for i, n in enumerate(self.names) if r.present[i]}
        return GroupReading(vals, int(r.time_enabled), int(r.time_running))

    def close(self) -> None:
        if self._g is not None:
            self._lib.counters_close(self._g)
            self._g = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may be gone already
            pass
