"""Bad input: truncations, byte flips and edits of real MLIR never crash or hang the parser.

Every outcome is either a parsed module or a ParseError with a place (line and column >= 1).  A
parsed module prints to text that parses again to the same print (a fixed point).  The ASan+UBSan
build of the C parser runs over a corpus sample and its mutants in a child process; any sanitizer
report fails the test.
"""

from __future__ import annotations

import functools
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irtools import ParseError, parse_mlir
from irtools.ir.mlir.printer import print_generic

SEEDS = [
    b'"builtin.module"() ({\n  %0:2 = "t.a"() {x = [1, "s", @f::@g, dense<1> : tensor<2xi8>]} : () -> (i32, f32)\n'
    b'  "t.b"(%0#1)[^bb1] <{p = array<i32: 1>}> : (f32) -> () loc("f":1:2)\n'
    b'^bb1(%a: i32 loc(unknown)):\n  "t.c"(%a) ({\n  ^bb0(%b: !t.x<"<">):\n  }) : (i32) -> ()\n}) : () -> ()\n',
    b"#map = affine_map<(d0)[s0] -> (d0 + s0)>\nmodule {\n  func.func @f(%a: memref<?xf32>) -> f32 {\n"
    b"    %c0 = arith.constant 0 : index\n    %v = memref.load %a[%c0] : memref<?xf32>\n"
    b"    affine.for %i = 0 to 10 {\n      %w = affine.apply #map(%i)[%c0]\n    }\n    return %v : f32\n  }\n}\n"
    b'{-#\n  dialect_resources: {\n    builtin: {\n      b: "0x0400000001000000"\n    }\n  }\n#-}\n',
    b"!t = !llvm.struct<(i32, ptr)>\nllvm.func @g(%p: !llvm.ptr) -> i32 {\n  %0 = llvm.load %p : !llvm.ptr -> i32\n"
    b"  llvm.cond_br %1, ^bb1, ^bb2(%0 : i32)\n^bb1:\n  llvm.return %0 : i32\n^bb2(%x: i32):\n  llvm.return %x : i32\n}\n",
]


@functools.cache
def _corpus_sample(n: int, seed: int = 7) -> list[bytes]:
    root = CORPUS / "mlir"
    if not root.is_dir():
        return []
    files = sorted(root.rglob("*.mlir"))
    rng = random.Random(seed)
    return [p.read_bytes()[:20000] for p in rng.sample(files, min(n, len(files)))]


def _check(data: bytes) -> None:
    try:
        tops = parse_mlir(data, split_input_file=True)
    except ParseError as e:
        assert e.line >= 1 and e.col >= 1 and e.message
        return
    for top in tops:
        for _ in top.walk():
            pass
        once = print_generic(top)
        again = parse_mlir(once)
        assert print_generic(again) == once


def _mutate(data: bytes, ops: list) -> bytes:
    buf = bytearray(data)
    for kind, pos, val in ops:
        if not buf:
            break
        i = pos % len(buf)
        if kind == 0:      # flip a byte
            buf[i] = val
        elif kind == 1:    # delete a run
            del buf[i:i + 1 + val % 8]
        elif kind == 2:    # insert a delimiter
            buf[i:i] = b"{}()[]<>%^#!@\":=,\n"[val % 18:val % 18 + 1]
        else:              # truncate
            del buf[i:]
    return bytes(buf)


_OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), _OPS)
@pytest.mark.timeout(300)
def test_mutated_builtin_inputs(seed, ops):
    _check(_mutate(seed, ops))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@pytest.mark.timeout(300)
def test_mutated_corpus_inputs(data):
    sample = _corpus_sample(40)
    if not sample:
        pytest.skip("public corpus not found")
    src = data.draw(st.sampled_from(sample))
    _check(_mutate(src, data.draw(_OPS)))


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes(data):
    _check(data)


def test_truncations_of_every_prefix():
    for seed in SEEDS:
        for k in range(0, len(seed), 3):
            _check(seed[:k])


_ASAN_DRIVER = textwrap.dedent("""
    import json, random, sys
    sys.path.insert(0, sys.argv[1])
    from _c_mlirparse import ffi, lib
    inputs = [bytes.fromhex(h) for h in json.load(open(sys.argv[2]))]
    rng = random.Random(3)
    def run(data):
        buf = ffi.new("char[]", len(data) or 1)   # exact size (no NUL): a read past the end is an overflow
        ffi.memmove(buf, data, len(data))
        r = lib.mlp_parse(buf, 0, len(data))
        rows = ffi.new("const int32_t **"); w = ffi.new("int *")
        for t in range(lib.MLP_NTABLES):
            lib.mlp_table(r, t, rows, w)
        lib.mlp_free(r)
    n = 0
    for data in inputs:
        run(data); n += 1
        for _ in range(20):
            b = bytearray(data)
            if not b: break
            i = rng.randrange(len(b))
            k = rng.randrange(3)
            if k == 0: b[i] = rng.randrange(256)
            elif k == 1: del b[i:]
            else: b[i:i] = bytes([rng.choice(b'{}()[]<>%^#!@":=,')])
            run(bytes(b)); n += 1
    print("ran", n)
""")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_asan_ubsan_build_over_corpus_and_mutants(tmp_path):
    from irtools._build import build_inplace

    try:
        gcc_asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True,
                                  check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("gcc is not installed")
    if not os.path.isabs(gcc_asan):
        pytest.skip("libasan is not installed")
    outdir = tmp_path / "asan"
    build_inplace(["mlirparse"], sanitize=True, outdir=outdir)
    inputs = SEEDS + _corpus_sample(60, seed=11)
    (tmp_path / "in.json").write_text(json.dumps([d.hex() for d in inputs]))
    (tmp_path / "drive.py").write_text(_ASAN_DRIVER)
    env = dict(os.environ, LD_PRELOAD=gcc_asan, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    r = subprocess.run([sys.executable, str(tmp_path / "drive.py"), str(outdir), str(tmp_path / "in.json")],
                       capture_output=True, text=True, env=env, timeout=580, cwd=Path(tmp_path))
    report = r.stdout + r.stderr
    assert "AddressSanitizer" not in report and "runtime error" not in report, report[-4000:]
    assert r.returncode == 0, report[-4000:]
    assert "ran " in r.stdout
