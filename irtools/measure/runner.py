"""``measure``, ``measure_native``, ``measure_process``: counts made in a pinned child process.

Every measurement runs in a fresh process whose environment pins what moves counts (hash
seed, threads, JIT target CPU; see ``pins.Pins``).  With hardware counters the process runs
natively; without them it runs under ``valgrind --tool=callgrind --instr-atstart=no`` and
switches instrumentation on around each region only.  The measured code is named by reference
(``module:function``), never pickled.  A target that raises, crashes or hangs gives a typed
error that carries its output, and its whole process group is killed.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import callgrind, targets
from .errors import (
    BackendUnavailable,
    CounterStatus,
    MeasuredCodeCrashed,
    MeasuredCodeFailed,
    MeasuredCodeRaised,
    MeasuredCodeTimedOut,
    MeasureError,
    error_for,
)
from .pins import Pins
from .result import Measurement

BACKENDS = ("perf", "callgrind")
DEFAULT_TIMEOUT = 300.0
OUTPUT_TAIL = 4000


def hardware_status() -> tuple[CounterStatus, int]:
    from . import native

    return native.probe(native.KIND_HARDWARE)


def available_backends() -> dict[str, str | None]:
    """Each backend mapped to ``None`` when it works here, else the reason it does not."""
    out: dict[str, str | None] = {}
    try:
        from . import native

        lib, _ = native.lib_ffi()
    except ImportError as e:  # NativeLoadError: the C core is not built
        return {b: str(e) for b in BACKENDS}
    st, err = hardware_status()
    out["perf"] = None if st == CounterStatus.OK else str(error_for(st, err, "perf_event_open"))
    if callgrind.valgrind_path() is None:
        out["callgrind"] = "valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)"
    elif not lib.counters_have_valgrind_headers():
        out["callgrind"] = str(error_for(CounterStatus.EUNAVAILABLE, 0, "callgrind"))
    else:
        out["callgrind"] = None
    return out


def choose_backend(requested: str = "auto") -> str:
    if requested not in ("auto", *BACKENDS):
        raise MeasureError(f"unknown backend {requested!r}: choose auto, perf or callgrind")
    avail = available_backends()
    if requested != "auto":
        if avail[requested] is not None:
            if requested == "perf":

                st, err = hardware_status()
                raise error_for(st, err, "perf backend")
            raise BackendUnavailable(avail[requested])
        return requested
    for b in BACKENDS:
        if avail[b] is None:
            return b
    raise BackendUnavailable("no instruction-count backend works here:\n  " +
                             "\n  ".join(f"{b}: {why}" for b, why in avail.items()))


def backend_version(backend: str) -> str:
    if backend == "callgrind":
        return callgrind.valgrind_version()
    return f"perf_event_open, Linux {platform.release()}"


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-OUTPUT_TAIL:].decode(errors="replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _run(cmd: list[str], *, env: dict, cwd, timeout: float, what: str, log: Path,
         stdin_data: bytes | None = None) -> int:
    """Run ``cmd`` in its own session; on timeout kill the whole group.  Returns the exit status."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                                start_new_session=True)
        try:
            if stdin_data is not None:
                proc.communicate(stdin_data, timeout=timeout)
            else:
                proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise MeasuredCodeTimedOut(f"{what}: still running after {timeout:g} s; killed its process group",
                                       output=_tail(log)) from None
        except BaseException:
            _kill_group(proc)
            raise
        # descendants the target left behind (a daemonised helper) must not outlive the measurement
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return proc.returncode


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


def _harness(mode: str, fn, args, *, kwargs, signature, setup, warmup, repeat, backend, timeout, pins,
             calibrate, cwd) -> Measurement:
    if repeat < 1 or warmup < 0:
        raise MeasureError("repeat must be >= 1 and warmup >= 0")
    pins = pins or Pins(warmup=warmup)
    chosen = choose_backend(backend)
    if mode == "native" and isinstance(fn, str) and targets.is_library_reference(fn):
        target, main_file = fn, None
    else:
        target, main_file = targets.reference_of(fn)
    setup_ref, setup_main = targets.reference_of(setup) if setup is not None else (None, None)
    spec = {"mode": mode, "target": target, "main_file": main_file or setup_main, "setup": setup_ref,
            "args": list(args), "kwargs": kwargs or {}, "signature": signature, "warmup": warmup,
            "repeat": repeat, "backend": chosen, "calibrate": 10 if calibrate else 0,
            "sys_path": [p for p in sys.path if p]}
    try:
        spec_text = json.dumps(spec)
    except TypeError as e:
        raise MeasureError(f"arguments must be JSON values (build others with setup=): {e}") from e
    with tempfile.TemporaryDirectory(prefix="irtools-measure-") as tmp:
        tmpd = Path(tmp)
        (tmpd / "spec.json").write_text(spec_text)
        out = tmpd / "result.json"
        cmd = [sys.executable, "-m", "irtools.measure.harness", str(tmpd / "spec.json"), str(out)]
        env = pins.environment()
        if chosen == "callgrind":
            cgdir = tmpd / "cg"
            cgdir.mkdir()
            env[callgrind.OUT_DIR_ENV] = str(cgdir)
            cmd = callgrind.command(cgdir, regions=True) + cmd
        log = tmpd / "output.txt"
        rc = _run(cmd, env=env, cwd=cwd, timeout=timeout, what=f"measuring {target}", log=log)
        output = _tail(log)
        if rc < 0:
            raise MeasuredCodeCrashed(f"measuring {target}: the process died on {_signal_name(rc)}"
                                      + (" (SIGILL under valgrind: code built for an ISA valgrind cannot "
                                         "run, e.g. AVX-512; pin the target CPU)" if rc == -signal.SIGILL else ""),
                                      output=output, returncode=rc)
        try:
            res = json.loads(out.read_text())
        except (OSError, ValueError):
            raise MeasuredCodeFailed(f"measuring {target}: the harness exited with status {rc} without a result",
                                     output=output, returncode=rc) from None
    if not res["ok"]:
        raise MeasuredCodeRaised(f"measuring {target}: {res['exc_type']} during {res['stage']}: {res['message']}",
                                 exc_type=res["exc_type"], traceback_text=res["traceback"], output=output,
                                 returncode=rc)
    base = int(res["baseline"])
    raw = [int(x) for x in res["raw"]]
    runs = [max(x - base, 0) for x in raw]
    import statistics

    return Measurement(
        target=target, kind="native" if mode == "native" else "callable", backend=chosen,
        backend_version=backend_version(chosen), exact=chosen == "callgrind",
        instructions=int(statistics.median_low(runs)), runs=runs, raw=raw, baseline=base,
        target_cpu=pins.target_cpu, pins=pins.to_dict(), warmup=warmup, repeat=repeat,
        extra=res.get("extra", {}), multiplexed=bool(res.get("multiplexed")), python=res.get("python", ""),
        result=res.get("result"), region_ns=[int(x) for x in res.get("region_ns", [])],
        region_cpu_ns=[int(x) for x in res.get("region_cpu_ns", [])])


def measure(fn, *args, warmup: int = 1, repeat: int = 5, backend: str = "auto",
            timeout: float = DEFAULT_TIMEOUT, kwargs: dict | None = None, setup=None, pins: Pins | None = None,
            calibrate: bool = True, cwd: str | os.PathLike | None = None) -> Measurement:
    """Count the instructions of ``fn(*args, **kwargs)`` in a fresh, pinned process.

    ``fn`` is a module-level function (or ``"module:function"``).  ``args`` must be JSON values; for
    anything else pass ``setup`` (a module-level function): it is called with ``args`` before every
    run, outside the region, and its result (a tuple) becomes the arguments.  ``warmup`` calls
    run first (JIT compilation happens there).  ``instructions`` is the median of ``repeat``
    regions, each minus the calibrated empty region.
    """
    return _harness("callable", fn, args, kwargs=kwargs, signature=None, setup=setup, warmup=warmup,
                    repeat=repeat, backend=backend, timeout=timeout, pins=pins, calibrate=calibrate, cwd=cwd)


def measure_native(fn, *args, signature: str | None = None, warmup: int = 1, repeat: int = 5,
                   backend: str = "auto", timeout: float = DEFAULT_TIMEOUT, setup=None, pins: Pins | None = None,
                   calibrate: bool = True, cwd: str | os.PathLike | None = None) -> Measurement:
    """Count the instructions of a native function, with counting switched on right around the call.

    ``fn`` names (by reference) a numba ``@cfunc``, a ctypes function, or a zero-argument factory
    that builds one (llvmlite, TVM) and returns it, an address, or ``(address, owner)``; or it is
    ``"/path/lib.so:symbol"``.  ``signature`` (``"i64(i64,ptr)"``) is inferred for numba and ctypes.
    Arguments are integers, floats, or (from ``setup``) numpy arrays passed as pointers.  Factories
    should build for ``irtools.measure.pins.target_cpu()``.
    """
    return _harness("native", fn, args, kwargs=None, signature=signature, setup=setup, warmup=warmup,
                    repeat=repeat, backend=backend, timeout=timeout, pins=pins, calibrate=calibrate, cwd=cwd)


def _process_perf(argv, env, cwd, timeout, log: Path, kind: int) -> tuple[int, dict[str, int], bool, int]:
    """Fork, open counters on the child before it execs (enable_on_exec, inherited), exec, wait."""
    from . import native

    rfd, wfd = os.pipe()
    logfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pid = os.fork()
    if pid == 0:  # child: wait until the parent has attached the counters, then exec
        try:
            os.setsid()
            os.close(wfd)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(logfd, 1)
            os.dup2(logfd, 2)
            os.read(rfd, 1)
            if cwd:
                os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        except BaseException as e:
            os.write(2, f"irtools: cannot run {argv[0]}: {e}\n".encode())
        os._exit(127)
    os.close(rfd)
    os.close(logfd)
    group = None
    try:
        group = native.Group(kind, pid=pid)
        os.write(wfd, b"g")
        os.close(wfd)
        wfd = -1
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise MeasuredCodeTimedOut(f"{argv[0]}: still running after {timeout:g} s; killed",
                                           output=_tail(log))
            time.sleep(0.005)
        try:
            os.killpg(pid, signal.SIGKILL)   # leftovers of the measured process group
        except (ProcessLookupError, PermissionError):
            pass
        r = group.read()
        vals = dict(r.values)
        primary = vals.pop(group.names[0])
        return primary, vals, r.multiplexed, os.waitstatus_to_exitcode(status)
    except BaseException:
        try:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        raise
    finally:
        if wfd >= 0:
            os.close(wfd)
        if group is not None:
            group.close()


def measure_process(argv: list[str], *, repeat: int = 1, backend: str = "auto",
                    timeout: float = DEFAULT_TIMEOUT, pins: Pins | None = None, cwd=None,
                    check: bool = True, trace_children: bool = True) -> Measurement:
    """Count every user-mode instruction of a whole process (and, by default, its children).

    Under callgrind the process runs with instrumentation from the start and each process's
    exit dump is summed; with hardware counters they are attached before ``exec`` and inherited.
    No overhead is subtracted: process start-up is part of what a process costs.  ``check``
    raises ``MeasuredCodeFailed`` on a non-zero exit status.
    """
    if not argv:
        raise MeasureError("measure_process needs a command")
    pins = pins or Pins(warmup=0)
    chosen = choose_backend(backend)
    env = pins.environment()
    runs, extra, mux = [], {}, False
    what = " ".join(argv)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="irtools-measure-") as tmp:
            log = Path(tmp) / "output.txt"
            if chosen == "callgrind":
                cgdir = Path(tmp) / "cg"
                cgdir.mkdir()
                cmd = callgrind.command(cgdir, regions=False, trace_children=trace_children) + list(argv)
                rc = _run(cmd, env=env, cwd=cwd, timeout=timeout, what=what, log=log)
                totals = callgrind.process_totals(cgdir)
                n = sum(totals.values())
            else:
                from . import native

                n, ex, m, rc = _process_perf(list(argv), env, cwd, timeout, log, native.KIND_HARDWARE)
                mux = mux or m
                for k, v in ex.items():
                    extra.setdefault(k, []).append(v)
            output = _tail(log)
        if rc < 0:
            raise MeasuredCodeCrashed(f"{what}: died on {_signal_name(rc)}", output=output, returncode=rc)
        if check and rc != 0:
            raise MeasuredCodeFailed(f"{what}: exit status {rc}", output=output, returncode=rc)
        if chosen == "callgrind" and not totals:
            raise MeasuredCodeFailed(f"{what}: callgrind wrote no profile (did the command start?)",
                                     output=output, returncode=rc)
        runs.append(n)
    import statistics

    return Measurement(
        target=what, kind="process", backend=chosen, backend_version=backend_version(chosen),
        exact=chosen == "callgrind", instructions=int(statistics.median_low(runs)), runs=runs, raw=list(runs),
        baseline=0, target_cpu=pins.target_cpu, pins=pins.to_dict(), warmup=0, repeat=repeat, extra=extra,
        multiplexed=mux, python=platform.python_version())
