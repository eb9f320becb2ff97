"""``with Counter() as c: ...`` — count the instructions of a region of this process.

In-process counting needs either hardware counters (``perf``) or that this process already runs
under ``valgrind --tool=callgrind`` (as ``irtools.measure.measure``'s harness does).  Outside
valgrind on a machine without counters, use ``measure()``, which starts such a process.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from itertools import count as _count

from . import callgrind, native
from .errors import BackendUnavailable, CounterStatus, NoHardwareCounters, error_for

CALIBRATION_RUNS = 10


@dataclass(frozen=True)
class Reading:
    """One region: instructions (overhead subtracted) and the raw values."""

    instructions: int
    raw_instructions: int
    extra: dict[str, int] = field(default_factory=dict)
    multiplexed: bool = False


def in_process_backend(backend: str = "auto") -> str:
    """The backend a Counter would use here, or the typed error saying why none works."""
    lib, _ = native.lib_ffi()
    if backend in ("auto", "callgrind") and lib.counters_running_on_valgrind():
        if not lib.counters_have_valgrind_headers():
            raise error_for(CounterStatus.EUNAVAILABLE, 0, "callgrind")
        if not os.environ.get(callgrind.OUT_DIR_ENV):
            raise BackendUnavailable(f"running under valgrind but ${callgrind.OUT_DIR_ENV} does not say where "
                                     "callgrind writes its dumps (start it through irtools.measure)")
        return "callgrind"
    if backend == "callgrind":
        raise BackendUnavailable("the callgrind backend counts in-process only under valgrind; "
                                 "irtools.measure.measure() runs the callable there for you")
    if backend not in ("auto", "perf"):
        raise ValueError(f"unknown backend {backend!r} (auto, perf, callgrind)")
    status, err = native.probe(native.KIND_HARDWARE)
    if status != CounterStatus.OK:
        exc = error_for(status, err, "hardware counters")
        if backend == "auto" and isinstance(exc, NoHardwareCounters):
            raise NoHardwareCounters(f"{exc}; no in-process backend works here: irtools.measure.measure() "
                                     "counts under callgrind in a subprocess instead") from None
        raise exc
    return "perf"


class Counter:
    """Counts instructions of the ``with`` block.

    After the block: ``instructions`` (the calibrated empty-region overhead subtracted, clamped at
    zero), ``raw_instructions``, ``backend``, ``exact``, ``extra`` (cycles, branch misses where
    present).  GC is collected before and disabled inside the region.  ``baseline=None``
    calibrates on first use (minimum of ten empty regions); pass a number to reuse one.
    """

    def __init__(self, backend: str = "auto", *, baseline: int | None = None, gc_off: bool = True,
                 events: str = "hardware"):
        self.requested = backend
        if events == "software":
            # task-clock nanoseconds in place of instructions: exercises the perf region machinery on
            # machines whose CPU exposes no counters (tests); the numbers are times, not counts
            self.backend = "perf"
            kind = native.KIND_SOFTWARE
        elif events == "hardware":
            self.backend = in_process_backend(backend)
            kind = native.KIND_HARDWARE
        else:
            raise ValueError(f"events must be 'hardware' or 'software', not {events!r}")
        self.exact = self.backend == "callgrind"
        self.gc_off = gc_off
        self._group = native.Group(kind) if self.backend == "perf" else None
        self._lib, self._ffi = native.lib_ffi()
        self._labels = _count()
        self._skip_collect = False
        self.reading: Reading | None = None
        self._reader = None
        if self.backend == "callgrind":
            self._reader = callgrind.DumpReader(os.environ[callgrind.OUT_DIR_ENV])
            # once, after the caller's warm-up: regions then only toggle collection (see counters.h)
            self._lib.counters_cg_start_instrumentation()
        self.baseline = self.calibrate() if baseline is None else int(baseline)

    # -- regions -------------------------------------------------------------------------
    def _label(self) -> bytes:
        # fixed width and free of the pid: strings of varying length would vary the heap
        return f"irtools-region-{next(self._labels):09d}".encode()

    def _begin(self) -> bytes | None:
        if self.backend == "callgrind":
            label = self._label()
            self._lib.counters_cg_region_begin()
            return label
        self._group.start()
        return None

    def _end(self, label: bytes | None) -> tuple[int, dict[str, int], bool]:
        if self.backend == "callgrind":
            self._lib.counters_cg_region_end(label)
            return self._reader.take(label.decode()), {}, False
        self._group.stop()
        r = self._group.read()
        vals = dict(r.values)
        return vals.pop(self._group.names[0]), vals, r.multiplexed

    def calibrate(self, runs: int = CALIBRATION_RUNS) -> int:
        """Minimum count of empty ``with`` regions: the cost of the region machinery itself.

        The empty region goes through ``__enter__``/``__exit__`` exactly as a real one does (the
        collection before it is skipped: it is outside the region and slow under valgrind).
        """
        self.baseline = 0
        best = None
        self._skip_collect = True
        try:
            for _ in range(runs):
                with self:
                    pass
                n = self.reading.raw_instructions
                best = n if best is None else min(best, n)
        finally:
            self._skip_collect = False
        self.reading = None
        return best or 0

    def region(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` as one region; returns its result (the reading is in ``reading``)."""
        with self:
            return fn(*args, **kwargs)

    def __enter__(self):
        self._gc_was = gc.isenabled()
        if self.gc_off:
            if not self._skip_collect:
                gc.collect()
            gc.disable()
        self._cur = self._begin()
        return self

    def __exit__(self, *exc):
        n, extra, mux = self._end(self._cur)
        if self.gc_off and self._gc_was:
            gc.enable()
        self.reading = Reading(max(n - self.baseline, 0), n, extra, mux)
        return False

    # -- results -------------------------------------------------------------------------
    @property
    def instructions(self) -> int:
        if self.reading is None:
            raise RuntimeError("Counter read before a region ran")
        return self.reading.instructions

    @property
    def raw_instructions(self) -> int:
        return self.reading.raw_instructions if self.reading else 0

    @property
    def extra(self) -> dict[str, int]:
        return self.reading.extra if self.reading else {}

    def close(self) -> None:
        if self._group is not None:
            self._group.close()
            self._group = None
