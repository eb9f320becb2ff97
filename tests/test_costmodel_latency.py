"""latency_ns: the timing harness compiled and run for real (no mocks), the relabel path, the model.

Nothing here asserts an absolute speed: only orders between kernels whose work differs many times over,
and the empty kernel's floor below every label.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import need_tool

from irtoolkit.costmodel.dataset import cgen
from irtoolkit.costmodel.dataset.build import build, load_rows
from irtoolkit.costmodel.dataset.latency import (
    TARGET,
    LatencyLabeller,
    compare_labellings,
    noise_floor,
    parse_output,
    program_of,
    timing_harness,
)
from irtoolkit.costmodel.dataset.relabel import relabel
from irtoolkit.costmodel.evaluation import kendall_tau


def _reduce(name: str, n: int) -> cgen.Kernel:
    src = (f"long {name}(long *restrict a, long *restrict b, long *restrict c, int *restrict ix) {{\n"
           f"  long s = 0;\n#pragma clang loop vectorize(disable) unroll(disable)\n"
           f"  for (int i = 0; i < {n}; i++) s += a[i] * b[i] + (c[i] ^ ix[i]);\n  return s;\n}}\n")
    return cgen.Kernel(name=name, family="reduce", ctype="long", source=src)


def _compile(prog: cgen.Program, tmp_path):
    need_tool("clang-22")
    (tmp_path / "prog.c").write_text(prog.source)
    obj = tmp_path / "prog.o"
    subprocess.run(["clang-22", "-O2", "-c", "prog.c", "-o", str(obj)], cwd=tmp_path, check=True)
    return obj


def test_more_work_is_slower_and_the_empty_kernel_is_the_floor(tmp_path):
    prog = cgen.Program(name="cgen_999999", seed=999999,
                        kernels=[_reduce("k0_small", 500), _reduce("k1_big", 20000), _reduce("k2_mid", 4000)])
    lab = LatencyLabeller(repeats=7, min_batch_ns=50_000)
    labels = lab.label_program(prog, _compile(prog, tmp_path), tmp_path / "w")
    ns = {k: v[TARGET] for k, v in labels.values.items()}
    assert set(ns) == {"k0_small", "k1_big", "k2_mid"} and all(v > 0 for v in ns.values())
    # 40x and 8x the loop trips of the small one: far beyond anything noise can reorder
    assert ns["k0_small"] < ns["k2_mid"] < ns["k1_big"]
    for fn, v in ns.items():
        nz = labels.noise[fn][TARGET]
        assert 0 < nz["empty_ns"] < v
        assert v <= nz["second_ns"] <= nz["median_ns"] <= nz["worst_ns"]
        assert nz["batch"] >= 1 and nz["repeats"] == 7 and len(nz["rerun_ns"]) == 1 and nz["rerun_ns"][0] > 0
    prov = labels.provenance[TARGET].to_json()
    assert "pinned to cpu" in prov["target"] and any("best of 7" in o for o in prov["options"])


def test_harness_draws_the_callgrind_harness_inputs():
    # the same generator and the same draws in the same order: the timed kernels see callgrind's data
    prog = cgen.generate_program(5)
    cg, tm = prog.harness(), timing_harness(prog)
    gen = "static unsigned next(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return (unsigned)(st >> 11); }"
    assert gen in cg and gen in tm
    for k in prog.kernels:
        v = k.ctype
        draw = f"({v})(next() % 97) - 40; "
        assert f"{v}_a[i] = {draw}" in cg and f"{v}_pa[i] = {draw}" in tm
    assert cg.count("next() % 97") == tm.count("next() % 97") == len(prog.kernels)


def test_parse_output():
    run = parse_output("C 20\nK k0_map 8.5 8.6 9.0 12.0 1500\nE double 1.5 1.5 1.6 2.0 60000\n")
    assert run.clock_ns == 20 and run.kernels["k0_map"].best == 8.5 and run.kernels["k0_map"].batch == 1500
    assert run.empty["double"].median == 1.6


def test_program_of_rows():
    assert program_of([{"origin": "cgen_000007"}]).source == cgen.generate_program(7).source
    with pytest.raises(Exception, match="origin"):
        program_of([{"origin": "tvm_matmul_1"}])


def test_relabel_adds_latency_to_a_tiny_dataset_and_labels_track_instruction_counts(tmp_path):
    for t in ("clang-22", "llc-22", "llvm-nm-22", "llvm-mca-22", "valgrind"):
        need_tool(t)
    out = tmp_path / "ds"
    # a dynamic build labels latency itself (and instructions executed, to compare with)
    build(out, shards=1, per_shard=1, configs_per_program=1, progress=False)
    built = load_rows(out)
    kernels = [r for r in built if TARGET in r["labels"]]
    assert len(kernels) >= 3 and all(r["labels"][TARGET] > 0 for r in kernels)
    assert all(TARGET in r["missing"] for r in built if TARGET not in r["labels"])    # helpers say why
    assert all(r["noise"][TARGET]["empty_ns"] < r["labels"][TARGET] for r in kernels)
    x = [r["labels"]["instructions_executed"] for r in kernels]
    y = [r["labels"][TARGET] for r in kernels]
    assert kendall_tau(x, y) > 0.3, list(zip(x, y, strict=True))
    # the dataset as it was before the latency labeller: relabel adds it, with provenance and noise
    shard, = sorted((out / "shards").glob("shard-*.jsonl"))
    rows = [json.loads(ln) for ln in shard.read_text().splitlines()]
    for r in rows:
        r["labels"].pop(TARGET, None)
        r["provenance"].pop(TARGET, None)
        r.pop("noise", None)
        r.get("missing", {}).pop(TARGET, None)
        if not r.get("missing"):
            r.pop("missing", None)
    shard.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    s1 = relabel(out, labeller="latency", progress=False)
    assert s1["rewritten"] == 1 and s1["counts"]["labelled"] == len(kernels)
    again = load_rows(out)
    for r in again:
        if r["function"] in {k["function"] for k in kernels}:
            assert r["labels"][TARGET] > 0 and r["provenance"][TARGET]["tool"] == "irtools latency harness"
            assert r["noise"][TARGET]["rerun_ns"]
        else:
            assert "not a kernel" in r["missing"][TARGET]
    nf = noise_floor(again)
    assert nf["n"] == len(kernels) and nf["label_to_label_mape"] >= 0
    assert compare_labellings(built, again)["n"] == len(kernels)
    s2 = relabel(out, labeller="latency", progress=False)
    assert s2["rewritten"] == 0 and s2["skipped"] == 1
    # a second labelling replaces the first, label for label, and leaves the helpers' reasons
    s3 = relabel(out, labeller="latency", progress=False, redo=True)
    assert s3["rewritten"] == 1 and s3["counts"]["labelled"] == len(kernels)
    redone = load_rows(out)
    assert compare_labellings(again, redone)["n"] == len(kernels)
    assert [sorted(r.get("missing", {})) for r in redone] == [sorted(r.get("missing", {})) for r in again]


def test_default_model_predicts_latency_with_intervals():
    from irtoolkit import costmodel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    m = costmodel.load()
    if TARGET not in m.target_names:
        pytest.skip("the shipped model predates latency_ns")
    ir = """
define double @sum(ptr %a, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
  %s = phi double [ 0.0, %entry ], [ %s1, %loop ]
  %p = getelementptr double, ptr %a, i64 %i
  %x = load double, ptr %p
  %s1 = fadd double %s, %x
  %i1 = add i64 %i, 1
  %c = icmp slt i64 %i1, 4096
  br i1 %c, label %loop, label %exit
exit:
  ret double %s1
}
"""
    (p,) = m.predict(ir, target=TARGET)
    tp = p.values[TARGET]
    assert tp.value > 0 and tp.lo <= tp.value <= tp.hi
    assert p.to_json()[TARGET]["unit"] == "ns"
