"""The C featuriser (csrc/llfeatures.c, the one definition) against the small Python reference of the
features LLVM has no analysis for (tests/llvm_feature_reference.py), row for row.

Every exact row (no reason bit) must equal the reference's exactly (no tolerance) in every column the
reference covers (all but ir.fp.*, which tests/test_costmodel_llvm_oracle.py checks against opt-22, and lo.*,
which tests/test_costmodel_lowering.py checks against llc-22), on
real compiler output: clang-22 (C programs), TVM (CPU LLVM IR and CUDA -> NVPTX) and a sample of the
public corpus.  The exact fraction is asserted too, so that a C side that gave up everywhere cannot pass.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import llvm_feature_reference as R
import numpy as np
import pytest
from conftest import CORPUS, asan_build, corpus_dir, need_tool

import irtools
from irtoolkit.costmodel import features as F
from irtools.errors import ParseError


def reference(data: bytes) -> dict[str, dict[str, float]]:
    """The reference rows of a module whose function names are unique (a dict by name)."""
    rows = R.llvm_module_features(irtools.parse_llvm(data))
    assert len({n for n, _ in rows}) == len(rows), "names shared: compare by position"
    return dict(rows)


def compare(data: bytes, ref: dict | None = None) -> tuple[int, int, list, Counter]:
    """(rows, exact rows, mismatches of exact rows, reasons of the others) of one module."""
    ref = ref if ref is not None else reference(data)
    names, X, exact, reasons = F.c_feature_rows(data, reasons=True)
    assert names == list(ref)
    # ir.fp.* are checked against opt-22, lo.* against llc-22 (tests/test_costmodel_lowering.py)
    cols = [c for c in F.c_columns() if not c.startswith(("ir.fp.", "lo."))]
    at = [F.c_columns().index(c) for c in cols]
    Y = F.to_matrix(list(ref.values()), cols)
    bad = []
    for i in np.nonzero(exact)[0]:
        for j in np.nonzero(X[i, at] != Y[i])[0]:
            bad.append((names[i], cols[j], float(X[i, at[j]]), float(Y[i, j])))
    why: Counter = Counter()
    labels = F.c_reason_names()
    for r in reasons[~exact]:
        why.update(lab for b, lab in enumerate(labels) if r >> b & 1)
    return len(names), int(exact.sum()), bad, why


def check_modules(texts: list[bytes], min_exact: float) -> tuple[int, int, Counter]:
    rows = exact = 0
    why: Counter = Counter()
    for data in texts:
        n, e, bad, w = compare(data)
        assert not bad, bad[:10]
        rows, exact = rows + n, exact + e
        why += w
        # and the public entry points give the C rows
        names, X, _ = F.c_feature_rows(data)
        kind, fnames, M = F.feature_matrix(data)
        assert kind == "llvm" and fnames == names
        assert np.array_equal(M[:, :X.shape[1]], X, equal_nan=True) and np.isnan(M[:, X.shape[1]:]).all()
        feats = F.module_features(data)
        assert list(feats) == names
        assert np.array_equal(F.to_matrix(list(feats.values()), F.c_columns()), X, equal_nan=True)
    assert rows > 0
    assert exact / rows >= min_exact, (exact, rows, why)
    return rows, exact, why


def test_columns_are_the_llvm_feature_names():
    assert F.c_columns() == [n for n in F.FEATURE_NAMES if not n.startswith("mlir.")]


def test_clang_corpus_rows_equal_the_reference(clang_corpus):
    rows, exact, why = check_modules([p.read_bytes() for p in clang_corpus], min_exact=0.97)
    assert rows >= 100
    print(f"clang: {exact}/{rows} rows exact; fallback {dict(why)}")


def _tvm_modules(tmp_path: Path) -> tuple[list[bytes], list[bytes]]:
    """TVM's CPU LLVM IR of a few workloads (default and MetaSchedule schedules), and NVPTX IR of CUDA
    schedules (the dataset generators')."""
    tvm = pytest.importorskip("tvm")
    from tvm import te

    from irtoolkit.costmodel.dataset import tvmcpu, tvmgen

    cpu, gpu = [], []
    for seed in range(4):
        _name, tensors, _mm = tvmgen.workload(seed)
        ex = tvm.compile(tvm.IRModule({"main": te.create_prim_func(tensors)}), target="llvm")
        cpu.append(ex.mod.inspect_source("ll").encode())
        # and MetaSchedule design-space schedules: parallel bodies, vectorised and unrolled loops
        _name, func, _specs = tvmcpu.workload(seed)
        target = tvmcpu.target_for(seed)
        mod, _knobs = tvmcpu.schedule(func, target, seed)
        cpu.append(tvm.compile(mod, target=target).mod.inspect_source("ll").encode())
    need_tool("clang-22")
    for seed in range(8):
        name, tensors, mm = tvmgen.workload(100 + seed)
        try:
            mod, _knobs = tvmgen.schedule(tensors, mm, seed)
            ex = tvm.compile(mod, target={"kind": "cuda", "arch": "sm_90"})
        except Exception:   # a schedule TVM rejects, as in the dataset build
            continue
        src = ex.mod.imports[0].inspect_source()
        gpu.append(tvmgen.cuda_to_nvptx_ll(src, tmp_path / f"k{seed}").encode())
    return cpu, gpu


@pytest.mark.timeout(600)
def test_tvm_cpu_and_nvptx_rows_equal_the_reference(tmp_path):
    cpu, gpu = _tvm_modules(tmp_path)
    assert cpu and len(gpu) >= 3
    rows, exact, why = check_modules(cpu, min_exact=0.95)
    print(f"TVM CPU: {exact}/{rows} rows exact; fallback {dict(why)}")
    rows, exact, why = check_modules(gpu, min_exact=0.95)
    print(f"TVM NVPTX: {exact}/{rows} rows exact; fallback {dict(why)}")
    # the GPU features were exercised, not just zero on both sides
    X = np.vstack([F.c_feature_rows(d)[1] for d in gpu])
    col = {n: j for j, n in enumerate(F.c_columns())}
    assert X[:, col["gpu.is_kernel"]].max() == 1
    assert X[:, col["gpu.special_reg_reads"]].max() > 0
    assert X[:, col["gpu.global_loads"]].max() > 0
    assert X[:, col["gpu.max_threads"]].min() > 0           # every kernel has its launch bounds


@pytest.mark.timeout(900)
def test_public_corpus_sample(capsys):
    root = corpus_dir("llvm")
    files = sorted(root.rglob("*.ll"))
    sample = files[::max(len(files) // 300, 1)]
    rows = exact = skipped = 0
    why: Counter = Counter()
    for path in sample:
        data = path.read_bytes()
        try:
            ref = R.llvm_module_features(irtools.parse_llvm(data))
        except Exception:   # the reference itself cannot read it (a parse error, an unsupported construct)
            skipped += 1
            continue
        if len({n for n, _ in ref}) != len(ref):   # shared names: tests below compare those
            skipped += 1
            continue
        ref = dict(ref)
        n, e, bad, w = compare(data, ref)
        assert not bad, (str(path), bad[:10])
        rows, exact, why = rows + n, exact + e, why + w
    with capsys.disabled():
        print(f"\ncorpus sample: {len(sample)} files ({skipped} the reference cannot read), {exact}/{rows} rows "
              f"exact ({100 * (rows - exact) / max(rows, 1):.1f}% with NaN: {dict(why)})")
    assert rows > 500
    assert (rows - exact) / rows <= 0.001


OLD_MEMCPY = b"""
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i32, i1)

define void @copy(ptr %a, ptr %b) {
  call void @llvm.memcpy.p0.p0.i64(ptr %a, ptr %b, i64 64, i32 1, i1 false)
  ret void
}

define i32 @caller(ptr %a, ptr %b) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %n, %loop ]
  call void @copy(ptr %a, ptr %b)
  %n = add i32 %i, 1
  %c = icmp slt i32 %n, 10
  br i1 %c, label %loop, label %done
done:
  ret i32 %n
}

define i32 @plain(i32 %x) {
  %y = mul i32 %x, 3
  ret i32 %y
}
"""


USES = b"""
define internal void @f() {
  ret void
}
define internal void @g() {
  ret void
}
@t1 = global [2 x ptr] [ptr @f, ptr @g]
@t2 = global [2 x ptr] [ptr @f,   ptr @g]
@t3 = global [2 x ptr] [ptr @g, ptr @f]
@t4 = global { ptr, i64 } { ptr @g, i64 ptrtoint (ptr @f to i64) }
@t5 = global ptr getelementptr (i8, ptr @f, i64 0)
define i64 @h() {
  call void @f()
  %x = add i64 ptrtoint (ptr @g to i64), 0
  ret i64 %x
}
"""


def test_use_counts_fold_and_dedupe_constants_like_the_reference():
    """LLVM's uniqued constants count once (@t2 is @t1 spelt otherwise); folded expressions are their global."""
    n, e, bad, why = compare(USES)
    assert (n, e, bad) == (3, 3, [])
    names, X, _exact = F.c_feature_rows(USES)
    assert list(X[:, F.c_columns().index("ir.fp.Uses")]) == [5.0, 4.0, 1.0]


def test_reader_upgrades_are_replayed_in_c():
    """An old llvm.memcpy (alignment argument) is counted as LLVM 22's reader upgrades it, in C: the row is
    exact (main recomputed it, and its caller's, in Python)."""
    names, X, exact, reasons = F.c_feature_rows(OLD_MEMCPY, reasons=True)
    assert list(exact) == [True, True, True] and not reasons.any()
    rows, exact_rows, why = check_modules([OLD_MEMCPY], min_exact=1.0)
    assert F.feature_matrix(OLD_MEMCPY)[1] == ["copy", "caller", "plain"]


def test_inputs_names_and_errors(tmp_path):
    p = tmp_path / "m.ll"
    p.write_bytes(OLD_MEMCPY)
    mod = irtools.parse_llvm(OLD_MEMCPY)
    names = ["x.max_trip", "no.such.feature", "ir.fp.Uses", "mlir.ops"]
    outs = [F.feature_matrix(x, names) for x in (OLD_MEMCPY, OLD_MEMCPY.decode(), p, str(p), mod)]
    for kind, fnames, X in outs:
        assert kind == "llvm" and fnames == ["copy", "caller", "plain"] and X.shape == (3, 4)
        assert np.array_equal(X, outs[0][2], equal_nan=True)
    X = outs[0][2]
    assert np.isnan(X[:, 1]).all() and np.isnan(X[:, 3]).all()
    assert X[1, 0] == 10.0 and list(X[:, 2]) == [2.0, 1.0, 1.0]
    # an edited module: its text no longer says what it is, so it is printed again and featurised
    mod.get_function("plain").name = "renamed"
    assert mod.edited
    kind, fnames, X2 = F.feature_matrix(mod, names)
    assert fnames == ["copy", "caller", "renamed"] and np.array_equal(X2, X, equal_nan=True)
    # views made but nothing edited: the source text itself, comments and all
    mod = irtools.parse_llvm(b"; a comment\n" + OLD_MEMCPY)
    assert [f.name for f in mod.functions] and not mod.edited and mod.to_bytes().startswith(b"; a comment")
    bad = "define void @f() {\n  ret i32 %x\n}\n"
    with pytest.raises(ParseError) as a:
        F.feature_matrix(bad)
    with pytest.raises(ParseError) as b:
        irtools.parse_llvm(bad)
    assert (a.value.line, a.value.col, a.value.message) == (b.value.line, b.value.col, b.value.message)
    mlir = "func.func @f(%a: i32) -> i32 {\n  return %a : i32\n}\n"
    kind, fnames, X = F.feature_matrix(mlir)
    assert kind == "mlir" and fnames == ["f"]
    assert np.isnan(X[0, F.FEATURE_NAMES.index("ir.fp.Uses")])


# ------------------------------------------------------------------ ASan + UBSan
_ASAN_DRIVER = textwrap.dedent(r"""
    import ctypes, random, sys
    sys.path.insert(0, sys.argv[1])
    import _c_llparse   # llfeatures lives in llparse's extension
    lib, ffi = _c_llparse.lib, _c_llparse.ffi
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def run(data):
        # an exact-size malloc block, so that ASan's redzone sits right after the last byte
        p = libc.malloc(max(len(data), 1))
        ctypes.memmove(p, data, len(data))
        r = lib.llf_run(ffi.cast("char *", p), len(data))
        off, line, col, msg = ffi.new("size_t*"), ffi.new("int*"), ffi.new("int*"), ffi.new("char**")
        failed = lib.llf_error(r, off, line, col, msg)
        rows = 0
        if not failed:
            rows = lib.llf_rows(r)
            sum(ffi.unpack(lib.llf_matrix(r), rows * lib.llf_ncolumns()))
            sum(ffi.unpack(lib.llf_info(r), rows * lib.LLF_INFO_WIDTH))
            st = ffi.new("int64_t[4]")
            lib.llf_summary(r, st)
            assert st[0] == 1 and st[1] == rows
            ffi.unpack(lib.llf_names_nul(r), st[3])
            width = lib.llf_ncolumns() + 3
            out = ffi.new("double[]", rows * width + 1)
            lib.llf_copy_matrix(r, out, width)
        lib.llf_free(r)
        libc.free(p)
        return failed, rows

    rng = random.Random(int(sys.argv[2]))
    ok = rows = mutants = 0
    for path in filter(None, sys.stdin.read().split("\n")):
        data = open(path, "rb").read()
        failed, n = run(data)
        ok += not failed
        rows += n
        for _ in range(6):
            d = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(d) + 1)
                r = rng.random()
                if r < 0.4 and d:
                    d[min(at, len(d) - 1)] ^= 1 << rng.randrange(8)
                elif r < 0.7:
                    d[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
                else:
                    del d[at:at + rng.randint(1, 20)]
            failed, n = run(bytes(d))
            mutants += not failed
    print(ok, rows, mutants)
""")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_asan_ubsan_featuriser_is_clean(tmp_path, clang_corpus):
    """Corpus files and mutants that still parse: no read out of bounds, no undefined behaviour."""
    outdir = tmp_path / "asan"
    env = asan_build(["llparse"], outdir)
    root = CORPUS / "llvm"
    files = sorted(str(p) for p in root.rglob("*.ll")) if root.is_dir() else []
    sample = files[::max(len(files) // 150, 1)] if files else []
    sample += [str(p) for p in clang_corpus]
    driver = tmp_path / "drive.py"
    driver.write_text(_ASAN_DRIVER)
    r = subprocess.run([sys.executable, str(driver), str(outdir), "20261126"], input="\n".join(sample),
                       capture_output=True, text=True, env=env, timeout=850)
    report = r.stderr[-4000:]
    assert r.returncode == 0, report
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, report
    ok, rows, mutants = map(int, r.stdout.split())
    assert ok > len(sample) // 2 and rows > 0 and mutants > 0


def test_feature_matrix_names_and_empty_modules():
    """feature_matrix's one-copy path: names with a NUL or bytes that are not UTF-8 split right,
    modules without definitions, a copy of FEATURE_NAMES."""
    text = (b'define void @"a\\00b"() {\n  ret void\n}\n'
            b'define i32 @"\\FF\\C3x"(i32 %v) {\n  %r = add i32 %v, 1\n  ret i32 %r\n}\n'
            b'define void @plain() {\n  call void @"a\\00b"()\n  ret void\n}\n')
    ref = reference(text)
    n, exact, bad, _ = compare(text, ref)
    assert n == exact == 3 and not bad
    for names in (None, list(F.FEATURE_NAMES)):
        kind, fnames, X = F.feature_matrix(text, names)
        assert kind == "llvm" and fnames == list(ref) and len(fnames) == 3
        assert np.array_equal(X[:, :len(F.c_columns())], F.c_feature_rows(text)[1])
    for empty in (b"declare void @f()\n", b""):
        kind, fnames, X = F.feature_matrix(empty)
        assert kind == "llvm" and fnames == [] and X.shape == (0, len(F.FEATURE_NAMES))


TRIPS_IR = b"""
declare i32 @llvm.smin.i32(i32, i32)

; TVM's parallel body: [task*chunk, min((task+1)*chunk, 256)), the IV compared through a trunc
define i32 @chunk(i32 %task, i32 %chunk, ptr %p) {
entry:
  %t1 = add i32 %task, 1
  %e0 = mul i32 %chunk, %t1
  %end = call i32 @llvm.smin.i32(i32 %e0, i32 256)
  %b0 = mul i32 %chunk, %task
  %s = sext i32 %b0 to i64
  br label %body
body:
  %iv = phi i64 [ %s, %entry ], [ %iv.next, %body ]
  %q = getelementptr float, ptr %p, i64 %iv
  store float 0.0, ptr %q
  %iv.next = add nsw i64 %iv, 1
  %w = trunc i64 %iv.next to i32
  %done = icmp eq i32 %end, %w
  br i1 %done, label %exit, label %body
exit:
  ret i32 0
}

; the vectoriser's n.vec = n & -4 of a bounded n
define void @vec(i32 %n, ptr %p) {
entry:
  %m = call i32 @llvm.smin.i32(i32 %n, i32 100)
  %z = zext i32 %m to i64
  %nvec = and i64 %z, 4294967292
  br label %body
body:
  %i = phi i64 [ 0, %entry ], [ %i.next, %body ]
  %q = getelementptr <4 x float>, ptr %p, i64 %i
  store <4 x float> zeroinitializer, ptr %q
  %i.next = add nuw i64 %i, 4
  %c = icmp eq i64 %i.next, %nvec
  br i1 %c, label %exit, label %body
exit:
  ret void
}

; a first-pass flag: the loop runs twice
define void @twice(ptr %p) {
entry:
  br label %body
body:
  %first = phi i1 [ true, %entry ], [ false, %body ]
  store float 1.0, ptr %p
  br i1 %first, label %body, label %exit
exit:
  ret void
}

; while (v != 1 && steps < 8): the loop stays while both hold, so steps bounds it (8 passes at most)
define i64 @collatz(i64 %v0) {
entry:
  br label %body
body:
  %steps = phi i32 [ 0, %entry ], [ %steps.next, %body ]
  %v = phi i64 [ %v0, %entry ], [ %v.next, %body ]
  %v.next = lshr i64 %v, 1
  %steps.next = add nuw nsw i32 %steps, 1
  %notone = icmp ne i64 %v.next, 1
  %few = icmp ult i32 %steps, 7
  %go = select i1 %notone, i1 %few, i1 false
  br i1 %go, label %body, label %exit
exit:
  ret i64 %v
}

; the same test as `a || b` that leaves the loop (an `or i1`)
define i64 @collatz_or(i64 %v0) {
entry:
  br label %body
body:
  %steps = phi i32 [ 0, %entry ], [ %steps.next, %body ]
  %v = phi i64 [ %v0, %entry ], [ %v.next, %body ]
  %v.next = lshr i64 %v, 1
  %steps.next = add nuw nsw i32 %steps, 1
  %isone = icmp eq i64 %v.next, 1
  %many = icmp uge i32 %steps.next, 5
  %stop = or i1 %isone, %many
  br i1 %stop, label %exit, label %body
exit:
  ret i64 %v
}

; for (ii = 0; ii < 16; ii += 8) as InstCombine leaves it: (ii & 0xFFFFFFF8) == 0, two passes
define void @masked(ptr %p) {
entry:
  br label %body
body:
  %ii = phi i64 [ 0, %entry ], [ %ii.next, %body ]
  %q = getelementptr float, ptr %p, i64 %ii
  store float 0.0, ptr %q
  %ii.next = add nuw nsw i64 %ii, 8
  %hi = and i64 %ii, 4294967288
  %first = icmp eq i64 %hi, 0
  br i1 %first, label %body, label %exit
exit:
  ret void
}
"""


def _trips_reference(ir: bytes) -> dict:
    """The reference features of the TRIPS_IR-like module ``ir``, checked equal to C's, row for row."""
    ref = reference(ir)
    n, exact, bad, _ = compare(ir, ref)
    assert exact == n == len(ref) and not bad
    return ref


def test_trip_counts_through_min_bounds_and_first_pass_flags():
    ref = _trips_reference(TRIPS_IR)
    assert len(ref) == 6
    assert (ref["chunk"]["x.max_trip"], ref["chunk"]["x.n_loops_unknown_trip"]) == (256.0, 0.0)
    assert (ref["vec"]["x.max_trip"], ref["vec"]["x.n_loops_unknown_trip"]) == (25.0, 0.0)
    assert (ref["twice"]["x.max_trip"], ref["twice"]["x.n_loops_unknown_trip"]) == (2.0, 0.0)


def test_trip_counts_of_conjunctions_and_low_masks():
    ref = _trips_reference(TRIPS_IR)
    assert len(ref) == 6
    assert (ref["collatz"]["x.max_trip"], ref["collatz"]["x.n_loops_unknown_trip"]) == (8.0, 0.0)
    assert (ref["collatz_or"]["x.max_trip"], ref["collatz_or"]["x.n_loops_unknown_trip"]) == (5.0, 0.0)
    assert (ref["masked"]["x.max_trip"], ref["masked"]["x.n_loops_unknown_trip"]) == (2.0, 0.0)


def test_flags_and_conjunctions_that_bound_nothing():
    # the flag the other way round leaves after one pass, and `a && b` that leaves the loop may go on
    # while either side fails: no trip count is claimed for either
    ir = TRIPS_IR.replace(b"phi i1 [ true, %entry ], [ false, %body ]", b"phi i1 [ false, %entry ], [ true, %body ]")
    ir = ir.replace(b"%stop = or i1 %isone, %many", b"%stop = and i1 %isone, %many")
    ref = _trips_reference(ir)
    assert len(ref) == 6
    for fn in ("twice", "collatz_or"):
        assert (ref[fn]["x.n_loops_const_trip"], ref[fn]["x.n_loops_unknown_trip"]) == (0.0, 1.0), fn


def test_a_mask_of_an_unbounded_value_is_no_trip_count():
    ir = TRIPS_IR.replace(b"%m = call i32 @llvm.smin.i32(i32 %n, i32 100)", b"%m = add i32 %n, 0")
    ref = _trips_reference(ir)
    assert ref["vec"]["x.n_loops_unknown_trip"] == 1.0 and ref["vec"]["x.max_trip"] == 0.0


MACHINE_OPS_IR = b"""
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)

define void @add16_sse(ptr %p) #0 {
entry:
  %v = load <16 x float>, ptr %p
  %s = fadd <16 x float> %v, %v
  %c = fcmp olt <16 x float> %s, %v
  store <16 x float> %s, ptr %p
  ret void
}

define void @add16_avx(ptr %p) #1 {
entry:
  %v = load <16 x float>, ptr %p
  %s = fadd <16 x float> %v, %v
  %c = fcmp olt <16 x float> %s, %v
  store <16 x float> %s, ptr %p
  ret void
}

define void @copy(ptr %a, ptr %b) #0 {
entry:
  call void @llvm.memcpy.p0.p0.i64(ptr %a, ptr %b, i64 256, i1 false)
  call void @llvm.memset.p0.i64(ptr %a, i8 0, i64 100, i1 false)
  ret void
}

attributes #0 = { "target-cpu"="x86-64" "target-features"="+sse2" }
attributes #1 = { "target-cpu"="x86-64-v3" "target-features"="+avx,+avx2,+sse2" }
"""


def test_machine_ops_legalise_vectors_to_the_native_width():
    ref = reference(MACHINE_OPS_IR)
    n, exact, bad, _ = compare(MACHINE_OPS_IR, ref)
    assert exact == n == 3 and not bad

    def ops(fn):
        return round(math.expm1(ref[fn]["x.log_est_machine_ops"]))

    # 512-bit load, fadd, compare and store: 4 ops each on SSE (128 bits), 2 on AVX; ret 1
    assert (ops("add16_sse"), ops("add16_avx")) == (17, 9)
    # memcpy of 256 bytes: 16 loads + 16 stores + the call; memset of 100 bytes: 7 stores + the call; ret
    assert ops("copy") == (1 + 32) + (1 + 7) + 1
    # the IR-level estimate does not tell them apart
    assert ref["add16_sse"]["x.log_est_dyn_insts"] == ref["add16_avx"]["x.log_est_dyn_insts"]


def test_token_bigram_of_words_sharing_a_cache_slot():
    """'false' and 'oop' take one slot of the C word cache: the bigram is still 'false oop', not 'oop oop'
    (81 corpus rows had it wrong)."""
    import zlib

    ir = b"define i1 @f() {\n  ret i1 false ; oop\n}\n"
    toks = ["define", "i1", "@f", "(", ")", "{", "ret", "i1", "false", "oop", "}"]
    want = Counter(zlib.crc32(f"{a} {b}".encode()) % 64 for a, b in zip(toks, toks[1:], strict=False))
    names, X, exact = F.c_feature_rows(ir)
    t0 = F.c_columns().index("tok.0")
    assert {k: X[0, t0 + k] for k in range(64) if X[0, t0 + k]} == want


BIG_IR = b"""
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
declare void @llvm.memcpy.p0.p0.i8(ptr, ptr, i8, i1)

; the bound is i64's largest: 2^63 - 1 - (-5) passes, a 128-bit difference rounded once
define void @wide(ptr %p) {
entry:
  br label %body
body:
  %i = phi i64 [ -5, %entry ], [ %i.next, %body ]
  store i8 0, ptr %p
  %i.next = add nsw i64 %i, 1
  %c = icmp slt i64 %i.next, 9223372036854775807
  br i1 %c, label %body, label %exit
exit:
  ret void
}

; an i8 length of -1 is 255 bytes for LLVM; an i64 one is 2^64 - 1
define void @lengths(ptr %a, ptr %b) {
  call void @llvm.memcpy.p0.p0.i8(ptr %a, ptr %b, i8 -1, i1 false)
  call void @llvm.memset.p0.i64(ptr %a, i8 0, i64 -1, i1 false)
  ret void
}

; a constant past 128 bits: the trip count and everything weighted by it are unknown, not guessed
define void @huge(ptr %p) {
entry:
  br label %body
body:
  %i = phi i256 [ 0, %entry ], [ %i.next, %body ]
  store i8 0, ptr %p
  %i.next = add i256 %i, 1
  %c = icmp ult i256 %i.next, 1000000000000000000000000000000000000000000000000000
  br i1 %c, label %body, label %exit
exit:
  call void @wide(ptr %p)
  ret void
}

define void @calls_huge(ptr %p) {
  call void @huge(ptr %p)
  ret void
}
"""


def test_integers_are_exact_to_128_bits_and_nan_past_them():
    names, X, exact, reasons = F.c_feature_rows(BIG_IR, reasons=True)
    col = {n: j for j, n in enumerate(F.c_columns())}
    labels = F.c_reason_names()
    why = [{lab for b, lab in enumerate(labels) if r >> b & 1} for r in reasons]
    assert names == ["wide", "lengths", "huge", "calls_huge"]
    assert why == [set(), set(), {"bigint"}, {"callee"}]
    assert X[0, col["x.max_trip"]] == float(2**63 - 1 + 5)
    assert math.expm1(X[1, col["x.log_memop_bytes"]]) == pytest.approx(255 + 2**64 - 1, rel=1e-13)
    assert np.isnan(X[2, col["x.max_trip"]]) and np.isnan(X[2, col["x.log_est_dyn_insts"]])
    assert X[2, col["ir.fp.BasicBlockCount"]] == 3.0 and X[2, col["x.n_calls_defined"]] == 1.0
    assert np.isnan(X[3, col["x.log_est_dyn_insts_incl"]]) and not np.isnan(X[3, col["x.log_est_dyn_insts"]])


UNNAMED_IR = b"""
define internal i32 @0(i32 %x) {
  %y = add i32 %x, 1
  ret i32 %y
}
define internal i32 @1(i32 %x) {
  %a = call i32 @0(i32 %x)
  %b = call i32 @0(i32 %a)
  ret i32 %b
}
define i32 @f(i32 %x) {
  %r = call i32 @1(i32 %x)
  ret i32 %r
}
"""


def test_functions_that_share_a_name_keep_their_own_rows():
    """Unnamed functions are all named "": each is featurised by what it is, not by its name."""
    names, X, exact = F.c_feature_rows(UNNAMED_IR)
    col = {n: j for j, n in enumerate(F.c_columns())}
    assert names == ["", "", "f"] and exact.all()
    assert list(X[:, col["ir.fp.Uses"]]) == [2.0, 1.0, 1.0]       # LLVM's getNumUses, one function each
    assert list(X[:, col["ir.op.call"]]) == [0.0, 2.0, 1.0]
    kind, fnames, M = F.feature_matrix(UNNAMED_IR)
    assert fnames == names and np.array_equal(M[:, :len(col)], X)
    assert list(F.module_features(UNNAMED_IR)) == ["", "f"]   # a dict keeps the last of a name
