"""Labelling a built package: its IR modules, de-duplicated, and one row per defined function.

Labels are the static CPU labels every other source has (``llc-22`` remarks, ``llvm-nm-22`` symbol
sizes, ``llvm-mca-22`` on the innermost loops), made at the package's own optimisation level (the
last ``-O`` of its compile command; ``-Os``/``-Oz`` code keeps its size attributes and is labelled
by ``llc -O2``).  A module llc rejects is recorded, not fatal.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path

from ... import tools
from ..labellers import LabelError, LlcStaticLabeller, McaLoopLabeller
from .wrapper import opt_level

STATIC_TARGETS = ("machine_instructions", "spills", "reloads", "stack_bytes", "text_bytes",
                  "mca_inner_loop_rthroughput")
_DEFINE = re.compile(r"^define\b[^\n]*?@(\"[^\"]+\"|[-\w$.]+)\(", re.M)


def function_bodies(text: str) -> dict[str, str]:
    """Name → sha256 of each ``define``'s text (what makes two functions "the same function")."""
    out: dict[str, str] = {}
    starts = [(m.start(), m.group(1).strip('"')) for m in _DEFINE.finditer(text)]
    for i, (s, name) in enumerate(starts):
        end = text.find("\n}\n", s)
        end = len(text) if end < 0 else end + 3
        if i + 1 < len(starts):
            end = min(end, starts[i + 1][0])
        out[name] = hashlib.sha256(text[s:end].encode()).hexdigest()[:24]
    return out


def collect_modules(ir_dir: Path) -> list[dict]:
    """The side-compiled modules of one build, one per distinct IR text."""
    seen: set[str] = set()
    mods = []
    for meta_f in sorted(ir_dir.glob("*.json")):
        if meta_f.name.endswith(".failed.json"):
            continue
        ll = meta_f.with_suffix(".ll")
        if not ll.is_file():
            continue
        text = ll.read_text(errors="replace")
        sha = hashlib.sha256(text.encode()).hexdigest()
        if sha in seen:
            continue
        seen.add(sha)
        meta = json.loads(meta_f.read_text())
        mods.append({"ir_sha256": sha, "text": text, "source_file": meta.get("source_rel", meta["source"]),
                     "lang": meta["lang"], "compiler": meta["compiler"],
                     "flags": json.dumps(meta["ir_args"]), "opt": opt_level(meta["ir_args"])})
    return mods


def label_modules(mods: list[dict], common: dict) -> tuple[list[dict], list[str]]:
    """Function rows of ``mods`` (dicts as :func:`collect_modules` makes) and the modules' errors."""
    rows, errors = [], []
    versions = {t: tools.version(t) for t in ("llc-22", "llvm-nm-22", "llvm-mca-22")}
    with tempfile.TemporaryDirectory(prefix="irtools-label-") as td:
        for i, m in enumerate(mods):
            cdir = Path(td, f"m{i}")
            cdir.mkdir()
            ll = cdir / "mod.ll"
            ll.write_text(m["text"])
            try:
                labels, _obj = LlcStaticLabeller(opt=m["opt"]).label(ll, cdir)
            except LabelError as e:
                errors.append(f"{m['source_file']}: {str(e).splitlines()[0][:300]}")
                continue
            try:
                labels.merge(McaLoopLabeller(opt=m["opt"]).label(ll, cdir))
            except LabelError as e:
                why = str(e).splitlines()[0][:200]
                for fn in labels.values:
                    labels.missing.setdefault(fn, {})["mca_inner_loop_rthroughput"] = why
            bodies = function_bodies(m["text"])
            for fn, vals in sorted(labels.values.items()):
                if fn not in bodies:
                    continue     # llc names a function the module only declares (none today) — skip
                rows.append({**common, "ir_sha256": m["ir_sha256"], "source_file": m["source_file"],
                             "lang": m["lang"], "compiler": m["compiler"], "flags": m["flags"], "opt": m["opt"],
                             "function": fn, "function_sha": bodies[fn],
                             **{t: vals.get(t) for t in STATIC_TARGETS},
                             "missing": json.dumps(labels.missing.get(fn, {})),
                             "provenance": json.dumps({t: labels.provenance[t].to_json() for t in vals
                                                       if t in labels.provenance} | {"versions": versions})})
    return rows, errors
