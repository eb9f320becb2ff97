"""Thin Python side of ``csrc/counters.c``: one funnel from status codes to typed errors.

The codes are ``irtools._native.Status`` (csrc/irt_status.h); ``irtools._native.load`` checks them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from irtools._native import Status, failure, load
from irtools.errors import NativeLoadError

from .errors import error_for

KIND_HARDWARE = 0
KIND_SOFTWARE = 1
HARDWARE_NAMES = ("instructions", "cycles", "branch_misses")
SOFTWARE_NAMES = ("task_clock_ns", "page_faults", "context_switches")


@cache
def lib_ffi():
    """``(lib, ffi)`` of the counters component, after checking the counter kinds did not drift."""
    lib, ffi = load("counters")
    if (lib.COUNTERS_KIND_HARDWARE, lib.COUNTERS_KIND_SOFTWARE) != (KIND_HARDWARE, KIND_SOFTWARE):
        raise NativeLoadError("csrc/counters.h counter kinds changed; rebuild the C core")
    return lib, ffi


def check(status: int, what: str) -> None:
    """Raise the typed error of a failed counters call (``status`` < 0)."""
    if status < 0:
        st, msg, err = failure("counters", status)
        raise error_for(st, err, what, msg)


def probe(kind: int = KIND_HARDWARE) -> tuple[Status, int]:
    """Whether counters of ``kind`` can be opened here: ``(status, errno)``; never raises."""
    lib, _ffi = lib_ffi()
    rc = lib.counters_probe(kind)
    return (Status.OK, 0) if rc >= 0 else failure("counters", rc)[::2]


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
        self._read = self._ffi.new("struct counters_reading *")
        if pid is None:
            rc = self._lib.counters_open(self._g, kind)
        else:
            rc = self._lib.counters_open_process(self._g, kind, pid)
        check(rc, "perf_event_open")
        self.handle = self._g

    @property
    def names(self) -> tuple[str, ...]:
        return HARDWARE_NAMES if self.kind == KIND_HARDWARE else SOFTWARE_NAMES

    def start(self) -> None:
        check(self._lib.counters_start(self._g), "counters start")

    def stop(self) -> None:
        check(self._lib.counters_stop(self._g), "counters stop")

    def read(self) -> GroupReading:
        r = self._read
        check(self._lib.counters_read(self._g, r), "counters read")
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
