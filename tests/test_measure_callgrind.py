"""Counting under valgrind/callgrind: determinism, exact native counts, JIT warm-up, failures.

Every measurement here runs a real valgrind; regions are kept small (valgrind is 26-86x slower).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import need_tool

from irtools.errors import NativeLoadError

try:
    from irtools.measure import native, runner
    native.lib_ffi()
except NativeLoadError as e:
    pytest.skip(f"counters C component not built: {e}", allow_module_level=True)

from irtools.measure import errors

TARGETS = '''
import ctypes
import subprocess
import time


def words(n):
    # dict/set layout depends on the hash seed: the pin is what keeps this count fixed
    d = {}
    for i in range(n):
        d["w" + str(i)] = i
    return len(set(d) | {"x", "y"})


def boom(n):
    print("partial output before the failure", flush=True)
    raise ValueError(f"deliberate failure {n}")


def segv():
    print("about to dereference NULL", flush=True)
    ctypes.string_at(0)


def hang():
    subprocess.Popen(["sleep", "300"])   # a grandchild that must die with the measurement
    print("spinning forever", flush=True)
    while True:
        time.sleep(0.01)
'''

LOOP_C = r'''
#include <stdint.h>
int64_t spin(int64_t n) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++) {
        s += i ^ (s >> 3);
        __asm__ volatile("" : "+r"(s));   /* keeps the loop a loop at -O1 */
    }
    return s;
}
'''


@pytest.fixture(scope="module")
def targets_dir(tmp_path_factory):
    if runner.available_backends()["callgrind"] is not None:
        pytest.skip("callgrind backend unavailable: " + runner.available_backends()["callgrind"])
    d = tmp_path_factory.mktemp("cgtargets")
    (d / "cgtargets.py").write_text(TARGETS)
    return d


@pytest.fixture
def on_path(targets_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(targets_dir))
    return targets_dir


def processes_in(cwd: Path) -> list[str]:
    """Command lines of live processes whose working directory is ``cwd``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/cwd") == str(cwd):
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_same_count_five_of_five_with_the_other_core_busy(on_path):
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        results = [runner.measure("cgtargets:words", 300, backend="callgrind", repeat=3) for _ in range(5)]
    finally:
        busy.kill()
        busy.wait()
    first = results[0]
    assert first.backend == "callgrind" and first.exact
    assert first.instructions > 10_000
    for m in results:
        assert m.raw == first.raw and m.runs == first.runs and m.baseline == first.baseline
    assert first.pins["hash_seed"] == 0 and first.pins["threads"] == 1
    assert first.result == "302"


def per_iteration_instructions(so: Path, symbol: str) -> int:
    """Instructions of the loop body in ``symbol``: from a backward branch to its target, read
    from objdump's disassembly."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(so)], capture_output=True, text=True,
                          check=True).stdout
    body = text.split(f"<{symbol}>:\n", 1)[1].split("\n\n", 1)[0]
    insns = []
    for line in body.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if m:
            insns.append((int(m.group(1), 16), m.group(2), m.group(3)))
    for addr, mnem, ops in insns:
        t = re.match(r"([0-9a-f]+) <", ops)
        if mnem.startswith("j") and t and int(t.group(1), 16) < addr:
            target = int(t.group(1), 16)
            return sum(1 for a, _, _ in insns if target <= a <= addr)
    raise AssertionError(f"no loop in {symbol}:\n{body}")


def test_c_loop_counts_exactly_its_iterations(tmp_path):
    cc = need_tool("cc")
    need_tool("objdump")
    (tmp_path / "loop.c").write_text(LOOP_C)
    so = tmp_path / "libloop.so"
    subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(so), str(tmp_path / "loop.c")], check=True)
    k = per_iteration_instructions(so, "spin")
    assert 3 <= k <= 12   # a sanity bound on the disassembly reading itself
    n1, n2 = 1000, 4000
    m1 = runner.measure_native(f"{so}:spin", n1, signature="i64(i64)", backend="callgrind", repeat=3)
    m2 = runner.measure_native(f"{so}:spin", n2, signature="i64(i64)", backend="callgrind", repeat=3)
    assert len(set(m1.runs)) == 1 and len(set(m2.runs)) == 1
    assert m2.instructions - m1.instructions == k * (n2 - n1)
    # the remainder is the loop's prologue/epilogue: a handful of instructions, no harness code
    assert 0 < m1.instructions - k * n1 < 40
    assert m1.kind == "native" and m1.result is not None


NUMBA_MOD = '''
import numpy as np
from numba import cfunc, types


@cfunc(types.float64(types.CPointer(types.float64), types.int64))
def sumsq(p, n):
    s = 0.0
    for i in range(n):
        s += p[i] * p[i]
    return s


def make(n):
    return (np.arange(n, dtype=np.float64), n)
'''


def test_numba_cfunc_count_is_stable_after_warmup(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    (tmp_path / "nbtarget.py").write_text(NUMBA_MOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    m = runner.measure_native("nbtarget:sumsq", 1000, setup="nbtarget:make", backend="callgrind", repeat=3)
    # compilation happened before the regions: the first measured call counts as the later ones
    assert m.runs[0] == m.runs[1] == m.runs[2]
    assert 1000 < m.instructions < 50_000           # ~a few per element, not a compile (millions)
    assert float(m.result) == sum(float(i) * i for i in range(1000))
    assert m.target_cpu and m.pins["target_cpu"] == m.target_cpu


def test_raising_target_reports_exception_and_output(on_path):
    with pytest.raises(errors.MeasuredCodeRaised) as ei:
        runner.measure("cgtargets:boom", 7, backend="callgrind", timeout=120)
    e = ei.value
    assert e.exc_type == "ValueError"
    assert "deliberate failure 7" in str(e)
    assert "partial output before the failure" in e.output


def test_segfaulting_target_reports_signal_and_output(on_path, tmp_path):
    with pytest.raises(errors.MeasuredCodeCrashed) as ei:
        runner.measure("cgtargets:segv", backend="callgrind", timeout=120, cwd=tmp_path)
    assert "SIGSEGV" in str(ei.value)
    assert "about to dereference NULL" in ei.value.output
    assert processes_in(tmp_path) == []


def test_hanging_target_is_killed_with_its_children(on_path, tmp_path):
    with pytest.raises(errors.MeasuredCodeTimedOut) as ei:
        runner.measure("cgtargets:hang", backend="callgrind", timeout=15, cwd=tmp_path)
    assert "15 s" in str(ei.value)
    assert "spinning forever" in ei.value.output
    assert processes_in(tmp_path) == [], "valgrind or its children survived the timeout"


def test_unimportable_reference_is_a_clear_error(on_path):
    with pytest.raises(errors.MeasuredCodeRaised, match="ModuleNotFoundError|No module named"):
        runner.measure("no_such_module_xyz:f", backend="callgrind", timeout=120)
    with pytest.raises(errors.MeasureError, match="module:function"):
        runner.measure("not-a-reference", backend="callgrind")
    with pytest.raises(errors.MeasureError, match="lambda"):
        runner.measure(lambda: 1, backend="callgrind")


def test_whole_process_count_is_exact(tmp_path):
    true = shutil.which("true")
    a = runner.measure_process([true], backend="callgrind", repeat=2)
    assert a.exact and len(set(a.runs)) == 1 and a.instructions > 1000
    script = tmp_path / "s.sh"
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        {true}
        {true}
        """))
    script.chmod(0o755)
    both = runner.measure_process([str(script)], backend="callgrind")
    assert both.instructions > 2 * a.instructions     # children are traced and summed
    with pytest.raises(errors.MeasuredCodeFailed, match="exit status 1"):
        runner.measure_process([shutil.which("false")], backend="callgrind")


LLVMLITE_MOD = r'''
import llvmlite.binding as llvm

from irtools.measure.pins import target_cpu

IR = """
define i64 @mix(i64 %n) {
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %s = phi i64 [0, %entry], [%s1, %loop]
  %sq = mul i64 %i, %i
  %x = xor i64 %sq, %s
  %s1 = add i64 %s, %x
  %i1 = add i64 %i, 1
  %c = icmp slt i64 %i1, %n
  br i1 %c, label %loop, label %exit
exit:
  %r = phi i64 [0, %entry], [%s1, %loop]
  ret i64 %r
}
"""


def build():
    # a factory: JIT-compiles in the measuring process, for the pinned CPU, outside every region
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    tm = llvm.Target.from_default_triple().create_target_machine(cpu=target_cpu(), opt=2)
    mod = llvm.parse_assembly(IR)
    mod.verify()
    ee = llvm.create_mcjit_compiler(mod, tm)
    ee.finalize_object()
    return ee.get_function_address("mix"), (ee, mod, tm)
'''


def test_llvmlite_factory_is_counted_natively(tmp_path, monkeypatch):
    pytest.importorskip("llvmlite")
    (tmp_path / "lltarget.py").write_text(LLVMLITE_MOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    m = runner.measure_native("lltarget:build", 1000, signature="i64(i64)", backend="callgrind", repeat=3)
    assert len(set(m.runs)) == 1
    s = 0
    for i in range(1000):
        s = (s + ((i * i) ^ s)) & (2**64 - 1)
    assert int(m.result) & (2**64 - 1) == s
    # the loop body is 5 IR operations: a few machine instructions per iteration, nothing more
    assert 3 * 1000 < m.instructions < 15 * 1000
    assert m.target_cpu == m.pins["target_cpu"]


TVM_MOD = r'''
import numpy as np
import tvm
from tvm.script import tirx as T

from irtools.measure.pins import target_cpu


@T.prim_func
def vadd(a: T.handle, b: T.handle, c: T.handle):
    A = T.match_buffer(a, (1024,), "float32")
    B = T.match_buffer(b, (1024,), "float32")
    C = T.match_buffer(c, (1024,), "float32")
    for i in range(1024):
        C[i] = A[i] + B[i]


_F = None
MCPU = None


def make():
    # builds once, in the measuring process, for the pinned CPU (valgrind cannot run AVX-512)
    global _F, MCPU
    if _F is None:
        MCPU = target_cpu()
        _F = tvm.compile(tvm.IRModule({"main": vadd}), target={"kind": "llvm", "mcpu": MCPU})["main"]
    dev = tvm.cpu()
    return tuple(tvm.runtime.tensor(np.full(1024, v, dtype="float32"), dev) for v in (1.0, 2.0, 0.0))


def run(a, b, c):
    _F(a, b, c)
    return MCPU
'''


@pytest.mark.tvm
def test_tvm_compiled_function_is_counted(tmp_path, monkeypatch):
    pytest.importorskip("tvm")
    (tmp_path / "tvtarget.py").write_text(TVM_MOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    m = runner.measure("tvtarget:run", setup="tvtarget:make", backend="callgrind", repeat=3, timeout=600)
    assert m.result == repr(m.target_cpu)   # the kernel was built for the pinned CPU
    # 1024 float adds (vectorised or not) plus TVM's FFI call: thousands, not a compile (billions)
    assert 300 < m.instructions < 200_000
    assert m.relative_spread < 0.05
