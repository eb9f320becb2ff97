"""The measuring process: ``python -m irtools.measure.harness SPEC.json RESULT.json``.

Started by ``irtools.measure.runner`` either natively (hardware counters) or under
``valgrind --tool=callgrind --instr-atstart=no`` with ``$IRTOOLS_CALLGRIND_DIR`` set.  It imports
the target by reference, warms it up (JIT compilation happens there, outside every region),
calibrates the empty region, then counts ``repeat`` regions and writes the raw counts as JSON.
A target that raises is reported as JSON too (exit status 3); a crash kills this process, and
the parent reports the signal with the output.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import time
import traceback

EXIT_RAISED = 3


def _write(path: str, obj: dict) -> None:
    with open(path, "w") as f:
        json.dump(obj, f)


def _native_args(values, sig):
    ints, dbls, keep = [], [], []
    for v, kind in zip(values, sig.args, strict=True):
        if kind == "double":
            dbls.append(float(v))
        elif hasattr(v, "ctypes") and hasattr(v, "dtype"):   # numpy array: pass its data pointer
            keep.append(v)
            ints.append(int(v.ctypes.data))
        elif isinstance(v, (bytes, bytearray)):
            buf = ctypes.create_string_buffer(bytes(v), len(v))
            keep.append(buf)
            ints.append(ctypes.addressof(buf))
        else:
            ints.append(int(v))
    return ints, dbls, keep


class NativeRegion:
    """Calls a native function through the C trampoline with counting switched on around the call."""

    def __init__(self, backend: str, address: int, sig):
        from . import callgrind, native

        self.lib, self.ffi = native.lib_ffi()
        self.backend = backend
        self.address = address
        self.sig = sig
        self.iret = self.ffi.new("int64_t *")
        self.dret = self.ffi.new("double *")
        self.group = native.Group(native.KIND_HARDWARE) if backend == "perf" else None
        self.reader = None
        if backend == "callgrind":
            self.reader = callgrind.DumpReader(os.environ[callgrind.OUT_DIR_ENV])
        self.n = 0
        self.instrumenting = False

    def run(self, args, empty=False, warm=False):
        from . import native

        if self.reader is not None and not self.instrumenting and not warm:
            self.lib.counters_cg_start_instrumentation()   # once the warm-up (JIT) is done
            self.instrumenting = True
        ints, dbls, keep = _native_args(args, self.sig)
        ia = self.ffi.new("int64_t[]", ints or [0])
        da = self.ffi.new("double[]", dbls or [0.0])
        ret = {"void": 0, "int": 1, "double": 2}[self.sig.ret]
        fn = self.ffi.NULL if empty else self.ffi.cast("void *", self.address)
        g = self.group.handle if self.group else self.ffi.NULL
        rc = self.lib.counters_call(fn, 1 if self.group else 0, g, ia, len(ints), da, len(dbls), ret,
                                    self.iret, self.dret)
        native.check(rc, "native call")
        del keep
        result = None if empty or ret == 0 else (int(self.iret[0]) if ret == 1 else float(self.dret[0]))
        if self.group:
            r = self.group.read()
            vals = dict(r.values)
            return vals.pop("instructions"), vals, r.multiplexed, result
        label = f"irtools-native-{self.n:09d}"
        self.n += 1
        self.lib.counters_cg_dump_stats(label.encode())
        return self.reader.take(label), {}, False, result


def main(argv: list[str]) -> int:
    spec_path, out_path = argv[1], argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    for p in reversed(spec.get("sys_path", [])):
        if p not in sys.path:
            sys.path.insert(0, p)
    stage = "import"
    try:
        from . import targets
        from .counter import Counter

        backend = spec["backend"]
        args = list(spec.get("args", []))
        kwargs = dict(spec.get("kwargs", {}))
        setup = targets.resolve(spec["setup"], spec.get("main_file")) if spec.get("setup") else None

        def fresh_args():
            if setup is None:
                return args
            made = setup(*args)
            return list(made) if isinstance(made, (tuple, list)) else [made]

        raw, extra, mux, result, wall, cpu = [], {}, False, None, [], []
        if spec["mode"] == "native":
            if targets.is_library_reference(spec["target"]):
                address, sig, keep = targets.library_function(spec["target"], spec.get("signature"))
            else:
                obj = targets.resolve(spec["target"], spec.get("main_file"))
                stage = "build"
                address, sig, keep = targets.native_function(obj, spec.get("signature"))
            region = NativeRegion(backend, address, sig)
            stage = "warmup"
            for _ in range(spec["warmup"]):
                region.run(fresh_args(), warm=True)
            empties = [region.run(fresh_args(), empty=True)[0] for _ in range(spec["calibrate"])]
            baseline = min(empties) if empties else 0
            stage = "call"
            for _ in range(spec["repeat"]):
                t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                n, ex, m, result = region.run(fresh_args())
                wall.append(time.perf_counter_ns() - t0)
                cpu.append(time.process_time_ns() - c0)
                raw.append(n)
                mux = mux or m
                for k, v in ex.items():
                    extra.setdefault(k, []).append(v)
        else:
            fn = targets.resolve(spec["target"], spec.get("main_file"))
            stage = "warmup"
            for _ in range(spec["warmup"]):
                fn(*fresh_args(), **kwargs)
            counter = Counter(backend, baseline=None if spec["calibrate"] else 0)
            baseline = counter.baseline
            stage = "call"
            for _ in range(spec["repeat"]):
                a = fresh_args()
                t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                if kwargs:
                    with counter:
                        result = fn(*a, **kwargs)
                else:  # no empty-dict unpacking inside the region
                    with counter:
                        result = fn(*a)
                wall.append(time.perf_counter_ns() - t0)
                cpu.append(time.process_time_ns() - c0)
                raw.append(counter.raw_instructions)
                mux = mux or counter.reading.multiplexed
                for k, v in counter.extra.items():
                    extra.setdefault(k, []).append(v)
        r = repr(result)
        _write(out_path, {"ok": True, "raw": raw, "baseline": baseline, "extra": extra, "multiplexed": mux, "region_ns": wall,
                          "region_cpu_ns": cpu,
                          "result": r if len(r) <= 2000 else r[:2000] + "...", "python": sys.version.split()[0]})
        return 0
    except BaseException as e:  # the target's own failure: report it, it is not ours
        _write(out_path, {"ok": False, "stage": stage, "exc_type": type(e).__name__, "message": str(e),
                          "traceback": traceback.format_exc()})
        return EXIT_RAISED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
