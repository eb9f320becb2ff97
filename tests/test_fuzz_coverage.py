"""The int3 tracer on a small C library built here, and on TVM's own libtvm_compiler.so."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LIB_C = r"""
int f_add(int a, int b) { return a + b; }
int f_mul(int a, int b) { return a * b; }
__attribute__((noinline)) int f_helper(int a) { return a ^ 0x55; }
int f_calls_helper(int a) { return f_helper(a) + 1; }
int f_never(int a) { return a - 1; }
"""

CHILD = r"""
import ctypes, os, sys
from irtoolkit.fuzz.coverage.tracer import Tracer, scan
lib_path = sys.argv[1]
lib = ctypes.CDLL(lib_path)
table = scan(lib_path)
tr = Tracer("libcovtest", None)
def child(fn):
    tr.reset_counters()
    pid = os.fork()
    if pid == 0:
        fn(); os._exit(0)
    _, st = os.waitpid(pid, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
    c = tr.counters(); tr.sync()
    return c
r1 = child(lambda: (lib.f_add(1, 2), lib.f_calls_helper(3)))
r2 = child(lambda: lib.f_add(5, 6))            # seen already: patched out of the parent
r3 = child(lambda: lib.f_mul(2, 2))
hits = [table.starts[i] for i in tr.hit_indices()]
print("RESULT", r1[0], r2[0], r3[0], tr.armed, len(table.starts), " ".join(hex(h) for h in hits))
"""


@pytest.fixture(scope="module")
def covlib(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("cov")
    (d / "lib.c").write_text(LIB_C)
    so = d / "libcovtest.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(so), str(d / "lib.c")], check=True)
    return so


def _nm(so: Path) -> dict[str, int]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True, text=True, check=True)
    return {p[2]: int(p[0], 16) for p in (line.split() for line in out.stdout.splitlines()) if len(p) == 3}


def test_scan_lists_every_function_start(covlib):
    from irtoolkit.fuzz.coverage.tracer import scan

    table = scan(covlib)
    syms = _nm(covlib)
    for name in ("f_add", "f_mul", "f_helper", "f_calls_helper", "f_never"):
        assert syms[name] in table.starts, name
    assert list(table.starts) == sorted(set(table.starts))


def test_scan_rejects_non_elf(tmp_path):
    from irtoolkit.fuzz.coverage.tracer import CoverageError, scan

    bad = tmp_path / "not.so"
    bad.write_bytes(b"\x7fELF" + b"\0" * 10)
    with pytest.raises(CoverageError):
        scan(bad)
    (tmp_path / "text.so").write_text("hello " * 20)
    with pytest.raises(CoverageError, match="not an ELF") as ei:
        scan(tmp_path / "text.so")
    # the shared status codes of csrc/irt_status.h, with the errno where the system gave one
    from irtools._native import Status

    assert (ei.value.status, ei.value.errno) == (Status.EFORMAT, 0)
    with pytest.raises(CoverageError, match="cannot open") as ei:
        scan(tmp_path / "absent.so")
    assert (ei.value.status, ei.value.errno) == (Status.EIO, errno.ENOENT)


def test_children_report_hits_through_shared_bitmap(covlib):
    out = subprocess.run([sys.executable, "-c", CHILD, str(covlib)], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    _, r1, r2, r3, armed, n, *hits = line.split()
    syms = _nm(covlib)
    hit = {int(h, 16) for h in hits}
    assert {syms["f_add"], syms["f_calls_helper"], syms["f_helper"], syms["f_mul"]} <= hit
    assert syms["f_never"] not in hit
    assert int(r1) >= 3 and int(r2) == 0 and int(r3) == 1


STAGES_CHILD = r"""
import ctypes, os, sys
from irtoolkit.fuzz.coverage.tracer import FRONT, PIPELINE, Tracer, scan, set_class
lib_path, stages = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(lib_path)
table = scan(lib_path)
tr = Tracer("libcovtest", None, stages_path=stages)
index = {a: i for i, a in enumerate(table.starts)}
def child(cls, fn):
    tr.reset_counters()
    pid = os.fork()
    if pid == 0:
        set_class(cls); fn(); os._exit(0)
    _, st = os.waitpid(pid, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
    c = tr.counters()
    tr.lib.covtrace_sync()
    return c[0]
def classes():
    data = open(stages, "rb").read()
    return " ".join(f"{a:x}={data[i]}" for a, i in index.items() if data[i])
n1 = child(FRONT, lambda: (lib.f_add(1, 2), lib.f_calls_helper(3)))   # the fuzzer's own work reaches them first
n2 = child(PIPELINE, lambda: lib.f_add(1, 2))     # not re-armed yet: the pipeline's hit goes unseen
before = classes()
tr.lib.covtrace_rearm()                            # arm what still awaits the pipeline
n3 = child(PIPELINE, lambda: (lib.f_add(1, 2), lib.f_mul(2, 3)))
n4 = child(PIPELINE, lambda: lib.f_add(1, 2))      # has the pipeline's class now: patched out for good
tr.lib.covtrace_rearm()
n5 = child(PIPELINE, lambda: lib.f_add(1, 2))
print("RESULT", n1, n2, n3, n4, n5, "|", before, "|", classes(), "|", *tr.seen_by(PIPELINE), *tr.seen_by(FRONT))
"""


def test_stage_classes_count_a_function_for_the_pipeline_even_when_the_front_hit_it_first(covlib, tmp_path):
    """stages.bitmap: the OR of the classes current at each site's hits; a site the fuzzer's own
    machinery reached first stays armed (after covtrace_rearm) until the pipeline reaches it, and
    such a second hit is not new coverage for the guidance."""
    out = subprocess.run([sys.executable, "-c", STAGES_CHILD, str(covlib), str(tmp_path / "stages.bitmap")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    counts, before, after, seen = line.split("|")
    n1, n2, n3, n4, n5 = map(int, counts.split()[1:])
    syms = _nm(covlib)

    def cls(text):
        return {int(a, 16): int(c) for a, c in (kv.split("=") for kv in text.split())}

    b, a = cls(before), cls(after)
    assert b[syms["f_add"]] == 1 and b[syms["f_calls_helper"]] == 1 and b[syms["f_helper"]] == 1  # FRONT only
    assert a[syms["f_add"]] == 1 | 2 and a[syms["f_mul"]] == 2          # the pipeline reached both
    assert a[syms["f_calls_helper"]] == 1 and syms["f_never"] not in a  # never by the pipeline / never at all
    assert n1 >= 3 and n2 == 0 and n3 == 1 and n4 == 0 and n5 == 0       # only f_mul was new coverage
    pipeline_own, _, front_own, _ = map(int, seen.split())
    assert pipeline_own == 2 and front_own >= 3


TVM_CHILD = r"""
import os
os.environ["TVM_NUM_THREADS"] = "1"
import tvm
from tvm import te
from irtoolkit.fuzz.coverage.tracer import Tracer
tr = Tracer("libtvm_compiler.so", None)
def work():
    A = te.placeholder((8, 8), name="A")
    B = te.compute((8, 8), lambda i, j: A[i, j] * 2.0, name="B")
    tvm.compile(tvm.IRModule({"main": te.create_prim_func([A, B])}), target={"kind": "llvm"})
res = []
for _ in range(2):
    tr.reset_counters()
    pid = os.fork()
    if pid == 0:
        work(); os._exit(0)
    _, st = os.waitpid(pid, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
    res.append(tr.counters()); tr.sync()
print("RESULT", res[0][0], res[0][1], res[1][0], res[1][1], tr.table.split, len(tr.table.starts))
"""


@pytest.mark.tvm
def test_tracer_on_tvm():
    pytest.importorskip("tvm")
    out = subprocess.run([sys.executable, "-c", TVM_CHILD], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    own1, llvm1, own2, llvm2, split, n = map(int, line.split()[1:])
    assert 0 < split < n
    assert own1 > 500 and llvm1 > 500  # a compile runs TVM's passes and LLVM's codegen
    assert own2 < own1 // 10 and llvm2 < llvm1 // 10  # the same compile again finds (almost) nothing new


ASAN_DRIVER = r"""
import random, sys
sys.path.insert(0, sys.argv[1])
from _c_covtrace import ffi, lib
data = open(sys.argv[2], "rb").read()
path = sys.argv[3]
rng = random.Random(5)
buf = ffi.new("uint64_t[]", 4096)
own = ffi.new("uint64_t *")
bad = 0
cases = [data[:n] for n in (0, 1, 16, 63, 64, 100, len(data) // 3, len(data) - 1)]
for _ in range(300):
    b = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    cases.append(bytes(b))
for c in cases:
    open(path, "wb").write(c)
    n = lib.covtrace_scan(path.encode(), buf, 4096, own)
    bad += n < 0
    lib.covtrace_scan(path.encode(), ffi.NULL, 0, own)
print("asan-ok", bad)
"""


def test_elf_scanner_under_asan_on_corrupt_files(covlib, tmp_path):
    """Truncated and corrupted ELF files: clean errors, never a read past the file (ASan+UBSan)."""
    from irtools import _build

    libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not Path(libasan).is_absolute():
        pytest.skip("libasan is not installed")
    outdir = tmp_path / "asan"
    try:
        _build.build_inplace(["covtrace"], sanitize=True, outdir=outdir)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"cannot build the ASan variant: {e}")
    env = dict(__import__("os").environ, LD_PRELOAD=libasan, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
    out = subprocess.run([sys.executable, "-c", ASAN_DRIVER, str(outdir), str(covlib), str(tmp_path / "x.so")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and "asan-ok" in out.stdout, out.stderr[-3000:]
    assert int(out.stdout.split()[-1]) >= 8  # the truncated ones at least are rejected
