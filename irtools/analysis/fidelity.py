"""Compare irtools' func-properties (or, with ``--cfg``, dominator trees and loops) with opt-22's.

    .venv/bin/python -m irtools.analysis.fidelity ../shared/corpus/llvm --files 400 [--per-file 2] [--json out.json]
    .venv/bin/python -m irtools.analysis.fidelity ../shared/corpus/llvm --files 1000 --cfg

Files are taken in sha1-of-relative-path order (deterministic, spread over every folder).
A function is left out only by :func:`exclusion_reason`; files opt-22 itself rejects are
counted apart.  Prints totals and every mismatch; exit status 1 when any function differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cfg import CFG
from .dominators import DominatorTree
from .features import folding_hazards, module_properties, target_intrinsic_calls
from .llvm_reference import OptError, func_properties, parse_domtree, parse_loops, run_opt
from .loops import LoopInfo

__all__ = ["FileResult", "compare_cfg_file", "compare_file", "exclusion_reason", "sample_files"]


def exclusion_reason(fn) -> str | None:
    """Why a function's properties cannot be expected to equal opt's, or None.

    * it is unnamed (``define void @0()``): opt prints ``''`` for every such function, so its
      numbers cannot be told apart from another unnamed function's;
    * it calls a target-specific intrinsic (``llvm.x86.*``, ``llvm.aarch64.*``...) or an
      intrinsic declared to return an identified struct: LLVM's reader rewrites such calls
      into other calls or extra instructions (AutoUpgrade), which irtools does not replay;
    * an operand is a constant expression whose class depends on LLVM's constant folder in a
      way irtools does not model (:func:`irtools.analysis.features.folding_hazards`).
    """
    if not fn.name:
        return "unnamed"
    if target_intrinsic_calls(fn):
        return "reader-upgrade"
    if folding_hazards(fn):
        return "constant-folding"
    return None


@dataclass
class FileResult:
    path: str
    compared: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    mismatches: list[tuple[str, dict[str, tuple[int | None, int | None]]]] = field(default_factory=list)
    opt_error: str | None = None


def compare_file(path: Path, names: set[str] | None = None, module=None) -> FileResult:
    """Compare the defined functions of one file (or only ``names``) with opt-22."""
    from irtools import parse_llvm

    res = FileResult(str(path))
    try:
        ref = func_properties(path)
    except OptError as e:
        res.opt_error = str(e)
        return res
    mod = module if module is not None else parse_llvm(Path(path).read_bytes(), path=path)
    ours = module_properties(mod)
    for fn in mod.functions:
        if fn.is_declaration or (names is not None and fn.name not in names):
            continue
        why = exclusion_reason(fn)
        if why:
            res.excluded[why] = res.excluded.get(why, 0) + 1
            continue
        res.compared += 1
        a, b = ours[fn.name], ref.get(fn.name, {})
        if a != b:
            res.mismatches.append((fn.name, {k: (a.get(k), b.get(k)) for k in {*a, *b} if a.get(k) != b.get(k)}))
    return res


def compare_cfg_file(path: Path, module=None) -> FileResult:
    """Compare dominator trees and loops of every defined function with opt-22's printers."""
    from irtools import parse_llvm

    res = FileResult(str(path))
    try:
        text = run_opt(path, "print<domtree>,print<loops>")
    except OptError as e:
        res.opt_error = str(e)
        return res
    doms, loops = parse_domtree(text), parse_loops(text)
    mod = module if module is not None else parse_llvm(Path(path).read_bytes(), path=path)
    for fn in mod.functions:
        if fn.is_declaration:
            continue
        if not fn.name:
            res.excluded["unnamed"] = res.excluded.get("unnamed", 0) + 1
            continue
        cfg = CFG.from_function(fn)
        dt = DominatorTree(cfg)
        spell = [cfg.spelling(b) for b in range(len(cfg))]
        ours = {spell[b]: (spell[d] if d is not None else None) for b, d in enumerate(dt.idom) if dt.is_reachable(b)}
        res.compared += 1
        diff = {}
        if ours != doms.get(fn.name):
            diff["domtree"] = (len(ours), len(doms.get(fn.name, {})))
        if LoopInfo(cfg, dt).format_llvm() != loops.get(fn.name):
            diff["loops"] = (None, None)
        if diff:
            res.mismatches.append((fn.name, diff))
    return res


def sample_files(root: Path, n: int | None = None) -> list[Path]:
    files = sorted(root.rglob("*.ll"), key=lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).digest())
    return files if n is None else files[:n]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path, help=".ll files or folders")
    ap.add_argument("--files", type=int, help="files per folder, in sha1 order (default: all)")
    ap.add_argument("--per-file", type=int, help="functions per file, first by sha1 of name (default: all)")
    ap.add_argument("--json", type=Path, help="write the totals and mismatches here")
    ap.add_argument("--cfg", action="store_true",
                    help="compare dominator trees and loops (print<domtree>, print<loops>) instead")
    args = ap.parse_args(argv)

    from irtools import parse_llvm

    files: list[Path] = []
    for p in args.paths:
        files.extend(sample_files(p, args.files) if p.is_dir() else [p])
    t0 = time.perf_counter()
    compared, excluded, rejected, bad = 0, {}, [], []
    for path in files:
        mod = parse_llvm(path.read_bytes(), path=path)
        names = None
        if args.per_file:
            names = set(sorted((f.name for f in mod.functions if not f.is_declaration),
                               key=lambda s: hashlib.sha1(s.encode()).digest())[:args.per_file])
        r = compare_cfg_file(path, mod) if args.cfg else compare_file(path, names, mod)
        if r.opt_error:
            rejected.append(str(path))
            continue
        compared += r.compared
        for k, v in r.excluded.items():
            excluded[k] = excluded.get(k, 0) + v
        for name, diff in r.mismatches:
            bad.append({"file": str(path), "function": name, "diff": diff})
            print(f"MISMATCH {path} @{name}: {diff}")
    secs = time.perf_counter() - t0
    summary = {"files": len(files), "functions_compared": compared, "excluded": excluded,
               "files_opt_rejects": len(rejected), "mismatches": len(bad), "seconds": round(secs, 2)}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({**summary, "mismatch_list": bad, "opt_rejected": rejected}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
