"""Fuzzer pieces without TVM: pass catalogue, pre-condition model, pass-list mutators, oracles."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irtoolkit.fuzz.findings import signature
from irtoolkit.fuzz.mutate import passes as PM
from irtoolkit.fuzz.oracles import Verdict, classify, normalise
from irtoolkit.fuzz.tvm import passes as P


def test_default_pipeline_meets_every_precondition():
    lst = P.default_pipeline()
    viol, facts = P.check(lst)
    assert viol == []
    assert P.codegen_ready(lst)
    assert all(P.in_catalogue(pc) for pc in lst)


def test_model_flags_out_of_order_passes():
    lst = [P.call("tirx.FlattenBuffer"), P.call("s_tir.LowerInitBlock")]
    viol, _ = P.check(lst)
    assert [v.name for v in viol] == ["tirx.FlattenBuffer"]
    assert "no_blocks" in viol[0].missing
    twice = [*P.default_pipeline(), P.call("tirx.MakePackedAPI")]
    assert P.check(twice)[0][-1].forbidden == ("packed",)


def test_json_round_trip_and_rejection():
    lst = P.default_pipeline()
    assert P.from_json(P.to_json(lst)) == lst
    with pytest.raises(ValueError, match="unknown pass"):
        P.from_json([["tirx.NoSuchPass", {}]])


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_pass_list_mutations_stay_in_the_catalogue(seed, n):
    rng = random.Random(seed)
    other = [PM.random_call(rng) for _ in range(rng.randint(0, 10))]
    out, names = PM.mutate(P.default_pipeline(), rng, other=other, n=n)
    assert all(P.in_catalogue(pc) for pc in out)
    assert len(names) == n
    assert set(names) <= set(PM.MUTATORS)


def test_mutators_respect_preconditions_most_of_the_time():
    rng = random.Random(1)
    valid = sum(not P.check(PM.mutate(P.default_pipeline(), rng, respect=1.0)[0])[0] for _ in range(50))
    assert valid >= 45


def test_normalised_signature_ignores_numbers_and_names():
    a = Verdict("internal-error", "Check failed: x == 3 at 0x7ff1 in 'foo_1'", ("tvm::A",), "")
    b = Verdict("internal-error", "Check failed: x == 17 at 0x1234 in 'bar'", ("tvm::A",), "")
    c = Verdict("internal-error", "Check failed: y != 3", ("tvm::A",), "")
    assert normalise(a.message) == normalise(b.message)
    assert signature(a) == signature(b) != signature(c)


def test_classify_signals_and_explained_errors():
    seg = {"exit": {"kind": "signal", "signal": 11, "name": "SIGSEGV"}, "stage": "pass:3", "stderr": ""}
    assert classify(seg).kind == "signal-sigsegv"
    # the mutated program crashing under TVM's own default pipeline is the program's fault
    assert classify({**seg, "stage": "run-default"}) is None
    err = {"type": "InternalError", "internal": True, "message": "Check failed: (a) is false", "traceback": ""}
    # the error of a pass run against its documented pre-condition is misuse, not a finding
    reply = {"exit": {"kind": "exit", "code": 0},
             "result": {"status": "pass_error", "error": err, "pass_name": "tirx.VectorizeLoop", "pass_index": 0}}
    v = classify(reply, [["tirx.VectorizeLoop", {"enable_vectorize": True}]])
    assert v.kind == "internal-error" and v.triage.cls == "misuse"
    assert any("LowerOpaqueBlock" in r for r in v.triage.reasons)
    ok_order = [["s_tir.LowerInitBlock", {}], ["s_tir.ConvertBlocksToOpaque", {}], ["s_tir.LowerOpaqueBlock", {}],
                ["tirx.VectorizeLoop", {"enable_vectorize": True}]]
    reply["result"]["pass_index"] = 3
    assert classify(reply, ok_order).triage.cls == "bug"
    # a signal on misuse is a robustness report, listed apart
    nd = {**seg, "stage": "pass:0:tirx.NarrowDataType(target_bits=32)"}
    assert classify(nd, [["tirx.NarrowDataType", {"target_bits": 32}]]).triage.cls == "robustness"


def test_frames_skip_visitor_machinery_and_templates():
    from irtoolkit.fuzz.oracles import top_frames

    log = """
  File "<unknown>", line 0, in tvm::ffi::Optional<tvm::ffi::VisitInterrupt, void> tvm::ObjectVisitor::DispatchNode<tvm::tirx::StmtExprVisitor, tvm::tirx::ForNode>(tvm::ffi::Object const*)
  File "<unknown>", line 0, in tvm::tirx::StmtExprVisitor::Visit_(tvm::tirx::ForNode const*)
  File "/project/src/s_tir/transform/loop_partition.cc", line 172, in virtual tvm::ffi::Optional<tvm::ffi::VisitInterrupt> tvm::s_tir::CandidateSelector::Visit_(const tvm::tirx::AttrStmtNode*)
"""
    assert top_frames(log) == ("tvm::s_tir::CandidateSelector::Visit_",)


def test_build_gate_builds_each_lowered_module_once_and_samples_the_rest():
    from irtoolkit.fuzz.novelty import BuildGate, SeenSet

    lowered, semantic = SeenSet(None), SeenSet(None)
    new_cov = [False]

    def gate(seed=0, sample=0.0):
        return BuildGate(lowered, semantic, lambda: new_cov[0], sample=sample, sample_fresh_ir=sample, rng_seed=seed)

    assert gate().build(11, fresh_ir=True) is not None  # nothing new, not sampled
    new_cov[0] = True
    assert gate().build(11, fresh_ir=False) is None      # new coverage: built ...
    assert "before" in gate().build(11, fresh_ir=False)  # ... and never again
    new_cov[0] = False
    assert gate(sample=1.0).build(12, fresh_ir=False) is None
    built = sum(gate(seed=s, sample=0.25).build(100 + s, fresh_ir=False) is None for s in range(400))
    assert 60 < built < 140
    g = gate()
    g.signals({"a|b|1"})
    assert g.novel
    g2 = gate()
    g2.signals({"a|b|1"})
    assert not g2.novel


def test_condition_drops_buffer_and_variable_names():
    from irtoolkit.fuzz.oracles import condition

    # two ill-formed outputs of one CompactBufferAllocation fault (a 10-minute campaign, seed 5)
    a = "InternalError: TIR is ill-formed: buffer index_var_0 is used at <root>.body.block.body.seq[3]"
    b = "InternalError: TIR is ill-formed: buffer index_var_1 is used at <root>.body.block.body.seq[2]"
    assert condition(a) == condition(b) == "TIR is ill-formed: buffer ? is used at <root>"
    assert condition("Check failed: lanes > 1 (1 vs. 1) : ") == "lanes > N"


BLOCK_TVM = "import sys; sys.modules['tvm'] = None  # as if TVM were not installed\n"


def _without_tvm(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TVM + code], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_fuzz_without_tvm_names_the_extra_and_writes_nothing(tmp_path):
    for args in (["--time", "5s", "--out", "camp"], ["--time", "5s", "--out", "camp", "--ray", "auto"]):
        r = _without_tvm(f"from irtools.cli import main; sys.exit(main({['fuzz', *args]!r}))", tmp_path)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr == "irtools fuzz: error: TVM is not installed: pip install 'irtoolkit[tvm]'\n"
        assert not (tmp_path / "camp").exists()   # checked before --out is made: the rerun is not refused


def test_tvm_cost_model_without_tvm_says_what_to_install(tmp_path):
    r = _without_tvm("import irtoolkit.costmodel.integrations.tvm", tmp_path)
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == \
        "ImportError: irtoolkit.costmodel.integrations.tvm needs TVM: pip install 'irtoolkit[tvm]'"
    assert "ModuleNotFoundError" not in r.stderr
    # the rest of the cost model does not need TVM
    r = _without_tvm("import irtoolkit.costmodel, irtoolkit.costmodel.features; print('ok')", tmp_path)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr


def test_status_line_counts_unique_findings_and_hits_apart():
    from types import SimpleNamespace

    from irtoolkit.fuzz.engine import Campaign, Stats

    st = Stats(execs=120, findings=3, finding_hits=41, crashes=9, hangs=2)
    camp = SimpleNamespace(stats=st, semantic=set(), corpus=[], elapsed=lambda: 12.0,
                           signatures={"signal-sigsegv-0a1b2c3d4e5f": 1, "internal-error-1234567890ab": 1,
                                       "ill-formed-abcdefabcdef": 1})
    line = Campaign.status_line(camp)
    assert "findings 3 (crashes 1)" in line and "hits 41" in line


def test_a_crash_in_the_fuzzers_own_mutation_is_kept_apart():
    """A signal while the child mutates (TVM's schedule primitives called by the fuzzer) is not a
    compile-pipeline finding: its reproducer starts from the printed case and cannot replay it."""
    seg = {"exit": {"kind": "signal", "signal": 11, "name": "SIGSEGV"}, "stderr": "", "stage": "mutate"}
    v = classify(seg, P.to_json(P.default_pipeline()))
    assert v.kind == "signal-sigsegv" and v.triage.cls == "robustness" and "mutate" in v.triage.reasons[0]
    in_pass = dict(seg, stage="pass:3:s_tir.LowerInitBlock")
    assert classify(in_pass, P.to_json(P.default_pipeline())).triage.cls == "bug"


def test_a_hang_is_counted_as_a_hang_not_under_its_triage_class(tmp_path):
    from irtoolkit.fuzz.engine import Campaign

    camp = Campaign(tmp_path / "c", seed=0, workers=1, replay_findings=False)
    passes = P.to_json(P.default_pipeline())
    req = {"text": "# case", "passes": passes, "seed": 1, "seed_name": "s"}
    hang = {"exit": {"kind": "hang", "timeout": 10}, "stage": "pass:3:s_tir.LowerInitBlock", "stderr": ""}
    assert classify(hang, passes).triage.cls == "bug"   # a pass in documented order that did not return
    camp.handle(req, hang)
    camp.handle(req, hang)                               # the same signature again: one exemplar, two hits
    assert camp.stats.triaged == {"hang": 1} and camp.stats.hangs == 2 and camp.stats.findings == 0
    assert len(list((tmp_path / "c" / "hangs").iterdir())) == 1
