"""The fuzzer against the real TVM wheel: mutators, crash isolation, reducer, campaign + resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.tvm
tvm = pytest.importorskip("tvm")

ROOT = Path(__file__).resolve().parent.parent

# Found by a campaign (seed 7): the default lowering order leaves a use of the loop variable ax0
# after an extent-1 loop carrying a pragma annotation is removed; the well-formedness verifier rejects it.
ILLFORMED_CASE = '''# from tvm.script import tirx as T
# from tvm.tirx.layout import Axis

@T.prim_func(s_tir=True)
def main(X: T.Buffer((1, 3, 9, 9), "float32"), pool_avg: T.Buffer((1, 3, 3, 3), "float32")):
    T.func_attr({"tirx.noalias": True})
    # with T.sblock("root"):
    pool_sum = T.sblock_alloc_buffer((1, 3, 3, 3))
    for ax0 in T.serial(1, annotations={"pragma_loop_partition_hint": 1}):
        for ax1, ax2, ax3, rv0, rv1 in T.grid(3, 3, 3, 3, 3):
            with T.sblock("pool_sum"):
                v_ax0, v_ax1, v_ax2, v_ax3, v_rv0, v_rv1 = T.axis.remap("SSSSRR", [ax0, ax1, ax2, ax3, rv0, rv1])
                T.reads(X[v_ax0, v_ax1, v_ax2 * 3 + v_rv0, v_ax3 * 3 + v_rv1])
                T.writes(pool_sum[v_ax0, v_ax1, v_ax2, v_ax3])
                with T.init():
                    for fz8187 in T.serial(3, annotations={"pragma_auto_unroll_max_step": 16}):
                        pool_sum[v_ax0, v_ax1, v_ax2, v_ax3] = T.float32(0.0)
                pool_sum[v_ax0, v_ax1, v_ax2, v_ax3] = pool_sum[v_ax0, v_ax1, v_ax2, v_ax3] + X[v_ax0, v_ax1, v_ax2 * 3, v_ax3 * 3 + v_rv1]
'''


@pytest.fixture(scope="module")
def seeds():
    from irtoolkit.fuzz.tvm.seeds import build_seeds

    return build_seeds()


def test_seeds_round_trip(seeds):
    assert len(seeds) >= 15
    for s in seeds:
        f = tvm.script.from_source(s.script)
        assert tvm.script.from_source(f.script()).script() == f.script()


def test_ir_mutations_print_and_parse_back(seeds):
    from irtoolkit.fuzz.mutate.ir import mutate, parse

    changed = 0
    for k, s in enumerate(seeds):
        text, applied = mutate(s.script, seed=1000 + k, n=2)
        parse(text)  # always parses back (or mutate kept the input)
        changed += text != s.script
        assert mutate(s.script, seed=1000 + k, n=2) == (text, applied)  # reproducible from the seed
    assert changed >= len(seeds) - 2


def test_retype_and_symbolic_rewrite_the_whole_function(seeds):
    """retype changes one scalar type everywhere, symbolic one extent everywhere (a shape known at run
    time); both give programs TVM's own default pipeline compiles."""
    import random

    from irtoolkit.fuzz.mutate.ir import parse, retype, symbolic

    mm = parse(next(s for s in seeds if s.name == "matmul_16").script)
    for k in range(6):
        f = retype(mm, random.Random(k))
        dtypes = {str(b.dtype) for b in f.params}
        assert len(dtypes) == 1 and dtypes != {"float32"}
        if dtypes <= {"float16", "float64"}:
            tvm.compile(f, target="llvm")
    f = symbolic(mm, random.Random(0))
    shapes = [b.shape for b in f.params]
    assert all(not isinstance(d, tvm.tirx.IntImm) for shp in shapes for d in shp)   # 16 was every extent
    assert len({str(d) for shp in shapes for d in shp}) == 1
    lib = tvm.compile(f, target="llvm")
    import numpy as np

    a, b = np.random.rand(5, 5).astype("float32"), np.random.rand(5, 5).astype("float32")
    c = tvm.runtime.tensor(np.zeros((5, 5), "float32"))
    lib(tvm.runtime.tensor(a), tvm.runtime.tensor(b), c)          # the shape is the caller's now
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-5)


def test_tuned_takes_a_point_of_metaschedules_design_space(seeds):
    """tuned: MetaSchedule's own rules and post-processors schedule the case, for this CPU (parallel /
    vectorize annotations rewritten into loops) or for CUDA (threads bound); TVM compiles both."""
    import random

    from irtoolkit.fuzz.mutate.ir import parse, tuned
    from irtoolkit.fuzz.tvm import replay as R

    funcs = [parse(s.script) for s in seeds if s.name in ("matmul_16", "softmax_4x16", "add_relu_64")]
    kinds = set()
    for k in range(18):
        f = tuned(funcs[k % 3], random.Random(k))
        if f is None:
            continue
        target = R.case_target(f)
        kinds.add(target.kind.name)
        text = f.script()
        if target.kind.name == "cuda":
            assert "threadIdx.x" in text
        else:
            assert "T.parallel" in text or "T.vectorized" in text or "T.unroll" in text
        tvm.compile(parse(text), target=target)
    assert kinds == {"llvm", "cuda"}


def test_schedule_primitives_reshape_loops_and_print_back(seeds):
    import random

    from irtoolkit.fuzz.mutate.ir import parse
    from irtoolkit.fuzz.mutate.schedule import schedule_step

    applied = 0
    for k in range(40):
        s = seeds[k % len(seeds)]
        out = schedule_step(parse(s.script), random.Random(k))
        if out is not None:
            applied += 1
            parse(out.script())
    assert applied >= 10


@pytest.fixture(scope="module")
def pool():
    from irtoolkit.fuzz.worker import WorkerPool

    p = WorkerPool(1, bitmap=None, coverage=False)
    yield p
    p.close()


def _req(seed, **kw):
    from irtoolkit.fuzz.tvm import passes as P

    r = {"id": 1, "text": seed.script, "passes": P.to_json(P.default_pipeline()), "seed": 5,
         "seed_name": seed.name, "ir_mutations": 0, "timeout": 60}
    r.update(kw)
    return r


def test_crashing_child_never_takes_the_server_down(pool, seeds):
    from irtoolkit.fuzz.oracles import classify

    pool.submit(0, _req(seeds[0], inject_signal=int(signal.SIGSEGV)))
    (_, rep), = pool.collect(timeout=120)
    assert rep["exit"] == {"kind": "signal", "signal": int(signal.SIGSEGV), "name": "SIGSEGV"}
    assert classify(rep).kind == "signal-sigsegv"
    pool.submit(0, _req(seeds[0]))  # the same server goes on
    (_, rep), = pool.collect(timeout=120)
    assert rep["exit"] == {"kind": "exit", "code": 0}
    assert rep["result"]["status"] == "ok"
    # a persistent child that dies after serving other cases: the case is run again, alone
    pool.submit(0, _req(seeds[0], inject_signal=int(signal.SIGABRT)))
    (_, rep), = pool.collect(timeout=120)
    assert rep["rerun_of"]["name"] == "SIGABRT" and rep["prior_cases"] == 0
    assert classify(rep).kind == "signal-sigabrt"


def test_a_slow_case_is_run_again_with_more_time_before_it_counts_as_a_hang(pool, seeds):
    from irtoolkit.fuzz.oracles import classify
    from irtoolkit.fuzz.protocol import HANG_CONFIRM

    # 4 s in the first pass: past a 3-s timeout, within 3 x 3 s
    pool.submit(0, _req(seeds[0], timeout=3, inject_sleep=4))
    (_, rep), = pool.collect(timeout=120)
    assert rep["exit"] == {"kind": "exit", "code": 0} and rep["result"]["status"] == "ok"
    assert rep["rerun_of"] == {"kind": "hang", "timeout": 3}
    assert classify(rep) is None
    # one that does not return within the longer time either is a hang, of that time
    pool.submit(0, _req(seeds[0], timeout=1, inject_sleep=60))
    (_, rep), = pool.collect(timeout=120)
    assert rep["exit"] == {"kind": "hang", "timeout": HANG_CONFIRM} and classify(rep).kind == "hang"


def test_real_tvm_segfault_is_isolated_and_classified(pool, seeds):
    """NarrowDataType on block-form TIR segfaults inside TVM 0.27 (found by a campaign)."""
    from irtoolkit.fuzz.oracles import classify
    from irtoolkit.fuzz.tvm import passes as P

    pool.submit(0, _req(seeds[1], passes=P.to_json([P.call("tirx.NarrowDataType", target_bits=32)])))
    (_, rep), = pool.collect(timeout=120)
    assert rep["exit"]["kind"] == "signal" and rep["exit"]["name"] == "SIGSEGV"
    assert rep["stage"].startswith("pass:0:tirx.NarrowDataType")
    assert "tvm::" in rep["stderr"]  # TVM's own backtrace of the crash is kept
    v = classify(rep, P.to_json([P.call("tirx.NarrowDataType", target_bits=32)]))
    assert v.kind == "signal-sigsegv" and "NarrowDataType" in v.message
    # against its docstring ("Run this pass after FlattenBuffer"): a robustness report, not a bug
    assert v.triage.cls == "robustness"
    pool.submit(0, _req(seeds[1]))
    (_, rep), = pool.collect(timeout=120)
    assert rep["result"]["status"] == "ok"


def test_a_signal_on_an_input_the_fuzzer_made_is_triaged_by_what_the_child_sent_first(pool):
    """A child that dies returns no result; what it found in the input before the passes ran (here a
    CPU-parallel loop in a CUDA function, which no TVM schedule writes) came ahead of it, so the
    signal is a robustness report with that reason, not a bug."""
    from tvm.script import tirx as T

    from irtoolkit.fuzz.oracles import classify
    from irtoolkit.fuzz.tvm import passes as P

    @T.prim_func
    def par(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
        T.func_attr({"tirx.noalias": True, "target": T.target({"kind": "cuda", "arch": "sm_80", "host": "llvm"})})
        for i in T.parallel(64):
            B[i] = A[i] * T.float32(2)

    passes = P.to_json(P.default_pipeline())
    req = {"id": 1, "text": par.script(), "passes": passes, "seed": 5, "seed_name": "", "ir_mutations": 0,
           "timeout": 60, "inject_signal": int(signal.SIGSEGV)}
    pool.submit(0, req)
    (_, rep), = pool.collect(timeout=120)
    assert rep["exit"]["kind"] == "signal" and rep["result"] is None
    assert any("parallel loop" in a for a in rep["facts"]["artefacts"])
    v = classify(rep, passes)
    assert v.kind == "signal-sigsegv" and v.triage.cls == "robustness"
    assert "parallel loop" in v.triage.reasons[0]
    no_facts = {k: x for k, x in rep.items() if k != "facts"}   # what the server replied before
    assert classify(no_facts, passes).triage.cls == "bug"


def test_numpy_differential_on_seeds(pool, seeds):
    for s in seeds[:4]:
        pool.submit(0, _req(s))
        (_, rep), = pool.collect(timeout=120)
        assert rep["result"]["status"] == "ok", rep


def test_reducer_keeps_the_signature(tmp_path, pool):
    from test_fuzz_triage import cast_case

    from irtoolkit.fuzz import findings as F
    from irtoolkit.fuzz.oracles import classify
    from irtoolkit.fuzz.reduce import reduce_finding
    from irtoolkit.fuzz.tvm import passes as P

    # a real bug (StmtSimplify folds an out-of-range cast into an IntImm that fails its own check),
    # on a lowering order padded with passes that play no part in it
    core = ["s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.StmtSimplify", "s_tir.LowerOpaqueBlock",
            "tirx.FlattenBuffer", "tirx.SplitHostDevice", "tirx.MakePackedAPI"]
    pad = ["s_tir.CanonicalizeLoop", "tirx.AnnotateEntryFunc", "s_tir.LowerMatchBuffer", "tirx.ConvertSSA",
           "s_tir.InjectVirtualThread", "tirx.RemoveAssume", "s_tir.RemoveStoreUndef"]
    lst = [P.call(n) for pair in zip(pad, core, strict=True) for n in pair]
    text = cast_case("int8", 255)
    req = {"id": 1, "text": text, "passes": P.to_json(lst), "seed": 5,
           "seed_name": "cast", "ir_mutations": 0, "ir_mutated": True, "timeout": 60}
    pool.submit(0, req)
    (_, rep), = pool.collect(timeout=120)
    v = classify(rep, req["passes"])
    assert v is not None and v.kind == "internal-error" and v.triage.cls == "bug"
    path, new = F.write_finding(F.folder_for(tmp_path, v), v, case=text, passes=req["passes"], seed=5,
                                seed_name="cast", reply=rep, default_passes=P.to_json(P.default_pipeline()))
    assert new
    msg = reduce_finding(path, pool=pool, budget_s=200)
    small = json.loads((path / "passes.json").read_text())
    assert small == [["s_tir.StmtSimplify", {}]], msg
    pool.submit(0, {**req, "text": (path / "case.tir").read_text(), "passes": small})
    (_, rep2), = pool.collect(timeout=120)
    assert F.signature(classify(rep2, small)) == path.name
    # and the standalone reproducer (regenerated from the reduced case) fails the same way
    src = (path / "reproducer.py").read_text()
    assert "PASSES = [['s_tir.StmtSimplify', {}]]" in src
    out = subprocess.run([sys.executable, str(path / "reproducer.py")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Check failed" in out.stderr


def _findings(d: Path) -> dict[str, Path]:
    """Every verdict folder of a campaign: bugs (findings/) and the triaged rest (triaged/<class>/)."""
    roots = [d / "findings", *sorted((d / "triaged").glob("*"))]
    return {f"{r.name}/{p.name}": p for r in roots if r.is_dir() for p in r.iterdir()
            if p.is_dir() and not p.name.startswith(".")}


@pytest.mark.slow
def test_sigkill_then_resume_loses_nothing(tmp_path):
    out = tmp_path / "camp"
    cmd = [sys.executable, "-m", "irtools", "fuzz", "--out", str(out), "--workers", "1", "--seed", "7",
           "--quiet", "--reduce-time", "0", "--no-coverage"]
    p = subprocess.Popen(cmd + ["--time", "300s"], cwd=ROOT, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 150
    while time.time() < deadline and not _findings(out):
        time.sleep(1)
    time.sleep(2)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    before = _findings(out)
    stats_before = json.loads((out / "stats.json").read_text())
    corpus_before = {x.name for x in (out / "corpus").iterdir()}
    for folder in before.values():  # every finding on disk is complete
        assert {"case.tir", "passes.json", "meta.json", "reproducer.py", "report.md", "log.txt"} <= \
            {f.name for f in folder.iterdir()}
    refused = subprocess.run(cmd + ["--time", "5s"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = subprocess.run(cmd + ["--time", "15s", "--resume"], cwd=ROOT, capture_output=True, text=True,
                             timeout=200)
    after = _findings(out)
    assert set(before) <= set(after)
    # as libFuzzer: exit 1 when the run found something new, 0 when not; a summary names the report
    # (new bugs only: a new misuse or fuzzer-artefact verdict under triaged/ is no finding)
    new_bugs = {k for k in set(after) - set(before) if k.startswith("findings/")}
    assert resumed.returncode == (1 if new_bugs else 0), resumed.stderr[-2000:]
    assert f"irtools fuzz report {out}" in resumed.stdout
    assert corpus_before <= {x.name for x in (out / "corpus").iterdir()}
    assert json.loads((out / "stats.json").read_text())["execs"] > stats_before["execs"]
    assert len(before) >= 1, "the campaign found nothing before the kill"


REDUCTION = '''
@T.prim_func(s_tir=True)
def main(X: T.Buffer((10, 6), "float32"), Y: T.Buffer((6,), "float32")):
    for ax0 in range(6):
        for k0 in KIND(10):
            with T.sblock("Y"):
                v0, vk = T.axis.remap("SR", [ax0, k0])
                with T.init():
                    Y[v0] = T.float32(0)
                Y[v0] = Y[v0] + X[vk, v0]
'''


def test_racy_programs_are_kept_out_of_the_differential(seeds):
    from irtoolkit.fuzz.tvm.execute import racy

    assert not any(racy(tvm.script.from_source(s.script)) for s in seeds)
    assert not racy(tvm.script.from_source(REDUCTION.replace("KIND", "T.serial")))
    assert racy(tvm.script.from_source(REDUCTION.replace("KIND", "T.vectorized")))
    assert racy(tvm.script.from_source(REDUCTION.replace("KIND", "T.parallel")))


@pytest.mark.slow
def test_live_status_line_is_on_stderr_and_stdout_holds_the_summary(tmp_path):
    import pty
    import re
    import threading

    master, slave = pty.openpty()   # stderr a terminal: the live line is drawn
    p = subprocess.Popen([sys.executable, "-m", "irtools", "fuzz", "--out", str(tmp_path / "c"), "--workers", "1",
                          "--seed", "2", "--runs", "12", "--time", "200s", "--reduce-time", "0", "--no-coverage"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, text=True,
                         env={**os.environ, "COLUMNS": "250"})   # rich crops the line to the width
    os.close(slave)
    tty = bytearray()

    def drain():
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:   # EIO: the other end is closed
                return
            if not chunk:
                return
            tty.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = p.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    status = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tty.decode(errors="replace"))   # rich's colours
    assert re.search(r"findings \d+ \(crashes \d+\)  hits \d+", status), status[-2000:]
    assert out.startswith("irtools fuzz: done") and "cov tvm" not in out and "(crashes" not in out
