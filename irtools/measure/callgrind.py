"""Reading callgrind's labelled dumps back, and the valgrind command line that produces them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from .errors import BackendUnavailable, MeasureError

OUT_DIR_ENV = "IRTOOLS_CALLGRIND_DIR"   # where the harness's valgrind writes its dumps
REGION_DUMP = "cg.region"                # the harness's dumps: cg.region.1, cg.region.2, ...
_TOTALS = re.compile(rb"^totals:\s*(\d+)", re.M)
_DESC = re.compile(rb"^desc: Trigger: (.*)$", re.M)
_EVENTS = re.compile(rb"^events:\s*(.*)$", re.M)


def valgrind_path() -> str | None:
    return shutil.which("valgrind")


@cache
def valgrind_version() -> str:
    path = valgrind_path()
    if path is None:
        return ""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return out


def require_valgrind() -> str:
    path = valgrind_path()
    if path is None:
        raise BackendUnavailable("valgrind is not installed: the callgrind backend needs it "
                                 "(Debian/Ubuntu: `apt-get install valgrind`, which also provides "
                                 "valgrind/valgrind.h and callgrind.h for the C core)")
    return path


def command(out_dir: str | os.PathLike, *, regions: bool, trace_children: bool = False) -> list[str]:
    """The valgrind prefix for a measured command; dumps go to ``out_dir/cg.<pid>[.<n>]``.

    ``regions``: instrumentation off at start (Python's start-up runs at valgrind's plain speed)
    and collection off, to be toggled around each region by the harness.  Otherwise the whole
    process is counted.
    """
    flags = ["--instr-atstart=no", "--collect-atstart=no"] if regions else ["--instr-atstart=yes"]
    # One measuring process per folder, so its dumps need no pid in their names: the pid's digit
    # count changes as pids wrap (pid_max 32768), and strings of another length shift the heap
    # the measured code allocates from, which moved counts by a few hundred instructions.
    out_name = REGION_DUMP if regions else "cg.%p"
    return [
        require_valgrind(), "--tool=callgrind", "-q", *flags,
        f"--trace-children={'yes' if trace_children else 'no'}",
        f"--callgrind-out-file={os.fspath(out_dir)}/{out_name}",
        # totals are all we read: per-instruction tables only make dumps slower
        "--dump-instr=no", "--compress-strings=no",
    ]


def parse_dump(data: bytes) -> tuple[str, int]:
    """``(trigger, Ir total)`` of one callgrind output file."""
    desc = _DESC.search(data)
    events = _EVENTS.search(data)
    totals = _TOTALS.search(data)
    if not events or not totals:
        raise MeasureError("callgrind output without an events/totals line (truncated dump?)")
    names = events.group(1).split()
    if not names or names[0] != b"Ir":
        raise MeasureError(f"callgrind output counts {names!r}, expected Ir first")
    return (desc.group(1).decode(errors="replace") if desc else ""), int(totals.group(1))


class DumpReader:
    """Finds the dump for a label in ``out_dir`` (the harness's own folder) and deletes what it read."""

    def __init__(self, out_dir: str | os.PathLike):
        self.out_dir = Path(out_dir)

    def take(self, label: str) -> int:
        want = f"Client Request: {label}"
        found = None
        for path in sorted(self.out_dir.glob(REGION_DUMP + ".*")):
            trigger, total = parse_dump(path.read_bytes())
            if trigger == want:
                found = total
            path.unlink()   # every dump is read once; stale ones would only slow the next search
            if found is not None:
                break
        if found is None:
            raise MeasureError(f"no callgrind dump labelled {label!r} in {self.out_dir}")
        return found


def process_totals(out_dir: str | os.PathLike) -> dict[int, int]:
    """Ir totals of whole-process runs (the dumps callgrind writes at each process's exit)."""
    out = {}
    for path in Path(out_dir).glob("cg.*"):
        parts = path.name.split(".")
        if len(parts) != 2 or not parts[1].isdigit():
            continue
        _, total = parse_dump(path.read_bytes())
        out[int(parts[1])] = total
    return out
