"""Typed failures of instruction counting.

The C core's status codes are ``irtools._native.Status`` (``csrc/irt_status.h``, shared by every C
component); ``CounterStatus`` is that same enum under the name this package has always exported.
"""

from __future__ import annotations

import errno as _errno
import os

from irtools._native import Status
from irtools.errors import IrtoolsError

CounterStatus = Status


class MeasureError(IrtoolsError):
    """Base of every failure to measure."""


class BackendUnavailable(MeasureError):
    """No backend can count here (or the one asked for cannot); the message says what to install."""


class NoHardwareCounters(BackendUnavailable):
    """The CPU (often a virtual machine) exposes no hardware counter for instructions."""


class CounterPermissionError(BackendUnavailable, PermissionError):
    """The kernel refuses perf_event_open (kernel.perf_event_paranoid, seccomp, containers)."""


class CounterSystemError(MeasureError, OSError):
    """Any other kernel error from perf_event_open/ioctl/read."""


class MeasuredCodeFailed(MeasureError):
    """The measured code did not finish normally.  ``output`` holds its stdout/stderr tail."""

    def __init__(self, message: str, *, output: str = "", returncode: int | None = None):
        self.output = output
        self.returncode = returncode
        super().__init__(message + (f"\n--- output (tail) ---\n{output}" if output else ""))


class MeasuredCodeRaised(MeasuredCodeFailed):
    """The measured callable raised; ``exc_type`` and ``traceback_text`` come from the harness."""

    def __init__(self, message: str, *, exc_type: str = "", traceback_text: str = "", output: str = "",
                 returncode: int | None = None):
        self.exc_type = exc_type
        self.traceback_text = traceback_text
        super().__init__(message + (f"\n{traceback_text}" if traceback_text else ""), output=output,
                         returncode=returncode)


class MeasuredCodeCrashed(MeasuredCodeFailed):
    """The measuring process died on a signal (segfault, abort, SIGILL from an unsupported ISA)."""


class MeasuredCodeTimedOut(MeasuredCodeFailed):
    """The measured code ran past its timeout and was killed with its whole process group."""


def error_for(status: int, err: int, what: str, detail: str = "") -> MeasureError:
    """The typed error for a failed status of the C core; ``err`` is the errno it saw (0 if none),
    ``detail`` what the C side said (``counters_last_error``)."""
    st = Status(status)
    why = f"{_errno.errorcode.get(err, err)}: {os.strerror(err)}" if err else st.name
    if st is Status.ENOHARDWARE:
        return NoHardwareCounters(
            f"{what}: this CPU exposes no hardware instruction counter ({why}); virtual machines often "
            "do not pass the PMU through. Use the callgrind backend (valgrind).")
    if st is Status.EPERM:
        return CounterPermissionError(
            f"{what}: the kernel refused perf_event_open ({why}); lower kernel.perf_event_paranoid "
            "(`sysctl kernel.perf_event_paranoid=1` or less allows user-mode counting) or grant CAP_PERFMON.")
    if st is Status.EUNAVAILABLE:
        return BackendUnavailable(
            f"{what}: the C core was built without valgrind's headers (valgrind/valgrind.h, callgrind.h); "
            "install Debian's `valgrind` package and rebuild (`python irtools/_build.py counters`).")
    if st is Status.ESYS:
        return CounterSystemError(f"{what}: {why}")
    return MeasureError(f"{what}: {detail or st.name} ({why})")
