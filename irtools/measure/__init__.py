"""Instruction counts as a measure of how much work code does, and efficiency metrics on top.

Backends (picked by ``backend="auto"``):
  * ``perf``: hardware counters through ``perf_event_open`` (instructions, plus cycles and
    branch misses where the CPU exposes them), user mode only;
  * ``callgrind``: the measured code runs under ``valgrind --tool=callgrind`` with
    instrumentation switched on around the region only; exact and deterministic, 26-86x slower.

Public names are imported lazily: the pytest plugin of this package is loaded in every pytest
run of the project and must cost nothing, and the C core may be unbuilt.
"""

from __future__ import annotations

_LAZY = {
    "Counter": "irtools.measure.counter",
    "Reading": "irtools.measure.counter",
    "measure": "irtools.measure.runner",
    "measure_native": "irtools.measure.runner",
    "measure_process": "irtools.measure.runner",
    "available_backends": "irtools.measure.runner",
    "Measurement": "irtools.measure.result",
    "Pins": "irtools.measure.pins",
    "MeasureError": "irtools.measure.errors",
    "BackendUnavailable": "irtools.measure.errors",
    "NoHardwareCounters": "irtools.measure.errors",
    "CounterPermissionError": "irtools.measure.errors",
    "MeasuredCodeFailed": "irtools.measure.errors",
    "MeasuredCodeCrashed": "irtools.measure.errors",
    "MeasuredCodeRaised": "irtools.measure.errors",
    "MeasuredCodeTimedOut": "irtools.measure.errors",
    "CounterStatus": "irtools.measure.errors",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'irtools.measure' has no attribute {name!r}")
