"""Robustness of the LLVM IR parser: mutated input never crashes or hangs it, errors have places,
printing is a fixed point; the ASan+UBSan build runs clean over corpus files and mutants."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import CORPUS, asan_build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_llvm_parser import KITCHEN_SINK
from test_llvm_printer import SMALL

from irtools import ParseError, parse_llvm

BUILTIN = [KITCHEN_SINK.encode(), SMALL.encode(),
           b'@s = global [3 x i8] c"a\\00b"\n!0 = !{!"x", i32 1}\n',
           b"define <2 x i64> @v(<2 x i64> %a) {\n  %s = shufflevector <2 x i64> %a, <2 x i64> poison,"
           b" <2 x i32> zeroinitializer\n  ret <2 x i64> %s\n}\n"]


def _corpus_seeds(n: int = 60, limit: int = 12000) -> list[bytes]:
    root = CORPUS / "llvm"
    if not root.is_dir():
        return []
    files = sorted(p for p in root.rglob("*.ll") if p.stat().st_size <= limit)
    step = max(len(files) // n, 1)
    return [p.read_bytes() for p in files[::step][:n]]


SEEDS = BUILTIN + _corpus_seeds()


def big_module(functions: int = 400, chain: int = 100) -> bytes:
    """Enough instructions (40k) that the parser's INSTS table passes 2 MB and lives in a mapping
    of its own (see grow_slow in csrc/llparse.c), with calls between functions for the refs."""
    out = []
    for k in range(functions):
        body = [f"  %v0 = add nsw i32 %a, {k}"]
        body += [f"  %v{i} = mul i32 %v{i - 1}, {i % 7 + 1}" for i in range(1, chain)]
        call = f"  %r = call i32 @f{k - 1}(i32 %v{chain - 1})\n" if k else ""
        out.append(f"define i32 @f{k}(i32 %a) {{\n" + "\n".join(body) + f"\n{call}"
                   f"  ret i32 %v{chain - 1}\n}}\n")
    return "".join(out).encode()


@st.composite
def mutants(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "splice"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
                [b"(", b")", b"{", b"}", b"[", b"<", b'"', b"%", b"@", b"!", b",", b"\n", b" x ", b" i32 ", b"0x",
                 b"#dbg_value(", b"!{", b"c\"", b"..."]))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:  # copy a piece of the text elsewhere, the way real edits go wrong
            ln = draw(st.integers(1, 40))
            piece = data[at:at + ln]
            to = draw(st.integers(0, len(data)))
            data[to:to] = piece
    return bytes(data)


def _check(data: bytes):
    try:
        m = parse_llvm(data)
    except ParseError as e:
        assert e.line >= 1 and e.col >= 1, e
        assert e.line <= data.count(b"\n") + 1 and e.offset <= len(data)
        assert e.message
        return
    seen = [m.named_types]   # every view of a module that parsed is usable
    for f in m.functions:
        seen += [str(f.type), f.attributes, f.linkage]
        for b in f.blocks:
            seen += [b.successors, b.predecessors]
            for i in b.instructions:
                seen += [i.opcode, i.type, i.operands, i.flags, i.metadata, i.name]
    seen += [(g.initializer, g.value_type) for g in m.globals]
    once = str(m)
    again = parse_llvm(once)
    assert str(again) == once


@pytest.mark.timeout(600)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutants())
def test_mutants_parse_or_fail_with_a_place(data):
    _check(data)


@pytest.mark.timeout(300)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data):
    _check(data)


@pytest.mark.parametrize("k", range(0, 200, 7))
def test_every_truncation_of_the_small_module(k):
    data = SMALL.encode()
    for cut in range(k, len(data), 200):
        _check(data[:cut])


def test_deep_nesting_is_an_error_not_a_crash():
    for text in ("@g = global " + "[1 x " * 100000 + "i8" + "]" * 100000 + " zeroinitializer\n",
                 "!0 = " + "!{" * 100000 + "}" * 100000 + "\n",
                 "@g = global { i32 } " + "{ " * 100000):
        with pytest.raises(ParseError) as ei:
            parse_llvm(text)
        assert ei.value.line == 1


def _table_digest(lib, ffi, data: bytes) -> str:
    import hashlib
    m = lib.llp_parse(data, len(data))
    try:
        assert not lib.llp_error(m, ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL)
        h = hashlib.sha256()
        rows, width = ffi.new("int32_t **"), ffi.new("int *")
        for k in range(lib.LLP_NTABLES):
            n = lib.llp_table(m, k, rows, width)
            h.update(n.to_bytes(4, "little"))
            if n:
                h.update(ffi.buffer(rows[0], 4 * n * width[0]))
        return h.hexdigest()
    finally:
        lib.llp_free(m)


_DIGEST_ONE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from test_llvm_fuzz import _table_digest
    from irtools._native import load
    lib, ffi = load("llparse")
    print(_table_digest(lib, ffi, sys.stdin.buffer.read()))
""")


def test_parallel_parses_of_large_modules_agree(tmp_path):
    """cffi lets go of the GIL in llp_parse, so threads parse at once and share the parser's pool
    of freed table mappings; every parse must give the tables that the first parse in a fresh
    process gives (no pool there), whatever module's tables the reused regions held before."""
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from irtools._native import load
    lib, ffi = load("llparse")
    inputs = [big_module(), big_module(300, 140), big_module(150, 300), KITCHEN_SINK.encode()]
    want = [subprocess.run([sys.executable, "-c", _DIGEST_ONE, str(Path(__file__).parent)], input=d,
                           capture_output=True, check=True).stdout.decode().strip() for d in inputs]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda k: (k % 4, _table_digest(lib, ffi, inputs[k % 4])), range(32)))
    assert [want[i] for i, _ in got] == [h for _, h in got]
    lib.llp_trim()   # the pool given back: the next parse maps afresh
    assert _table_digest(lib, ffi, inputs[2]) == want[2]
    mod = parse_llvm(inputs[0])
    insts = [i for f in mod.functions for b in f.blocks for i in b.instructions]
    assert len(mod.functions) == 400 and len(insts) == 400 * 101 + 399
    assert [f.name for f in mod.functions[:3]] == ["f0", "f1", "f2"]
    assert insts[0].opcode == "add" and insts[-1].opcode == "ret"


# ------------------------------------------------------------------ ASan + UBSan
_ASAN_DRIVER = textwrap.dedent(r"""
    import ctypes, random, sys
    sys.path.insert(0, sys.argv[1])
    import _c_llparse
    lib, ffi = _c_llparse.lib, _c_llparse.ffi
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def run(data):
        # an exact-size malloc block, so that ASan's redzone sits right after the last byte
        p = libc.malloc(max(len(data), 1))
        ctypes.memmove(p, data, len(data))
        m = lib.llp_parse(ffi.cast("char *", p), len(data))
        off, line, col, msg = ffi.new("size_t*"), ffi.new("int*"), ffi.new("int*"), ffi.new("char**")
        failed = lib.llp_error(m, off, line, col, msg)
        if not failed:
            rows, width = ffi.new("int32_t **"), ffi.new("int *")
            for k in range(lib.LLP_NTABLES):
                n = lib.llp_table(m, k, rows, width)
                if n:
                    sum(ffi.unpack(rows[0], n * width[0]))
        lib.llp_free(m)
        libc.free(p)
        return failed

    rng = random.Random(int(sys.argv[2]))
    files = sys.stdin.read().split("\n")
    ok = bad = 0
    for path in filter(None, files):
        data = open(path, "rb").read()
        if run(data):
            raise SystemExit(f"corpus file does not parse: {path}")
        ok += 1
        for _ in range(8):
            d = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(d) + 1)
                r = rng.random()
                if r < 0.3:
                    del d[at:]
                elif r < 0.6 and d:
                    d[min(at, len(d) - 1)] ^= 1 << rng.randrange(8)
                elif r < 0.8:
                    d[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
                else:
                    del d[at:at + rng.randint(1, 20)]
            bad += run(bytes(d))
    print(ok, bad)
""")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_asan_ubsan_build_is_clean(tmp_path):
    outdir = tmp_path / "asan"
    env = asan_build(["llparse"], outdir)
    root = CORPUS / "llvm"
    files = sorted(str(p) for p in root.rglob("*.ll")) if root.is_dir() else []
    sample = files[::max(len(files) // 250, 1)] if files else []
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    for k, data in enumerate(BUILTIN + [big_module()]):   # the last: tables in mappings, reused
        (builtin / f"{k}.ll").write_bytes(data)
        sample.append(str(builtin / f"{k}.ll"))
    driver = tmp_path / "drive.py"
    driver.write_text(_ASAN_DRIVER)
    r = subprocess.run([sys.executable, str(driver), str(outdir), "20261125"], input="\n".join(sample),
                       capture_output=True, text=True, env=env, timeout=850)
    report = r.stderr[-4000:]
    assert r.returncode == 0, report
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, report
    parsed, failed = map(int, r.stdout.split())
    assert parsed == len(sample) and failed > 0
