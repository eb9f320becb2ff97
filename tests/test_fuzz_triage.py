"""Triage, blame, signatures, the UB gate and the reproducers, against the real TVM wheel."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.tvm
tvm = pytest.importorskip("tvm")

from irtoolkit.fuzz import findings as F  # noqa: E402
from irtoolkit.fuzz.oracles import classify  # noqa: E402
from irtoolkit.fuzz.tvm import passes as P  # noqa: E402
from irtoolkit.fuzz.tvm.execute import random_args, run_case  # noqa: E402

OK = {"kind": "exit", "code": 0}


def cast_case(dtype: str, value: int) -> str:
    """``Cast(dtype, A[v] * 0 + value)`` with ``value`` out of ``dtype``'s range: StmtSimplify folds
    it into an IntImm whose constructor check fails (a real TVM 0.27 bug; the cast is valid TIR)."""
    return f'''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((4,), "int32"), B: T.Buffer((4,), "{dtype}")):
    T.func_attr({{"tirx.noalias": True}})
    for i in range(4):
        with T.sblock("B"):
            v = T.axis.remap("S", [i])
            T.reads(A[v])
            T.writes(B[v])
            B[v] = T.Cast("{dtype}", A[v] * 0 + {value})
'''


UNINIT = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32")):
    T.func_attr({"tirx.noalias": True})
    L = T.sblock_alloc_buffer((4,), scope="local")
    for i in T.serial(4):
        with T.sblock("B"):
            v = T.axis.remap("S", [i])
            T.reads(L[v], A[v])
            T.writes(B[v])
            B[v] = L[v] + A[v]
'''

BOOL_CASE = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(C: T.Buffer((3, 5), "bool"), A: T.Buffer((3, 5), "float32"), B: T.Buffer((3, 5), "float32")):
    T.func_attr({"tirx.noalias": True})
    for i, j in T.grid(3, 5):
        with T.sblock("B"):
            vi, vj = T.axis.remap("SS", [i, j])
            T.reads(C[vi, vj], A[vi, vj])
            T.writes(B[vi, vj])
            B[vi, vj] = T.if_then_else(C[vi, vj], A[vi, vj], T.float32(0.0))
'''


def _run(text, names):
    lst = [P.call(n) if isinstance(n, str) else P.call(n[0], **n[1]) for n in names]
    res = run_case(text, lst, stage=lambda s: None, rng_seed=1)
    return res, classify({"exit": OK, "result": res}, P.to_json(lst))


@pytest.fixture(scope="module")
def seeds():
    from irtoolkit.fuzz.tvm.seeds import build_seeds

    return {s.name: s for s in build_seeds()}


def test_vectorize_loop_on_block_form_is_misuse(seeds):
    res, v = _run(seeds["add_relu_8x8_sched"].script, [("tirx.VectorizeLoop", {"enable_vectorize": True})])
    assert res["status"] == "pass_error"  # TVM really fails ...
    assert v.triage.cls == "misuse"      # ... but the pass runs on block form, against TVM's pipeline order
    assert any("LowerOpaqueBlock" in r for r in v.triage.reasons)


def test_narrow_data_type_needs_flatten_buffer_first():
    # its docstring: "Run this pass after FlattenBuffer."; its SIGSEGV on block form is a robustness report
    seg = {"exit": {"kind": "signal", "signal": 11, "name": "SIGSEGV"}, "stderr": "",
           "stage": "pass:0:tirx.NarrowDataType(target_bits=32)"}
    v = classify(seg, [["tirx.NarrowDataType", {"target_bits": 32}]])
    assert v.triage.cls == "robustness" and "Run this pass after FlattenBuffer" in v.triage.reasons[0]


def test_known_bug_stays_bug_and_dtype_variants_share_one_signature():
    _, v8 = _run(cast_case("int8", 255), ["s_tir.StmtSimplify"])
    _, v16 = _run(cast_case("int16", 70000), ["s_tir.StmtSimplify"])
    _, vu8 = _run(cast_case("uint8", 300), ["s_tir.StmtSimplify"])
    assert v8.kind == "internal-error" and v8.triage.cls == "bug"
    assert v8.location.startswith("src/ir/expr.cc:")
    assert F.signature(v8) == F.signature(v16)  # one check, two dtypes: one finding
    assert F.signature(vu8) != F.signature(v8)  # the unsigned branch is another check
    # the same check reached through the default pipeline (which runs s_tir.StmtSimplify) signs the same
    _, vd = _run(cast_case("int8", 200), [n for n, _ in P.default_pipeline()])
    assert vd is not None and F.signature(vd) == F.signature(v8)


def test_fuzzer_only_attribute_form_is_an_artefact(seeds):
    lines = seeds["matmul_16"].script.splitlines()
    i = next(k for k, line in enumerate(lines) if 'T.sblock("C")' in line)
    text = "\n".join(lines[:i] + ['        with T.attr(0, "pragma_loop_partition_hint", 1):']
                     + ["    " + line for line in lines[i:]])
    res, v = _run(text, ["s_tir.LoopPartition"])
    assert res["status"] == "pass_error"  # LoopPartition's "Check failed: (var) is false"
    assert v.triage.cls == "fuzzer-artefact" and "never to a constant node" in v.triage.reasons[0]


def test_blame_goes_to_the_first_pass_with_ill_formed_output():
    # hand-made: pass 1's output is ill-formed (first_ill_formed), pass 3 then fails
    res = {"status": "pass_error", "pass_index": 3, "pass_name": "tirx.MakePackedAPI",
           "error": {"type": "InternalError", "internal": True, "message": "Check failed: (x) is false",
                     "traceback": 'File "/p/src/tirx/transform/make_packed_api.cc", line 293, in f'},
           "first_ill_formed": {"pass_index": 1, "pass_name": "s_tir.CompactBufferAllocation(is_strict=True)",
                                "error": {"message": "Invalid use of undefined variable i at <root>.body.value",
                                          "traceback": ""}}}
    passes = [["s_tir.LowerInitBlock", {}], ["s_tir.CompactBufferAllocation", {"is_strict": True}],
              ["s_tir.LowerOpaqueBlock", {}], ["tirx.MakePackedAPI", {}]]
    v = classify({"exit": OK, "result": res}, passes)
    assert v.kind == "ill-formed" and v.pass_index == 1 and v.pass_name.startswith("s_tir.CompactBufferAllocation")
    assert "MakePackedAPI" in v.notes[0]


# Found by a campaign (seed 11), reduced: after FlattenBuffer and CommonSubexprElim, CompactBufferAllocation
# leaves a buffer whose shape uses a CSE variable out of its scope; MakePackedAPI falls over two passes later.
BLAME_CASE = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(X: T.Buffer((4, 16), "float32"), T_softmax_norm: T.Buffer((4, 16), "float32")):
    T.func_attr({"tirx.noalias": True})
    T_softmax_exp = T.sblock_alloc_buffer((4, 16))
    T_softmax_expsum = T.sblock_alloc_buffer((4,))
    for i0, k in T.grid(4, 16):
        with T.sblock("T_softmax_expsum"):
            v_i0, v_k = T.axis.remap("SR", [i0, k])
            T.reads(T_softmax_exp[v_i0, v_k])
            T.writes(T_softmax_expsum[v_i0])
            with T.init():
                T_softmax_expsum[v_i0] = T.float32(0.0)
            T_softmax_expsum[v_i0] = T_softmax_expsum[v_i0] + T_softmax_exp[v_i0, v_k]
    for i0, i1 in T.grid(4, 16):
        with T.sblock("T_softmax_norm"):
            v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
            T.reads(T_softmax_exp[v_i0, v_i1], T_softmax_expsum[v_i0])
            T.writes(T_softmax_norm[v_i0, v_i1])
            T.sblock_attr({"axis": 1})
            T_softmax_norm[v_i0, v_i1] = T_softmax_exp[v_i0, v_i1] / T_softmax_expsum[v_i0]
'''


def test_blame_lands_on_the_first_ill_formed_pass_of_a_real_list():
    names = ["s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.LowerOpaqueBlock", "tirx.FlattenBuffer",
             ("tirx.NarrowDataType", {"target_bits": 16}), "tirx.CommonSubexprElim",
             ("s_tir.CompactBufferAllocation", {"is_strict": True}), "tirx.SplitHostDevice", "tirx.MakePackedAPI"]
    res, v = _run(BLAME_CASE, names)
    assert res["status"] == "pass_error" and res["pass_name"] == "tirx.MakePackedAPI"  # where it falls over
    assert v.kind == "ill-formed" and v.pass_index == 6  # where it went wrong
    assert v.pass_name.startswith("s_tir.CompactBufferAllocation") and "MakePackedAPI" in v.notes[0]
    # CompactBufferAllocation after LowerOpaqueBlock is against the pipeline's order: misuse, with the reason
    assert v.triage.cls == "misuse" and any("before LowerOpaqueBlock" in r for r in v.triage.reasons)


def test_blame_runs_the_verifier_after_each_changing_pass(seeds):
    # LowerOpaqueBlock before ConvertBlocksToOpaque is refused by TVM; run a real list whose first
    # pass changes the IR and check the per-pass verifier ran (stage "verify:<i>")
    stages = []
    lst = [P.call("s_tir.LowerInitBlock"), P.call("s_tir.ConvertBlocksToOpaque"), P.call("s_tir.LowerOpaqueBlock")]
    res = run_case(seeds["matmul_16"].script, lst, stage=stages.append, rng_seed=1)
    assert res["status"] == "not_lowered" and "first_ill_formed" not in res
    assert [s for s in stages if s.startswith("verify:")] == \
        ["verify:0:s_tir.LowerInitBlock", "verify:1:s_tir.ConvertBlocksToOpaque", "verify:2:s_tir.LowerOpaqueBlock"]


def test_uninitialised_read_is_kept_out_of_the_differential():
    lst = [n for n, _ in P.default_pipeline() if n != "s_tir.RemoveStoreUndef"]
    res, v = _run(UNINIT, lst)
    assert any("uninitialised" in u for u in res["ub"])
    assert res["status"] != "mismatch" and v is None
    # even a mismatch reported for it is no verdict: the reducer (same test) rejects UB steps
    forged = {**res, "status": "mismatch", "against": "default pipeline", "buffer": 1}
    assert classify({"exit": OK, "result": forged}, P.to_json(P.default_pipeline())) is None


ASSERT_LET = """
# from tvm.script import tirx as T

@T.prim_func
def main(A: T.Buffer((4,), "int32"), B: T.Buffer((4,), "int32")):
    for i in range(4):
        assert i < 4, "oob"
        v: T.int32 = A[i] + 1
        B[i] = v
"""


def test_ub_walk_reads_asserts_and_lets():
    """The walk knows AssertStmt/LetStmt: a UB-free program with them is compared, not "walk failed"."""
    import tvm

    from irtoolkit.fuzz.tvm.execute import ub_reasons

    mod = tvm.script.from_source(ASSERT_LET)
    func = next(iter(mod.functions.values())) if hasattr(mod, "functions") else mod
    assert ub_reasons(func) == []


def test_bool_case_replays_through_its_reproducer_with_the_same_inputs(tmp_path):
    seed = 1234
    src = F.reproducer_source(signature="miscompile-test", kind="miscompile", message="m", case=BOOL_CASE,
                              passes=P.to_json(P.default_pipeline()), seed=seed,
                              default_passes=P.to_json(P.default_pipeline()))
    (tmp_path / "reproducer.py").write_text(src)
    dump = tmp_path / "inputs.npz"
    out = subprocess.run([sys.executable, "reproducer.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "REPRO_DUMP_INPUTS": str(dump)})
    assert out.returncode == 0, out.stderr
    got = np.load(dump)
    want = random_args(tvm.script.from_source(BOOL_CASE), np.random.default_rng(seed))
    assert len(got.files) == len(want) and want[0].dtype == bool
    for k, w in enumerate(want):
        assert got[f"arr_{k}"].dtype == w.dtype and np.array_equal(got[f"arr_{k}"], w)
    # and the whole case replays (same pass list as the default: no mismatch)
    out = subprocess.run([sys.executable, "reproducer.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "did not reproduce" in out.stdout, out.stderr


def test_report_is_upstream_ready(tmp_path):
    lst = [["s_tir.StmtSimplify", {}]]
    text = cast_case("int8", 255)
    res = run_case(text, P.from_json(lst), stage=lambda s: None, rng_seed=1)
    reply = {"exit": OK, "result": res}
    v = classify(reply, lst)
    path, new = F.write_finding(F.folder_for(tmp_path, v), v, case=text, passes=lst, seed=1, seed_name="t",
                                reply=reply, default_passes=P.to_json(P.default_pipeline()))
    assert new and path.parent.name == "findings"
    rep = F.replay(path)
    assert rep["reproduced"] and rep["returncode"] == 1
    assert rep["plain_tvm_compile"].startswith(("ValueError", "InternalError"))  # tvm.compile hits it too
    md = (path / "report.md").read_text()
    for needle in ("**Expected**", "**Actual**", "plain `tvm.compile`", "yes:", "src/ir/expr.cc", "llvm:",
                   "apache-tvm-ffi", "os:", "Search hint", "s_tir.StmtSimplify", "Check failed"):
        assert needle in md, needle
    src = (path / "reproducer.py").read_text()
    assert "import irtoolkit" not in src and "from irtoolkit" not in src and "case.tir" not in src
    assert "import fuzz" not in src and "from fuzz" not in src   # rename: keep (the old name neither)


def test_other_cpus_are_compiled_not_run(seeds):
    """Arm (Neon, SVE), RISC-V V and AVX-512 targets go through TVM's LLVM code generators for those
    CPUs; only this machine's own llvm target runs."""
    import tvm as _tvm

    from irtoolkit.fuzz.mutate.ir import CPU_TARGETS, parse
    from irtoolkit.fuzz.tvm import replay as R

    assert R.runs_here(R.llvm_target())
    func = parse(seeds["add_relu_64"].script)
    for spec in CPU_TARGETS[2:]:
        t = _tvm.target.Target(spec, host={"kind": "llvm"})
        assert not R.runs_here(t) and not R.is_gpu(t)
        case = func.with_attr("target", t)
        res = run_case(case.script(), P.default_pipeline(), stage=lambda s: None, rng_seed=1, func=case)
        assert res["status"] == "ok" and "jit" not in res, (spec, res.get("error"))
        assert res["target"] == R.target_label(t) and res["target"].startswith("llvm ")


def test_a_case_retargeted_to_a_gpu_is_scheduled_by_tvm_and_compiled_without_a_gpu(seeds, tmp_path):
    """``retarget`` binds a CPU seed to GPU threads with TVM's own default GPU schedules (dlight) and
    sets the function's target; the case then goes through the pass list and the GPU code generator
    (CUDA source, no nvcc), never runs, and its reproducer compiles for the same target."""
    import random

    from irtoolkit.fuzz.mutate.ir import _thread_bound, parse, retarget
    from irtoolkit.fuzz.tvm.replay import case_target

    func = parse(seeds["softmax_4x16"].script)
    kinds = set()
    for k in range(12):
        new = retarget(func, random.Random(k))
        if new is None:
            continue
        text = new.script()
        again = parse(text)  # the target travels in the TVMScript (a func_attr)
        kinds.add(case_target(again).kind.name)
        if case_target(again).kind.name == "cuda":
            assert _thread_bound(again)
            res = run_case(text, P.default_pipeline(), stage=lambda s: None, rng_seed=1, func=again)
            assert res["status"] == "ok" and res["target"].startswith("cuda sm_") and "jit" not in res
            cuda_text = text
    assert "cuda" in kinds and kinds & {"opencl", "webgpu", "nvptx", "c"}
    # the reproducer of a GPU case compiles it for its own target: a pass list that breaks the
    # case (here: one that cannot build at all) fails in the reproducer as in the fuzzer
    src = F.reproducer_source(signature="t", kind="internal-error", message="m", case=cuda_text,
                              passes=P.to_json(P.default_pipeline()), seed=1, default_passes=[])
    (tmp_path / "r.py").write_text(src)
    out = subprocess.run([sys.executable, str(tmp_path / "r.py"), "--report"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and '"plain_tvm_compile": "ok"' in out.stdout, out.stderr[-2000:]


def test_a_gpu_case_whose_input_tvm_itself_rejects_is_not_a_bug():
    """No differential for a GPU case: what a maintainer asks first, whether plain tvm.compile takes
    the input for that target, decides.  Another error there: misuse of the target; the same error
    or none: a bug, with a note saying which."""
    base = {"status": "pass_error", "pass_index": 0, "pass_name": "tirx.StorageRewrite", "target": "opencl",
            "error": {"type": "InternalError", "message": "InternalError: Check failed: (thread_scope_ == op) is false:",
                      "internal": True}}
    other = dict(base, default_outcome={"error": {"type": "InternalError", "message": "Check failed: lanes > 1"}})
    same = dict(base, default_outcome={"error": dict(base["error"])})
    fine = dict(base, default_outcome={"ok": True})
    full = P.to_json(P.default_pipeline())
    i = next(k for k, (n, _) in enumerate(full) if n == "tirx.StorageRewrite")
    for res in (other, same, fine):
        res["pass_index"] = i
    v_other = classify({"exit": OK, "result": other}, full)
    v_same = classify({"exit": OK, "result": same}, full)
    v_fine = classify({"exit": OK, "result": fine}, full)
    assert v_other.triage.cls == "misuse" and "rejects it too" in v_other.triage.reasons[0]
    assert v_same.triage.cls == "bug" and any("fails the same way" in n for n in v_same.notes)
    assert v_fine.triage.cls == "bug" and any("succeeds" in n for n in v_fine.notes)


def test_a_parallel_loop_in_a_gpu_kernel_is_a_fuzzer_artefact(seeds):
    import random

    from irtoolkit.fuzz.mutate.ir import parse, retarget

    func = next(f for k in range(20) if (f := retarget(parse(seeds["softmax_4x16"].script), random.Random(k)))
                is not None and "blockIdx.x" in f.script())
    text = func.script().replace('T.thread_binding(4, thread="blockIdx.x")', "T.parallel(4)")
    assert "T.parallel(4)" in text
    res, v = _run(text, [n for n, _ in P.default_pipeline()])
    assert res["artefacts"] and "parallel loop" in res["artefacts"][0]
    assert v is None or v.triage.cls == "fuzzer-artefact"


def test_baselines_draw_random_pass_orders_on_the_seeds_and_only_one_retargets(tmp_path):
    """Tzer's baseline (random pass orders on the seeds) never mutates the IR; the random-targets
    baseline retargets about half of its cases and does nothing else to the IR."""
    from irtoolkit.fuzz.engine import Campaign

    for mode in ("random-passes", "random-targets"):
        camp = Campaign(tmp_path / mode, seed=2, workers=1, mode=mode, coverage=False)
        reqs = [camp.next_request(i) for i in range(200)]
        assert all(r["text"] in {s.script for s in camp.seeds.values()} for r in reqs)
        retargeted = [r for r in reqs if r.get("mutators")]
        assert all(r["mutators"] == ["retarget"] and r["ir_mutations"] == 1 for r in retargeted)
        assert all(r["ir_mutations"] == 0 for r in reqs if not r.get("mutators"))
        if mode == "random-passes":
            assert not retargeted
        else:
            assert 70 <= len(retargeted) <= 130


# The 30-minute campaign's ill-formed-21411155473b, reduced: one blockIdx.x loop nested in a block under
# another.  LiftThreadBinding replaces the inner loop's variable by the outer one, which the block "outer"
# (it has an iteration variable) may not read; TVM's pipeline runs the pass after ConvertBlocksToOpaque.
LIFT_CASE = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    T.func_attr({"tirx.noalias": True})
    for i0 in T.thread_binding(1, thread="blockIdx.x"):
        with T.sblock("outer"):
            vo = T.axis.spatial(1, 0)
            T.reads(A[0:64])
            T.writes(B[0:64])
            for i1 in T.thread_binding(1, thread="blockIdx.x"):
                for i2 in T.thread_binding(64, thread="threadIdx.x"):
                    with T.sblock("B"):
                        v = T.axis.spatial(64, i1 * 64 + i2)
                        B[v] = A[v] + T.float32(1)
'''


def test_lift_thread_binding_before_convert_blocks_to_opaque_is_misuse():
    res, v = _run(LIFT_CASE, ["s_tir.LiftThreadBinding"])
    assert res["first_ill_formed"]["pass_name"] == "s_tir.LiftThreadBinding"  # TVM really leaves it ill-formed ...
    assert v.kind == "ill-formed" and v.triage.cls == "misuse"  # ... on block form, against the pipeline's order
    assert "ConvertBlocksToOpaque" in v.triage.reasons[0]
    res, v = _run(LIFT_CASE, ["s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.LiftThreadBinding"])
    assert "first_ill_formed" not in res and v is None  # in the pipeline's order the output is well-formed


# long enough that the error message, which prints the whole function after the refusal, passes 4,000 characters
INT64_CASE = '''# from tvm.script import tirx as T

@T.prim_func
def main(A: T.Buffer((128,), "int64"), B: T.Buffer((128,), "int64")):
    T.func_attr({"tirx.noalias": True})
''' + "".join(f"    B[{i}] = A[{i}] >> T.int64(1)\n" for i in range(128))


def test_force_narrow_index_refusing_int64_data_is_an_input_limitation():
    # ForceNarrowIndexToInt32 ("should not be used in default cases") throws on purpose for integer
    # buffers wider than 32 bits: an InternalError, but a refusal, not a finding
    from irtoolkit.fuzz.oracles import expected_error

    names = ["s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.LowerOpaqueBlock", "tirx.FlattenBuffer",
             "tirx.ForceNarrowIndexToInt32"]  # its modelled pre-condition (flat buffers) holds
    res, v = _run(INT64_CASE, names)
    assert res["status"] == "pass_error" and "has dtype" in res["error"]["message"]
    assert "[...]" in res["error"]["message"]  # its head (the refusal) and its tail both kept
    assert v is None and expected_error({"exit": OK, "result": res}, [[n, {}] for n in names])


def _kernel_case(target: str, two_kernels: bool) -> str:
    second = ('    for bx in T.thread_binding(2, thread="blockIdx.x"):\n'
              '        for tx in T.thread_binding(32, thread="threadIdx.x"):\n') if two_kernels else ""
    return f'''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    T.func_attr({{"target": T.target({target}), "tirx.noalias": True}})
    A_global = T.sblock_alloc_buffer((64,))
    for bx in T.thread_binding(2, thread="blockIdx.x"):
        for tx in T.thread_binding(32, thread="threadIdx.x"):
            with T.sblock("A_global"):
                v = T.axis.spatial(64, bx * 32 + tx)
                A_global[v] = A[v]
{second}            with T.sblock("B"):
                v = T.axis.spatial(64, bx * 32 + tx)
                B[v] = A_global[v] + T.float32(1)
'''


def test_a_global_buffer_inside_one_gpu_kernel_is_not_an_input_the_target_takes():
    """The 30-minute campaign's Metal codegen errors (a312..., f405...): a global-scope buffer that one
    kernel alone touches is planned into that kernel; CUDA refuses it by name, Metal fails elsewhere.
    A verdict on such an input is misuse; a buffer two kernels share is the normal case."""
    from irtoolkit.fuzz.triage import triage

    cuda = '{"kind": "cuda", "arch": "sm_80", "keys": ["cuda", "gpu"], "max_num_threads": 1024, "host": {"kind": "llvm"}}'
    metal = '{"kind": "metal", "keys": ["metal", "gpu"], "max_num_threads": 256, "host": {"kind": "llvm"}}'
    full = P.default_pipeline()
    res = run_case(_kernel_case(cuda, False), full, stage=lambda s: None, rng_seed=1)
    assert "Cannot allocate global memory when targeting CUDA" in res["error"]["message"]  # TVM's own refusal
    assert res["limits"] and "A_global" in res["limits"][0]
    res = run_case(_kernel_case(metal, False), full, stage=lambda s: None, rng_seed=1)
    assert res["limits"] and triage("codegen-error", None, P.to_json(full), res).cls == "misuse"
    res = run_case(_kernel_case(cuda, True), full, stage=lambda s: None, rng_seed=1)
    assert res["status"] == "ok" and res["limits"] == []


# The 30-minute campaign's internal-error-c4a66e943129, reduced: an allocation nothing accesses.
UNUSED_ALLOC = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    T.func_attr({"tirx.noalias": True})
    unused = T.sblock_alloc_buffer((16,))
    for i in range(16):
        with T.sblock("B"):
            v = T.axis.remap("S", [i])
            T.reads(A[v])
            T.writes(B[v])
            B[v] = A[v] + T.float32(1)
'''


def test_compact_buffer_allocation_before_plan_and_update_is_misuse():
    res, v = _run(UNUSED_ALLOC, ["s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque",
                                 ("s_tir.CompactBufferAllocation", {"is_strict": True})])
    assert res["status"] == "pass_error" and "is allocated but not accessed" in res["error"]["message"]
    assert v.triage.cls == "misuse" and "PlanAndUpdateBufferAllocationLocation" in v.triage.reasons[0]
    res, v = _run(UNUSED_ALLOC, ["s_tir.LowerInitBlock", "s_tir.PlanAndUpdateBufferAllocationLocation",
                                 "s_tir.ConvertBlocksToOpaque", ("s_tir.CompactBufferAllocation", {"is_strict": True})])
    assert res["status"] != "pass_error" and v is None  # the pipeline's order drops the allocation first


# The 30-minute campaign's internal-error-6de7d6653b41, in small: a vectorized loop variable in the outer
# index of a two-dimensional access.
OUTER_VECTOR = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((4, 4), "float32"), B: T.Buffer((4, 4), "float32")):
    T.func_attr({"tirx.noalias": True})
    for i in T.vectorized(4):
        for j in range(4):
            with T.sblock("B"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vi, vj])
                T.writes(B[vi, vj])
                B[vi, vj] = A[vi, vj] + T.float32(1)
'''


def test_vectorize_loop_before_flatten_buffer_is_misuse():
    lower = ["s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.LowerOpaqueBlock"]
    res, v = _run(OUTER_VECTOR, [*lower, ("tirx.VectorizeLoop", {"enable_vectorize": True})])
    assert res["status"] == "pass_error" and "Only the last index" in res["error"]["message"]
    assert v.triage.cls == "misuse" and "FlattenBuffer" in v.triage.reasons[0]
    res, v = _run(OUTER_VECTOR, [*lower, "tirx.FlattenBuffer", ("tirx.VectorizeLoop", {"enable_vectorize": True})])
    assert res["status"] != "pass_error" and v is None


def test_a_local_pre_condition_of_an_earlier_pass_does_not_hide_a_later_bug():
    """LiftThreadBinding before ConvertBlocksToOpaque (a no-op here) matters to LiftThreadBinding alone:
    the simplifier's crash two passes later stays a bug (the campaign's SplitHostDevice finding was
    one such: its list ran CompactBufferAllocation without PlanAndUpdateBufferAllocationLocation)."""
    _, v = _run(cast_case("int8", 255), ["s_tir.LowerInitBlock", "s_tir.LiftThreadBinding",
                                         "s_tir.ConvertBlocksToOpaque", "s_tir.StmtSimplify"])
    assert v.kind == "internal-error" and v.pass_index == 3 and v.triage.cls == "bug", v.triage


# The 30-minute campaign's ill-formed-46a4330a252d, smaller: the IR mutator's delete_stmt removed the
# "P" block's store and left its write region; PlanAndUpdateBufferAllocationLocation then moves P's
# allocation to its one real access, and the stale region names a buffer out of scope.
STALE_REGION = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
    T.func_attr({"tirx.noalias": True})
    P = T.sblock_alloc_buffer((8,))
    for i in range(8):
        with T.sblock("P"):
            v = T.axis.remap("S", [i])
            T.reads(A[v])
            T.writes(P[v])
            assert v >= 0, "fuzz"
    for i in range(8):
        with T.sblock("B"):
            v = T.axis.remap("S", [i])
            T.reads(P[v])
            T.writes(B[v])
            B[v] = P[v] * T.float32(2)
'''


def test_a_write_region_without_a_store_is_a_fuzzer_artefact():
    res, v = _run(STALE_REGION, ["s_tir.LowerInitBlock", "s_tir.PlanAndUpdateBufferAllocationLocation"])
    assert res["artefacts"] and "declares writes (P)" in res["artefacts"][0]
    assert res["first_ill_formed"]["pass_name"] == "s_tir.PlanAndUpdateBufferAllocationLocation"  # TVM falls over
    assert v.kind == "ill-formed" and v.triage.cls == "fuzzer-artefact"  # ... on the fuzzer's own form
    # a block that stores, or calls something that may write through a pointer, is not flagged
    assert not any("declares writes" in a for a in _run(cast_case("int8", 1), ["s_tir.LowerInitBlock"])[0]["artefacts"])
