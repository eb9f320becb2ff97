"""MLIR dataset generator: real mlir-opt-22 lowerings labelled by llc-22; rows the C-trained model reads."""

from __future__ import annotations

import json

from conftest import need_tool

from irtoolkit import costmodel
from irtoolkit.costmodel.dataset import mlirgen
from irtoolkit.costmodel.dataset.build import build, load_rows
from irtools import parse_llvm

TOOLS = ("mlir-opt-22", "mlir-translate-22", "llc-22", "llvm-nm-22", "llvm-mca-22")


def test_generator_is_deterministic_and_covers_the_families():
    assert mlirgen.generate(5).source == mlirgen.generate(5).source
    assert len({mlirgen.generate(s).source_hash for s in range(30)}) == 30
    fams = {k.family for s in range(30) for k in mlirgen.generate(s).kernels}
    assert fams == set(mlirgen.FAMILIES)
    cfgs = mlirgen.lowerings(3, 4)
    assert cfgs[0] == mlirgen.BASELINE and len({json.dumps(c, sort_keys=True) for c in cfgs}) == 4
    assert cfgs == mlirgen.lowerings(3, 4)


def test_tiling_and_unrolling_change_a_matmul(tmp_path):
    for t in TOOLS[:3]:
        need_tool(t)
    from irtoolkit.costmodel.dataset.labellers import LlcStaticLabeller

    src = mlirgen.Program("mm", 0, [mlirgen.Kernel(
        "mm", "matmul", "  func.func @mm(%A: memref<32x48xf32>, %B: memref<48x16xf32>, %C: memref<32x16xf32>) {\n"
        "    linalg.matmul ins(%A, %B : memref<32x48xf32>, memref<48x16xf32>) outs(%C : memref<32x16xf32>)\n"
        "    return\n  }\n")]).source
    counts = {}
    for name, cfg in {"base": mlirgen.BASELINE, "tiled": {"tile": 8, "vector": 0, "unroll": 1},
                      "unrolled": {"tile": 0, "vector": 0, "unroll": 4}}.items():
        d = tmp_path / name
        text = mlirgen.lower(src, cfg, d)
        assert "define void @mm(" in text and "_mlir_ciface" not in text
        labels, _ = LlcStaticLabeller().label(d / "prog.ll", d)
        counts[name] = labels.values["mm"]["machine_instructions"]
    assert counts["tiled"] != counts["base"] and counts["unrolled"] > counts["base"]


def test_mlir_dataset_rows_parse_and_the_model_reads_them(tmp_path):
    for t in TOOLS:
        need_tool(t)
    out = tmp_path / "ds"
    s = build(out, shards=1, per_shard=4, configs_per_program=3, source="mlir", progress=False)
    rows = load_rows(out)
    assert s["rows"] == len(rows) > 0
    # a rejected lowering is a record with mlir-opt's reason, never a lost shard
    assert all("skipped mlir-opt-22 rejected" in e for e in s["errors"])
    assert len({r["family"] for r in rows}) >= 2
    meta = json.loads((out / "meta.json").read_text())
    assert meta["generator"] == "irtoolkit.costmodel.dataset.mlirgen" and set(TOOLS) <= set(meta["tools"])
    assert meta["dynamic"] is False
    parsed: dict[str, set[str]] = {}
    for r in rows:
        assert r["source"] == "mlir" and r["origin"].startswith("mlir_")
        assert r["producer"]["tool"] == "mlir-opt-22+mlir-translate-22"
        assert any(f.startswith("--pass-pipeline=") for f in r["producer"]["flags"])
        assert set(r["config"]) == {"tile", "vector", "unroll"}
        if r["ir_file"] not in parsed:
            mod = parse_llvm((out / r["ir_file"]).read_text())
            parsed[r["ir_file"]] = {f.name for f in mod.functions}
        assert r["function"] in parsed[r["ir_file"]]
        lab = r["labels"]
        assert lab["machine_instructions"] > 0 and lab["text_bytes"] > 0
        assert lab["spills"] >= 0 and lab["stack_bytes"] >= 0
        assert "latency_ns" not in lab and "callgrind_instructions" not in lab
        assert r["provenance"]["machine_instructions"]["tool"] == "llc-22"
    # the shipped model (trained on C and TVM rows) still reads MLIR-lowered IR and says how far off it is
    r = rows[0]
    preds = costmodel.load().predict((out / r["ir_file"]).read_text())
    p = next(p for p in preds if p.function == r["function"])
    assert p.values["machine_instructions"].value > 0 and isinstance(p.ood, bool)
