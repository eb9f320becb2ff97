"""The MetaSchedule cost model on a real tiny workload, and GPU samples from TVM's CUDA code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import need_tool

tvm = pytest.importorskip("tvm")
pytestmark = pytest.mark.tvm


@pytest.fixture(scope="module")
def matmul_task():
    from tvm import te
    from tvm.s_tir import meta_schedule as ms

    A = te.placeholder((16, 16), name="A")
    B = te.placeholder((16, 16), name="B")
    k = te.reduce_axis((0, 16), name="k")
    C = te.compute((16, 16), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    func = te.create_prim_func([A, B, C])
    mod = tvm.IRModule({"main": func})
    target = tvm.target.Target({"kind": "llvm", "mcpu": "x86-64", "num-cores": 1})
    ctx = ms.TuneContext(mod=mod, target=target, space_generator="post-order-apply",
                         search_strategy="evolutionary", task_name="mm16")
    spaces = ctx.generate_design_space()
    cands = [ms.MeasureCandidate(s, ms.arg_info.ArgInfo.from_prim_func(func)) for s in spaces]
    return ctx, cands, target


def _measure(cands, target):
    """Real run times of each candidate (TVM's own time evaluator on the host CPU)."""
    from tvm.s_tir import meta_schedule as ms

    dev = tvm.cpu()
    args = [tvm.runtime.tensor(np.random.default_rng(0).random((16, 16), dtype="float32"), dev) for _ in range(3)]
    out = []
    for c in cands:
        ex = tvm.compile(c.sch.mod, target=target)
        secs = ex.mod.time_evaluator("main", dev, number=10, repeat=2)(*args).results
        out.append(ms.runner.RunnerResult(run_secs=[float(s) for s in secs], error_msg=None))
    return out


def test_metaschedule_cost_model_predict_update_save(matmul_task, tmp_path):
    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel

    ctx, cands, target = matmul_task
    cm = IrtoolsCostModel(prior=False)
    p0 = cm.predict(ctx, cands)
    assert p0.shape == (len(cands),) and p0.dtype == np.float64 and np.all(np.isfinite(p0))
    results = _measure(cands, target)
    cands2 = cands * 2          # enough rows for the regressor; same candidates, same features
    cm.update(ctx, cands2, results * 2)
    p1 = cm.predict(ctx, cands)
    assert np.all(np.isfinite(p1))
    cm.save(str(tmp_path / "cm"))
    again = IrtoolsCostModel(prior=False)
    again.load(str(tmp_path / "cm"))
    assert np.array_equal(again.predict(ctx, cands), p1)
    frozen = IrtoolsCostModel(prior=False, frozen=True)
    frozen.update(ctx, cands2, results * 2)
    assert np.array_equal(frozen.predict(ctx, cands), p0)


def test_prior_ranks_before_any_measurement(matmul_task):
    from irtoolkit import costmodel
    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    ctx, cands, _ = matmul_task
    p = IrtoolsCostModel(prior=True).predict(ctx, cands)
    assert np.all((p > 0) & (p <= 1)) and p.max() == 1.0


def test_without_the_prior_nothing_is_compiled_before_the_first_update(matmul_task):
    """The TIR model's default: round one is scored at random, as XGBoost's warm-up is, and no
    candidate is compiled (the prior's code generation was the largest cost-model call of a run)."""
    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel

    ctx, cands, _ = matmul_task
    cm = IrtoolsCostModel()
    p = cm.predict(ctx, cands)
    assert np.all((p >= 0) & (p < 1)) and len(set(p.tolist())) == len(cands)
    assert not cm._prior_cache and cm._pool is None
    assert np.array_equal(IrtoolsCostModel().predict(ctx, cands), p), "seeded"
    assert IrtoolsCostModel(features="llvm").prior, "the LLVM features compile anyway: prior on"


def test_tvm_cuda_sample_is_labelled_by_ptxas(tmp_path):
    from irtoolkit.costmodel import tools
    from irtoolkit.costmodel.dataset import tvmgen
    from irtoolkit.costmodel.dataset.labellers import LabelError
    from irtoolkit.costmodel.features import module_features

    need_tool("clang-22")
    need_tool("llc-22")
    if tools.find("ptxas") is None:
        pytest.skip("ptxas not installed (pip install nvidia-cuda-nvcc-cu12)")
    for sched in range(5):
        try:
            origin, ll, knobs, src, labels = tvmgen.sample(1, sched, tmp_path / str(sched))
        except LabelError:
            continue        # a schedule that does not fit the GPU is skipped, as in the dataset
        break
    else:
        pytest.fail("no schedule of workload 1 could be labelled")
    assert "__global__" in src and 'target triple = "nvptx64-nvidia-cuda"' in ll
    (fn, vals), = labels.values.items()
    assert vals["gpu_registers_sm90"] > 0 and 0 < vals["gpu_occupancy_sm90"] <= 1
    assert fn in module_features(ll)


def test_parallel_loop_bodies_are_featurised(matmul_task):
    """TVM lowers a parallel loop's body into ``__tvm_parallel_lambda``: its features must count, or
    every parallel schedule looks the same (only the launcher would be read)."""
    from tvm import s_tir
    from tvm.s_tir import meta_schedule as ms

    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel

    ctx, _, _ = matmul_task
    cands = []
    for factor in (2, 4):
        sch = s_tir.Schedule(ctx.mod)
        i, _, _ = sch.get_loops(sch.get_sblock("C"))
        outer, _ = sch.split(i, [None, factor])
        sch.parallel(outer)
        cands.append(ms.MeasureCandidate(sch, ms.arg_info.ArgInfo.from_prim_func(ctx.mod["main"])))
    cm = IrtoolsCostModel(features="llvm", prior=False)
    X = cm.featurize(ctx, cands)
    col = cm.names.index("ll.x.max_trip")
    assert X[0, col] != X[1, col], "the parallel body's loop bounds should show"
    # the parallel loop runs [task*chunk, min((task+1)*chunk, extent)): its extent is read as its trip count
    assert list(X[:, cm.names.index("ll.x.n_loops_unknown_trip")]) == [0.0, 0.0]
    assert list(X[:, col]) == [8.0, 4.0]
    ng = [j for j, n in enumerate(cm.names) if n.startswith("ll.ir.")]
    assert not np.array_equal(X[0, ng], X[1, ng])
    # the TIR features see the split too, without code generation
    tir = IrtoolsCostModel(prior=False)
    Xt = tir.featurize(ctx, cands)
    psf = [j for j, n in enumerate(tir.names) if n.startswith("psf.")]
    assert not np.array_equal(Xt[0, psf], Xt[1, psf])
    assert list(Xt[:, tir.names.index("psf.n_stores")]) == [1.0, 1.0]     # C's init and update: one block


def test_candidates_compiled_on_threads_give_the_same_features(matmul_task):
    """featurize compiles new candidates on the tuner's threads; rows must not depend on how many,
    nor on repeats of one candidate in a batch (one compile, one cached row)."""
    from tvm import s_tir
    from tvm.s_tir import meta_schedule as ms

    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel

    ctx, spaces, target = matmul_task
    cands = list(spaces)
    for factor in (2, 4, 8):
        sch = s_tir.Schedule(ctx.mod)
        i, j, _ = sch.get_loops(sch.get_sblock("C"))
        sch.split(j, [None, factor])
        cands.append(ms.MeasureCandidate(sch, ms.arg_info.ArgInfo.from_prim_func(ctx.mod["main"])))
    cands += cands[:2]
    for features in ("llvm", "tir"):
        rows = {}
        for n in (1, 2):
            one = ms.TuneContext(mod=ctx.mod, target=target, num_threads=n)
            rows[n] = IrtoolsCostModel(features=features, prior=False).featurize(one, cands)
        assert np.array_equal(rows[1], rows[2], equal_nan=True)
        assert np.array_equal(rows[1][-2:], rows[1][:2], equal_nan=True)
        assert len({r.tobytes() for r in rows[1]}) >= 4


def test_prior_compiles_only_until_the_first_update(matmul_task):
    """The TIR model's prior needs LLVM code generation; once measurements have trained the
    regressor, scoring must not compile anything (that was the cost #17 measured)."""
    from tvm import s_tir
    from tvm.s_tir import meta_schedule as ms

    from irtoolkit import costmodel
    from irtoolkit.costmodel.integrations import tvm as integ

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    ctx, cands, target = matmul_task
    cm = integ.IrtoolsCostModel(prior=True)
    first = cm.predict(ctx, cands)
    assert len(cm._prior_cache) == len(cands) and first.max() == 1.0
    cm.update(ctx, cands * 2, _measure(cands, target) * 2)
    others = []
    for factor in (2, 4, 8):
        sch = s_tir.Schedule(ctx.mod)
        _, j, _ = sch.get_loops(sch.get_sblock("C"))
        sch.split(j, [None, factor])
        others.append(ms.MeasureCandidate(sch, ms.arg_info.ArgInfo.from_prim_func(ctx.mod["main"])))
    assert np.all(np.isfinite(cm.predict(ctx, others)))
    assert len(cm._prior_cache) == len(cands), "scored with the booster, nothing compiled"
    assert cm._pool is None


def test_a_candidate_that_compiles_too_long_is_scored_unknown(matmul_task, monkeypatch):
    """LLVM takes minutes on a few schedules; the tuner must not wait for them."""
    from irtoolkit.costmodel.integrations import tvm as integ

    ctx, cands, _ = matmul_task
    monkeypatch.setattr(integ, "COMPILE_TIMEOUT_S", 1e-3)
    cm = integ.IrtoolsCostModel(features="llvm", prior=False)
    X = cm.featurize(ctx, cands)
    assert list(X[:, cm.names.index("ll.n_kernel_functions")]) == [0.0] * len(cands)
    monkeypatch.setattr(integ, "COMPILE_TIMEOUT_S", 30.0)
    cm = integ.IrtoolsCostModel(features="llvm", prior=False)
    assert np.all(cm.featurize(ctx, cands)[:, cm.names.index("ll.n_kernel_functions")] > 0)


def test_a_saved_model_loads_only_into_its_feature_set(matmul_task, tmp_path):
    from irtoolkit.costmodel.integrations.tvm import IrtoolsCostModel
    from irtools.errors import IrtoolsError

    IrtoolsCostModel(features="llvm", prior=False).save(str(tmp_path / "cm"))
    # through TVM's object system the error arrives as the RuntimeError of its FFI, message intact
    with pytest.raises((IrtoolsError, RuntimeError), match="features='llvm'"):
        IrtoolsCostModel(prior=False).load(str(tmp_path / "cm"))


def test_trial_latencies_keep_the_trial_order(tmp_path):
    """MetaSchedule's database hands records back fastest first; a best-so-far curve needs them in
    the order the trials ran, which is the record file's order (a failed trial is 1e10 s there)."""
    from irtoolkit.costmodel.integrations.tvm_tuning import trial_latencies

    rows = [[0, [[], [3e-4, 2e-4], None, []]], [0, [[], [1e10], None, []]], [0, [[], [1e-4], None, []]]]
    (tmp_path / "database_tuning_record.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert trial_latencies(tmp_path) == [2e-4, float("inf"), 1e-4]
