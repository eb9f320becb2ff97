"""Dataset building: rows record their provenance; an interrupted build resumes shard by shard."""

from __future__ import annotations

import json

import pytest
from conftest import need_tool

from irtoolkit.costmodel.dataset import cgen
from irtoolkit.costmodel.dataset.build import build, load_rows
from irtoolkit.costmodel.dataset.relabel import relabel
from irtools.errors import IrtoolsError

MCA = "mca_inner_loop_rthroughput"


def test_generator_is_deterministic_and_varied():
    a, b = cgen.generate_program(11), cgen.generate_program(11)
    assert a.source == b.source and a.harness() == b.harness()
    sources = {cgen.generate_program(s).source_hash for s in range(40)}
    assert len(sources) == 40
    fams = {k.family for s in range(40) for k in cgen.generate_program(s).kernels}
    assert len(fams) >= 10


def test_build_rows_and_resume(tmp_path):
    for t in ("clang-22", "llc-22", "llvm-nm-22"):
        need_tool(t)
    out = tmp_path / "ds"
    s1 = build(out, shards=2, per_shard=1, configs_per_program=1, dynamic=False, progress=False)
    assert s1["skipped"] == 0 and s1["rows"] > 0 and not s1["errors"]
    rows = load_rows(out)
    assert len(rows) == s1["rows"]
    r = rows[0]
    assert r["origin"].startswith("cgen_") and (out / r["ir_file"]).is_file()
    assert {"machine_instructions", "spills", "text_bytes"} <= set(r["labels"])
    prov = r["provenance"]["machine_instructions"]
    assert prov["tool"] == "llc-22" and prov["version"] and prov["target"]
    assert r["producer"]["tool"] == "clang-22"
    # interrupted: one shard lost; the next run rebuilds only that one and leaves the other untouched
    keep, lost = sorted((out / "shards").glob("shard-*.jsonl"))
    mtime = keep.stat().st_mtime_ns
    before = lost.read_text()
    lost.unlink()
    s2 = build(out, shards=2, per_shard=1, configs_per_program=1, dynamic=False, progress=False)
    assert s2["skipped"] == 1
    assert keep.stat().st_mtime_ns == mtime
    assert lost.read_text() == before            # same seed, same tools: the same rows again
    meta = json.loads((out / "meta.json").read_text())
    assert meta["tools"]["llc-22"].startswith("Debian LLVM version 22")
    assert meta["generator"] == "irtoolkit.costmodel.dataset.cgen"
    # a dataset built before the apps moved under irtoolkit names its generator by the old module path:
    # it resumes all the same (and says the new name from then on); another generator is refused
    (out / "meta.json").write_text(json.dumps(dict(meta, generator="costmodel.dataset.cgen")))  # rename: keep
    lost.unlink()
    s3 = build(out, shards=2, per_shard=1, configs_per_program=1, dynamic=False, progress=False)
    assert s3["skipped"] == 1 and lost.read_text() == before
    assert json.loads((out / "meta.json").read_text())["generator"] == "irtoolkit.costmodel.dataset.cgen"
    (out / "meta.json").write_text(json.dumps(dict(meta, generator="costmodel.dataset.tvmgen")))  # rename: keep
    with pytest.raises(IrtoolsError, match="other settings"):
        build(out, shards=2, per_shard=1, configs_per_program=1, dynamic=False, progress=False)


def test_relabel_adds_mca_label_to_an_old_dataset_and_resumes(tmp_path):
    for t in ("clang-22", "llc-22", "llvm-nm-22", "llvm-mca-22"):
        need_tool(t)
    out = tmp_path / "ds"
    build(out, shards=2, per_shard=1, configs_per_program=1, dynamic=False, progress=False)
    built = load_rows(out)
    # new builds label it: a value with llvm-mca provenance, or a reason it is absent
    assert all((MCA in r["labels"]) != (MCA in r.get("missing", {})) for r in built)
    assert any(MCA in r["labels"] for r in built)
    r = next(r for r in built if MCA in r["labels"])
    assert r["labels"][MCA] > 0 and r["provenance"][MCA]["tool"] == "llvm-mca-22"
    # a dataset built before the label existed: the same rows without it
    shards = sorted((out / "shards").glob("shard-*.jsonl"))
    for sh in shards:
        rows = [json.loads(ln) for ln in sh.read_text().splitlines()]
        for row in rows:
            row["labels"].pop(MCA, None)
            row["provenance"].pop(MCA, None)
            row.pop("missing", None)
        sh.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    s1 = relabel(out, progress=False)
    assert s1["rewritten"] == 2 and s1["skipped"] == 0 and s1["counts"]["labelled"] > 0
    assert load_rows(out) == built          # the same labels a fresh build gives
    mtimes = [sh.stat().st_mtime_ns for sh in shards]
    s2 = relabel(out, progress=False)
    assert s2["rewritten"] == 0 and s2["skipped"] == 2 and not s2["counts"]
    assert [sh.stat().st_mtime_ns for sh in shards] == mtimes
    assert "llvm-mca-22" in json.loads((out / "meta.json").read_text())["tools"]
