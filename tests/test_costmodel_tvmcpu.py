"""The TVM CPU dataset source: MetaSchedule design-space samples, TVM's LLVM IR, real llc/callgrind labels."""

import json

import numpy as np
import pytest

pytest.importorskip("tvm")

from irtoolkit.costmodel import tools  # noqa: E402
from irtoolkit.costmodel.dataset import tvmcpu  # noqa: E402

needs = pytest.mark.skipif(any(tools.find(t) is None for t in ("clang-22", "llc-22", "llvm-nm-22", "valgrind")),
                           reason="needs clang-22, llc-22, llvm-nm-22 and valgrind")


def _first_parallel_sample(kind: str):
    for seed in range(200):
        name, func, specs = tvmcpu.workload(seed)
        if name.split("_")[1] == kind:
            return seed, name, func, specs
    raise AssertionError(kind)


@needs
@pytest.mark.parametrize("kind", ["matmul", "softmax"])
def test_harness_computes_what_tvms_runtime_computes(tmp_path, kind):
    """The C harness calls TVM's exported function through the FFI C ABI with a serial parallel launcher;
    its output must be the output of TVM's own runtime on the same inputs, or the counts are of
    something else than the kernel."""
    import tvm

    from irtoolkit.costmodel.dataset.rows import static_labels as _static_labels

    seed, name, func, specs = _first_parallel_sample(kind)
    target = tvmcpu.target_for(seed)
    mod, _ = tvmcpu.schedule(func, target, seed)
    ex = tvm.compile(mod, target=target)
    (tmp_path / "k.ll").write_text(tvmcpu.internalise(tvmcpu.stable_text(ex.mod.inspect_source("ll"))))
    labels, obj = _static_labels(tmp_path / "k.ll", tmp_path)
    lambdas = [f for f in labels.values if f.startswith("__tvm_parallel_lambda")]
    assert lambdas, "MetaSchedule's CPU design space parallelises the outer loops"
    counted, checksum = tvmcpu.count_instructions(obj, specs, tmp_path, lambdas)

    args = [tvm.runtime.tensor(tvmcpu.input_values(s, d, i)) for i, (s, d) in enumerate(specs)]
    ex(*args)
    want = float(args[-1].numpy().astype(np.float64).sum())
    assert checksum == pytest.approx(want, rel=1e-5, abs=1e-6), name
    # every launched lambda has its own count, and the lambdas do the work
    assert set(counted.values) >= {tvmcpu.ENTRY} | set(lambdas) - set(counted.missing)
    lam = sum(counted.values[f]["instructions_executed"] for f in lambdas if f in counted.values)
    assert lam > counted.values[tvmcpu.ENTRY]["instructions_executed"]


@needs
def test_counts_scale_with_the_work(tmp_path):
    """The same schedule family on 4x the rows runs ~4x the instructions in its parallel body."""
    from tvm import te

    def reduce_rows(rows):
        A = te.placeholder((rows, 256), "float32", "A")
        r = te.reduce_axis((0, 256), "k")
        C = te.compute((rows,), lambda i: te.sum(A[i, r] * A[i, r], axis=r), "C")
        return te.create_prim_func([A, C]), [((rows, 256), "float32"), ((rows,), "float32")]

    import tvm

    from irtoolkit.costmodel.dataset.rows import static_labels as _static_labels

    totals = []
    for rows in (32, 128):
        func, specs = reduce_rows(rows)
        target = {"kind": "llvm", "mcpu": "x86-64", "num-cores": 1}
        mod, _ = tvmcpu.schedule(func, target, 3)
        work = tmp_path / str(rows)
        work.mkdir()
        (work / "k.ll").write_text(tvmcpu.internalise(tvm.compile(mod, target=target).mod.inspect_source("ll")))
        labels, obj = _static_labels(work / "k.ll", work)
        counted, _ = tvmcpu.count_instructions(obj, specs, work, [])
        totals.append(sum(v["instructions_executed"] for v in counted.values.values()))
    assert 3.0 < totals[1] / totals[0] < 4.5, totals


@needs
def test_dataset_rows_are_kernels_with_provenance_and_deterministic(tmp_path):
    from irtoolkit.costmodel.dataset.build import build, load_rows

    kw = dict(shards=1, per_shard=1, configs_per_program=2, source="tvm-llvm", progress=False, seed_offset=104)
    s1 = build(tmp_path / "a", **kw)
    s2 = build(tmp_path / "b", **kw)
    assert s1["rows"] > 0 and s1["rows"] == s2["rows"]
    a, b = load_rows(tmp_path / "a"), load_rows(tmp_path / "b")
    # TVM names TBAA types after buffer addresses; the stored text must not depend on them
    assert [r["ir_sha256"] for r in a] == [r["ir_sha256"] for r in b]
    assert [r["labels"] for r in a] == [r["labels"] for r in b]
    for r in a:
        assert r["source"] == "tvm-llvm" and tvmcpu.is_kernel(r["function"])
        assert r["labels"]["machine_instructions"] > 0 and r["labels"]["text_bytes"] > 0
        assert r["labels"]["instructions_executed"] > 0
        assert r["provenance"]["instructions_executed"]["tool"] == "valgrind"
        assert json.loads(r["producer"]["flags"][0])["kind"] == "llvm"
        text = (tmp_path / "a" / r["ir_file"]).read_text()
        assert "0x" not in "".join(line for line in text.splitlines() if line.startswith("!"))
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert meta["generator"] == "irtoolkit.costmodel.dataset.tvmcpu"
