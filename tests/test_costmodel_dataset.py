"""Dataset building: rows record their provenance; an interrupted build resumes shard by shard."""

from __future__ import annotations

import json

from conftest import need_tool

from costmodel.dataset import cgen
from costmodel.dataset.build import build, load_rows


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
