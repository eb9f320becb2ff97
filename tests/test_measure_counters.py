"""The C counters: status codes, perf_event_open groups, hardware fallback, valgrind no-ops."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from irtools.errors import NativeLoadError

try:
    from irtools.measure import native
    native.lib_ffi()
except NativeLoadError as e:  # the C core is unbuilt: nothing here can run
    pytest.skip(f"counters C component not built: {e}", allow_module_level=True)

from irtools._native import Status, failure, load
from irtools.measure import counter, errors, runner

ROOT = Path(__file__).resolve().parent.parent
HW_STATUS, HW_ERRNO = native.probe(native.KIND_HARDWARE)
needs_hw = pytest.mark.skipif(HW_STATUS != errors.CounterStatus.OK,
                              reason=f"no hardware counters here ({errors.CounterStatus(HW_STATUS).name}, "
                                     f"errno {errno.errorcode.get(HW_ERRNO, HW_ERRNO)})")
no_hw = pytest.mark.skipif(HW_STATUS != errors.CounterStatus.ENOHARDWARE,
                           reason="this CPU exposes hardware counters (or refuses them for permission)")


def test_status_codes_match_the_shared_header():
    """One set of codes for every C component (csrc/irt_status.h), mirrored once in irtools._native."""
    lib, _ = native.lib_ffi()
    header = (ROOT / "csrc" / "irt_status.h").read_text()
    assert errors.CounterStatus is Status
    for st in Status:
        assert getattr(lib, f"IRT_{st.name}") == st.value
        assert f"IRT_{st.name} = {st.value}" in header
    for name in ("counters", "covtrace"):
        assert f"{name}_last_error" in dir(load(name)[0]) and f"{name}_last_errno" in dir(load(name)[0])
    assert lib.counters_abi_version() >= 1


@pytest.mark.parametrize("err,kind", [
    (errno.ENOENT, errors.NoHardwareCounters), (errno.EOPNOTSUPP, errors.NoHardwareCounters),
    (errno.EACCES, errors.CounterPermissionError), (errno.EPERM, errors.CounterPermissionError),
    (errno.EMFILE, errors.CounterSystemError)])
def test_errno_mapping_is_typed(err, kind):
    # the same classification the C side makes (status_from_errno), via the one Python mapping
    status = {errors.NoHardwareCounters: Status.ENOHARDWARE, errors.CounterPermissionError: Status.EPERM,
              errors.CounterSystemError: Status.ESYS}[kind]
    exc = errors.error_for(status, err, "probe")
    assert isinstance(exc, kind)
    if kind is errors.CounterPermissionError:
        assert "perf_event_paranoid" in str(exc)


def test_software_group_counts_task_clock():
    """The same group code that reads instructions, on software events every Linux has."""
    with native.Group(native.KIND_SOFTWARE) as g:
        g.start()
        sum(range(200_000))
        g.stop()
        r1 = g.read()
        g.start()
        sum(range(2_000_000))
        g.stop()
        r2 = g.read()
    assert r1.values["task_clock_ns"] > 0
    assert r2.values["task_clock_ns"] > r1.values["task_clock_ns"]   # reset on start, not cumulative
    assert r1.time_enabled >= r1.time_running > 0


def test_closed_group_is_an_error_not_a_crash():
    lib, ffi = native.lib_ffi()
    g = ffi.new("struct counters_group *")
    assert lib.counters_open(g, native.KIND_SOFTWARE) == 0
    lib.counters_close(g)
    lib.counters_close(g)  # idempotent
    r = ffi.new("struct counters_reading *")
    assert lib.counters_read(g, r) == Status.ESTATE
    assert failure("counters", Status.ESTATE) == (Status.ESTATE, "the counter group is not open", 0)
    assert lib.counters_start(g) == Status.ESTATE
    assert lib.counters_open(ffi.NULL, 0) == Status.EARG
    assert lib.counters_open(g, 7) == Status.EARG
    assert lib.counters_open_process(g, 0, 0) == Status.EARG
    assert lib.counters_open(g, native.KIND_SOFTWARE) == 0 and lib.counters_last_error() != ffi.NULL
    assert ffi.string(lib.counters_last_error()) == b""   # a success clears the last error
    lib.counters_close(g)


def test_trampoline_rejects_bad_signatures():
    lib, ffi = native.lib_ffi()
    ia = ffi.new("int64_t[7]")
    da = ffi.new("double[5]")
    bad = [(7, 0, 1), (0, 5, 2), (1, 1, 1), (0, 0, 3)]
    for ni, nd, ret in bad:
        assert lib.counters_call(ffi.NULL, 0, ffi.NULL, ia, ni, da, nd, ret, ffi.NULL, ffi.NULL) == Status.EARG


def test_software_process_counting_attaches_before_exec(tmp_path):
    """measure_process's hardware path (fork, attach, exec, inherit), exercised with task-clock."""
    env = dict(os.environ)
    small = runner._process_perf([sys.executable, "-c", "pass"], env, None, 60, tmp_path / "a", native.KIND_SOFTWARE)
    big = runner._process_perf([sys.executable, "-c", "sum(range(3_000_000))"], env, None, 60, tmp_path / "b",
                               native.KIND_SOFTWARE)
    assert small[3] == 0 and big[3] == 0
    assert big[0] > small[0] > 0
    missing = runner._process_perf(["/nonexistent/prog"], env, None, 60, tmp_path / "c", native.KIND_SOFTWARE)
    assert missing[3] == 127 and "cannot run" in (tmp_path / "c").read_text()


def test_valgrind_requests_are_noops_natively():
    lib, _ = native.lib_ffi()
    assert lib.counters_running_on_valgrind() == 0
    lib.counters_cg_region_begin()
    lib.counters_cg_region_end(b"label")
    lib.counters_cg_dump_stats(b"x")


@no_hw
def test_no_hardware_is_reported_specifically():
    assert HW_ERRNO in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV)
    with pytest.raises(errors.NoHardwareCounters, match="no hardware instruction counter"):
        native.Group(native.KIND_HARDWARE)
    with pytest.raises(errors.NoHardwareCounters, match="callgrind"):
        counter.Counter("perf")
    with pytest.raises(errors.NoHardwareCounters):
        runner.choose_backend("perf")
    avail = runner.available_backends()
    assert avail["perf"] and "no hardware" in avail["perf"]


@no_hw
def test_auto_falls_back_to_callgrind():
    if runner.available_backends()["callgrind"] is not None:
        pytest.skip("valgrind missing: " + runner.available_backends()["callgrind"])
    assert runner.choose_backend("auto") == "callgrind"
    with pytest.raises(errors.NoHardwareCounters, match="measure"):
        counter.Counter()   # in-process counting has no backend here: the error points to measure()


@needs_hw
def test_hardware_counter_counts_instructions():
    with counter.Counter("perf") as c:
        sum(range(100_000))
    small = c.instructions
    with c:
        sum(range(1_000_000))
    assert c.backend == "perf" and not c.exact
    assert c.instructions > 5 * small > 0


@needs_hw
def test_hardware_measure_in_subprocess(tmp_path, monkeypatch):
    (tmp_path / "hwmod.py").write_text("def work(n):\n    return sum(range(n))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    m = runner.measure("hwmod:work", 10_000, backend="perf", repeat=3)
    assert m.backend == "perf" and m.instructions > 10_000


def test_asan_build_is_clean(tmp_path):
    """The counters C code under ASan+UBSan: open/read/close, bad arguments, the trampoline."""
    from irtools import _build

    try:
        _build.build_inplace(["counters"], sanitize=True, outdir=_build.ASAN_DIR)
    except Exception as e:  # noqa: BLE001 - no sanitizer runtime on this machine
        pytest.skip(f"cannot build the ASan variant: {e}")
    libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(_build.ASAN_DIR)!r})
        import _c_counters as m
        lib, ffi = m.lib, m.ffi
        g = ffi.new("struct counters_group *"); r = ffi.new("struct counters_reading *")
        assert lib.counters_probe(0) in (lib.IRT_OK, lib.IRT_ENOHARDWARE, lib.IRT_EPERM)
        assert lib.counters_open(g, 1) == 0
        for _ in range(3):
            lib.counters_start(g); sum(range(1000)); lib.counters_stop(g)
            assert lib.counters_read(g, r) == 0
        lib.counters_close(g); lib.counters_close(g)
        assert lib.counters_read(g, r) == lib.IRT_ESTATE and ffi.string(lib.counters_last_error())
        ia = ffi.new("int64_t[6]", [1, 2, 3, 4, 5, 6]); iret = ffi.new("int64_t *")
        assert lib.counters_call(ffi.NULL, 0, ffi.NULL, ia, 6, ffi.NULL, 0, 1, iret, ffi.NULL) in (
            lib.IRT_OK, lib.IRT_EUNAVAILABLE)
        assert lib.counters_call(ffi.NULL, 0, ffi.NULL, ffi.NULL, 2, ffi.NULL, 0, 1, iret, ffi.NULL) == lib.IRT_EARG
        print("asan-ok")
    """)
    env = dict(os.environ, LD_PRELOAD=libasan, ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "asan-ok" in out.stdout, out.stderr[-3000:]


def test_counter_region_machinery_on_software_events():
    """Counter's perf path (calibration, GC pinning, subtraction) with task-clock standing in for
    instructions, so that it runs on machines without hardware counters too."""
    import gc

    c = counter.Counter("perf", events="software")
    assert c.backend == "perf" and not c.exact
    assert c.baseline >= 0
    assert gc.isenabled()
    with c:
        assert not gc.isenabled()          # GC is off inside the region
        sum(range(300_000))
    assert gc.isenabled()
    small = c.raw_instructions
    assert c.instructions == max(small - c.baseline, 0)
    assert "page_faults" in c.extra
    c.region(sum, range(3_000_000))
    assert c.raw_instructions > small
    c.close()
    with pytest.raises(ValueError):
        counter.Counter("perf", events="bogus")
