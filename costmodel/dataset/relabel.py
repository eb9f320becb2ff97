"""Adding a label to a dataset that already exists, shard by shard, without rebuilding it.

    .venv/bin/python -m irtoolkit.costmodel.dataset.relabel build/costmodel-dataset --labeller mca_loops [--jobs 2]

Each shard's rows are labelled from the IR modules they name (``ir/*.ll``, kept by the build for
exactly this), and the shard is rewritten atomically with the new label, its provenance, or the
reason it is absent (``row["missing"][target]``).  A shard whose rows all have the label or a reason
is done and skipped, so an interrupted run resumes, and a second run does nothing.

``--labeller latency`` (``irtoolkit.costmodel.dataset.latency``) runs the programs: it is handed each shard's
modules with their rows at once (``label_many``: ``origin`` is ``cgen_<seed>``, and the timed runs of
the shard's modules are interleaved), and writes its noise-floor measurements to
``row["noise"]["latency_ns"]``.  Use ``--jobs 1``: two timing processes on two cores disturb each other.
``--redo`` labels every row again (on a copy: a second labelling, to compare with the first using
``python -m irtoolkit.costmodel.dataset.latency DATASET --against COPY``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from irtools.errors import IrtoolsError

from .. import tools
from .labellers import McaLoopLabeller
from .latency import LatencyLabeller

# labeller name on the command line → (factory, tool versions to record in meta.json)
LABELLERS = {McaLoopLabeller.name: (McaLoopLabeller, ("llvm-mca-22",)),
             LatencyLabeller.name: (LatencyLabeller, ("clang-22", "llc-22"))}


def _done(row: dict, targets: tuple[str, ...]) -> bool:
    return "error" in row or all(t in row.get("labels", {}) or t in row.get("missing", {}) for t in targets)


def _relabel_shard(args: tuple[str, str, str, bool]) -> tuple[Counter, bool]:
    out_s, shard_s, which, redo = args
    out, shard = Path(out_s), Path(shard_s)
    labeller = LABELLERS[which][0]()
    rows = [json.loads(ln) for ln in shard.read_text().splitlines() if ln.strip()]
    counts: Counter = Counter()
    if not redo and all(_done(r, labeller.targets) for r in rows):
        return counts, False
    by_module: dict[str, list[dict]] = {}
    for r in rows:
        if "error" not in r:
            by_module.setdefault(r["ir_file"], []).append(r)
    with tempfile.TemporaryDirectory(prefix="costmodel-relabel-") as td:
        modules = sorted(by_module.items())
        # a labeller that times programs labels the shard's modules together (their runs interleaved)
        many = labeller.label_many([(out / rel, Path(td, str(i)), mrows) for i, (rel, mrows) in enumerate(modules)]) \
            if hasattr(labeller, "label_many") else None
        for i, (rel, mrows) in enumerate(modules):
            try:
                if many is not None:
                    if isinstance(many[i], IrtoolsError):
                        raise many[i]
                    labels = many[i]
                else:
                    labels = labeller.label(out / rel, Path(td, str(i)))
            except tools.ToolMissing:
                raise    # not a property of the module: recording it as a reason would mark the shard done
            except IrtoolsError as e:
                # a module the tool rejects leaves its rows unlabelled with the tool's own words
                labels = None
                why = str(e).splitlines()[0]
            for r in mrows:
                for t in labeller.targets:
                    # a redo must not leave the old label beside a new reason for its absence
                    for part in ("labels", "provenance", "missing", "noise"):
                        r.get(part, {}).pop(t, None)
                    fn = r["function"]
                    if labels is None:
                        reason = why
                    elif t in labels.values.get(fn, {}):
                        r["labels"][t] = labels.values[fn][t]
                        r.setdefault("provenance", {})[t] = labels.provenance[t].to_json()
                        noise = getattr(labels, "noise", {}).get(fn, {}).get(t)
                        if noise is not None:
                            r.setdefault("noise", {})[t] = noise
                        counts["labelled"] += 1
                        continue
                    else:
                        reason = labels.missing.get(fn, {}).get(t, "function not in the tool's output")
                    r.setdefault("missing", {})[t] = reason
                    counts[f"missing: {reason.splitlines()[0][:120]}"] += 1
                for part in ("missing", "noise"):
                    if not r.get(part):
                        r.pop(part, None)
    tmp = shard.with_suffix(".tmp")
    with tmp.open("w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    os.replace(tmp, shard)
    return counts, True


def relabel(path: str | os.PathLike, *, labeller: str = McaLoopLabeller.name, jobs: int = 1, progress: bool = True,
            redo: bool = False) -> dict:
    """Add ``labeller``'s targets to every row of the dataset at ``path``; returns a summary.

    ``redo`` labels rows that already have the targets again (a second labelling of a copy, to measure
    how far two labellings of a timed target lie apart)."""
    if labeller not in LABELLERS:
        raise IrtoolsError(f"unknown labeller {labeller!r} ({', '.join(LABELLERS)})")
    for t in LABELLERS[labeller][1]:
        tools.require(t)
    outp = Path(path)
    shards = sorted(Path(outp, "shards").glob("shard-*.jsonl"))
    if not shards:
        raise IrtoolsError(f"{outp} has no shards")
    meta_path = outp / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        meta.setdefault("tools", {}).update({t: tools.version(t) for t in LABELLERS[labeller][1]})
        tmp = meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, meta_path)
    summary = {"shards": len(shards), "skipped": 0, "rewritten": 0, "counts": Counter()}
    work = [(str(outp), str(s), labeller, redo) for s in shards]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    cols = [TextColumn(f"[bold]relabel {labeller}"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"),
            TimeRemainingColumn()]
    with Progress(*cols, disable=not progress, transient=False) as bar:
        task = bar.add_task("shards", total=len(shards))
        pool = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
        results: Iterator = pool.map(_relabel_shard, work) if pool else map(_relabel_shard, work)
        try:
            for counts, wrote in results:
                summary["rewritten" if wrote else "skipped"] += 1
                summary["counts"].update(counts)
                bar.advance(task)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    summary["counts"] = dict(summary["counts"])
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m irtoolkit.costmodel.dataset.relabel", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", help="dataset folder (meta.json, ir/, shards/)")
    ap.add_argument("--labeller", default=McaLoopLabeller.name, choices=sorted(LABELLERS))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--redo", action="store_true", help="label rows that already have the targets again")
    args = ap.parse_args(argv)
    s = relabel(args.dataset, labeller=args.labeller, jobs=args.jobs, redo=args.redo)
    print(json.dumps(s, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
