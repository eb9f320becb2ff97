"""The bottom of the dataset layer: row records, the IR store, the static labels every source shares,
and reading a dataset folder back.  It imports no source and no builder, so every other dataset module
can import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from .. import tools
from .labellers import LabelError, Labels, LlcStaticLabeller, McaLoopLabeller

SCHEMA = 1


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def store_ir(out: Path, text: str) -> tuple[str, str]:
    """Keep ``text`` once under ``out/ir`` by its hash; (relative path, hash)."""
    sha = sha256_text(text)
    rel = f"ir/{sha[:20]}.ll"
    path = out / rel
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return rel, sha


def static_labels(ll: Path, cdir: Path, opt: str = "-O2"):
    """llc-22 remarks and symbol sizes, and the llvm-mca loop label where it can be made; and the object."""
    static, obj = LlcStaticLabeller(opt=opt).label(ll, cdir)
    try:
        return static.merge(McaLoopLabeller(opt=opt).label(ll, cdir)), obj
    except tools.ToolMissing:
        raise
    except LabelError as e:
        # the static labels stand; the rows say why the loop label is absent
        why = {McaLoopLabeller.target: str(e).splitlines()[0]}
        static.missing.update({fn: dict(why) for fn in static.values})
        return static, obj


def make_rows(labels: Labels, family, noise: dict | None = None, **common) -> list[dict]:
    """One row per labelled function.  ``common`` holds what the module's functions share (source,
    origin, origin_hash, config, producer, ir_file, ir_sha256); ``family`` is the kernel family, or a
    function that gives it per function name."""
    noise = noise or {}
    return [{"schema": SCHEMA, **common, "family": family(fn) if callable(family) else family, "function": fn,
             "labels": vals,
             "provenance": {t: labels.provenance[t].to_json() for t in vals if t in labels.provenance},
             **({"missing": labels.missing[fn]} if labels.missing.get(fn) else {}),
             **({"noise": noise[fn]} if fn in noise else {})}
            for fn, vals in sorted(labels.values.items())]


def or_skip(seed: int, skipped: list[str] | None, make, *args, **kw):
    """``make(*args, **kw)``, or None when a tool rejects this sample (its reason goes to ``skipped``);
    a missing tool still stops the build."""
    try:
        return make(*args, **kw)
    except tools.ToolMissing:
        raise
    except LabelError as e:
        if skipped is not None:
            skipped.append(f"seed {seed}: skipped {e}")
        return None


def shard_path(out: Path, idx: int) -> Path:
    return out / "shards" / f"shard-{idx:05d}.jsonl"


def load_rows(path: str | os.PathLike) -> list[dict]:
    """Every labelled row of a dataset folder (error records left out)."""
    rows = []
    for shard in sorted(Path(path, "shards").glob("shard-*.jsonl")):
        for line in shard.read_text().splitlines():
            r = json.loads(line)
            if "error" not in r:
                rows.append(r)
    return rows


def remove(path: str | os.PathLike) -> None:
    shutil.rmtree(path, ignore_errors=True)
