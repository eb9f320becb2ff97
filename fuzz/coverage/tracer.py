"""Python face of ``csrc/covtrace``: find function starts, arm breakpoints, read the bitmap.

One :class:`Tracer` per fork-server process.  The bitmap is a file shared by every worker of a
campaign (and read by the campaign parent), so a site seen by one worker is patched out of all
of them at their next :meth:`Tracer.sync`.

Beside it, ``stages.bitmap`` says which kind of work reached each site: the compile pipeline
(passes, code generation), the fuzzer's front (parsing, mutation, printing) or its oracles
(verifiers, hashes, running the built code).  The published coverage is the pipeline's: a site
that the front reached first stays armed until the pipeline reaches it too (or never does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from irtools._native import Status, failure, load
from irtools.errors import IrtoolsError

FRONT, PIPELINE, ORACLE = 1, 2, 4  # stage classes, bits of a stages.bitmap byte
REARM_EVERY = 4  # a seen site that awaits the pipeline traps at most once per this many cases


def set_class(cls: int) -> None:
    """Say what kind of work this process family is doing now (a no-op where no tracer is armed)."""
    lib = _armed_lib()
    if lib is not None:
        lib.covtrace_set_class(cls)


_ARMED: list = []  # the loaded library, once a Tracer armed this process (children inherit it)


def _armed_lib():
    return _ARMED[0] if _ARMED else None


class CoverageError(IrtoolsError):
    """The tracer could not scan, map or arm; ``status`` and ``errno`` say how (csrc/irt_status.h)."""

    def __init__(self, message: str, status: Status = Status.ESYS, errno: int = 0):
        self.status = status
        self.errno = errno
        super().__init__(message)


def _check(rc: int) -> int:
    if rc < 0:
        st, msg, err = failure("covtrace", rc)
        raise CoverageError(msg, st, err)
    return rc


@dataclass(frozen=True)
class SiteTable:
    """Function starts of one ELF file (link-time addresses) and where its own code ends."""

    path: str
    starts: tuple[int, ...]
    split: int  # index of the first site that is not the library's own (LLVM, in TVM's case)

    @property
    def n_own(self) -> int:
        return self.split

    @property
    def n_other(self) -> int:
        return len(self.starts) - self.split


@cache
def scan(path: str | os.PathLike) -> SiteTable:
    """List the function starts in ``path``'s ``.eh_frame_hdr``."""
    lib, ffi = load("covtrace")
    path = str(path)
    own_end = ffi.new("uint64_t *")
    n = _check(lib.covtrace_scan(path.encode(), ffi.NULL, 0, own_end))
    buf = ffi.new("uint64_t[]", max(n, 1))
    n = _check(lib.covtrace_scan(path.encode(), buf, n, own_end))
    starts = tuple(ffi.unpack(buf, n))
    end = int(own_end[0])
    if end == 0:
        split = len(starts)
    else:
        import bisect

        split = bisect.bisect_left(starts, end)
    return SiteTable(path, starts, split)


def module_base(name_substr: str) -> tuple[int, str]:
    """Load address and path of the first loaded object whose path contains ``name_substr``."""
    lib, ffi = load("covtrace")
    base = ffi.new("uint64_t *")
    buf = ffi.new("char[]", 4096)
    _check(lib.covtrace_module_base(name_substr.encode(), base, buf, 4096))
    return int(base[0]), ffi.string(buf).decode()


def tvm_library_path() -> Path:
    """``libtvm_compiler.so`` of the installed wheel, found without importing TVM."""
    import importlib.util

    spec = importlib.util.find_spec("tvm")
    if spec is None or not spec.submodule_search_locations:
        raise CoverageError("the tvm package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "lib" / "libtvm_compiler.so"
    if not path.exists():
        raise CoverageError(f"{path} not found")
    return path


class Tracer:
    """Breakpoint coverage of one loaded library inside this process (and its forked children)."""

    def __init__(self, library_substr: str, bitmap_path: str | None = None, *, table: SiteTable | None = None,
                 stages_path: str | None = None):
        """``stages_path`` (default: ``stages.bitmap`` beside ``bitmap_path``) records each site's stage
        classes; with no bitmap file both maps are anonymous."""
        self.lib, self.ffi = load("covtrace")
        base, path = module_base(library_substr)
        self.table = table or scan(path)
        self.base = base
        if self.lib.covtrace_bitmap() == self.ffi.NULL:
            _check(self.lib.covtrace_open_bitmap(bitmap_path.encode() if bitmap_path else self.ffi.NULL,
                                                 len(self.table.starts)))
        if self.lib.covtrace_classes() == self.ffi.NULL:
            if stages_path is None and bitmap_path:
                stages_path = str(Path(bitmap_path).with_name("stages.bitmap"))
            _check(self.lib.covtrace_open_classes(stages_path.encode() if stages_path else self.ffi.NULL, PIPELINE))
        sites = self.ffi.new("uint64_t[]", self.table.starts)
        self.armed = _check(self.lib.covtrace_arm(base, sites, len(self.table.starts), self.table.split))
        self._buf = self.ffi.buffer(self.lib.covtrace_bitmap(), len(self.table.starts))
        self._syncs = 0
        _ARMED[:] = [self.lib]
        set_class(FRONT)

    def sync(self) -> int:
        """Patch out of this image every site any process has seen (but those still awaiting the
        pipeline), and every :data:`REARM_EVERY` calls arm those again; returns how many were patched."""
        n = _check(self.lib.covtrace_sync())
        self._syncs += 1
        if self._syncs % REARM_EVERY == 0:
            _check(self.lib.covtrace_rearm())
        set_class(FRONT)
        return n

    def reset_counters(self) -> None:
        self.lib.covtrace_reset_counters()

    def counters(self) -> tuple[int, int]:
        """Sites first seen by this server's children since the last reset: (own, other)."""
        out = self.ffi.new("uint64_t[2]")
        self.lib.covtrace_counters(out)
        return int(out[0]), int(out[1])

    def seen(self) -> tuple[int, int]:
        own = _check(self.lib.covtrace_count_seen(0, self.table.split))
        other = _check(self.lib.covtrace_count_seen(self.table.split, len(self.table.starts)))
        return own, other

    def seen_by(self, mask: int) -> tuple[int, int]:
        """Sites reached by a stage of class ``mask`` (e.g. :data:`PIPELINE`): (own, other)."""
        own = _check(self.lib.covtrace_count_class(mask, 0, self.table.split))
        return own, _check(self.lib.covtrace_count_class(mask, self.table.split, len(self.table.starts)))

    def hit_indices(self) -> list[int]:
        data = bytes(self._buf)
        return [i for i, b in enumerate(data) if b]

    def disarm(self) -> None:
        _check(self.lib.covtrace_disarm())
        _ARMED.clear()


def read_bitmap(path: str | os.PathLike, split: int, mask: int = 0xFF) -> tuple[int, int]:
    """Count the sites of a campaign's bitmap file set in ``mask`` (any bit: seen), without any tracer:
    (own, other).  On ``stages.bitmap`` with ``mask=PIPELINE``: the compile pipeline's sites."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return 0, 0
    return sum(1 for b in data[:split] if b & mask), sum(1 for b in data[split:] if b & mask)
