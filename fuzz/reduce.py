"""Reduce a finding: delta debugging of the pass list, then of the IR, keeping the signature.

Each candidate runs as a normal case in a fork server (no IR mutation), and counts only if the
oracle gives the same signature.  The reduced case replaces ``case.tir``/``passes.json``; the
originals are kept as ``case.orig.tir``/``passes.orig.json``.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from . import findings as F
from .oracles import classify
from .worker import WorkerPool


class _Tester:
    def __init__(self, pool: WorkerPool, sig: str, seed: int, seed_name: str, deadline: float, timeout: float,
                 cls: str = "bug"):
        self.pool, self.sig, self.seed, self.seed_name, self.cls = pool, sig, seed, seed_name, cls
        self.deadline, self.timeout, self.tests = deadline, timeout, 0
        self.last = None

    def __call__(self, text: str, passes: list) -> bool:
        if time.time() > self.deadline:
            return False
        self.tests += 1
        self.pool.submit(0, {"id": self.tests, "text": text, "passes": passes, "seed": self.seed,
                             "seed_name": self.seed_name, "ir_mutations": 0, "ir_mutated": True,
                             "timeout": self.timeout})
        (_, reply), = self.pool.collect(timeout=self.timeout + 30)
        # the same signature *and* class: a step may not turn a bug into misuse, nor add UB (a
        # mismatch of a program with UB is no verdict at all)
        v = classify(reply, passes)
        ok = v is not None and F.signature(v) == self.sig and v.triage.cls == self.cls
        if ok:
            self.last = v  # the verdict on the smallest case so far: the report describes it
        return ok


def ddmin(items: list, test) -> list:
    """Zeller's ddmin: a 1-minimal sub-list for which ``test`` still holds."""
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        parts = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        done = False
        for k in range(len(parts)):
            complement = [x for j, p in enumerate(parts) if j != k for x in p]
            if test(complement):
                items, n, done = complement, max(n - 1, 2), True
                break
        if not done:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


def reduce_ir(text: str, test, rounds: int = 40) -> str:
    """Greedy statement deletion / hoisting (each step keeps the signature)."""
    from .mutate import ir

    for _ in range(rounds):
        func = ir.parse(text)
        progressed = False
        sites = ir._stmt_sites(func, ("SeqStmt", "IfThenElse", "AttrStmt", "For"))
        cands = []
        for site in sites:
            s = site.stmt
            name = type(s).__name__
            if name == "SeqStmt":
                for k in range(len(s.seq)):
                    seq = [x for j, x in enumerate(s.seq) if j != k]
                    cands.append((s, seq))
            elif name in ("IfThenElse", "AttrStmt"):
                cands.append((s, s.then_case if name == "IfThenElse" else s.body))
        for target, new in cands:
            try:
                from tvm import tirx

                if isinstance(new, list):
                    new = new[0] if len(new) == 1 else tirx.SeqStmt(new)
                cand = func.with_body(ir.replace(func.body, target, new)).script()
                ir.parse(cand)
            except Exception:
                continue
            if len(cand) < len(text) and test(cand, None):
                text, progressed = cand, True
                break
        if not progressed:
            break
    return text


def _seed_text(name: str) -> str | None:
    from .tvm.seeds import build_seeds

    return next((s.script for s in build_seeds() if s.name == name), None)


def reduce_finding(path, *, workers: int = 1, budget_s: float = 120.0, pool: WorkerPool | None = None) -> str:
    path = Path(path)
    meta = json.loads((path / "meta.json").read_text())
    text = (path / "case.tir").read_text()
    passes = json.loads((path / "passes.json").read_text())
    own = pool is None
    pool = pool or WorkerPool(1, bitmap=None, coverage=False)
    try:
        t = _Tester(pool, meta["signature"], meta["seed"], meta.get("seed_name", ""), time.time() + budget_s, 10.0,
                    meta.get("class", "bug"))
        if not t(text, passes):
            return f"{path.name}: does not reproduce in a fresh worker; left as found"
        small = ddmin(passes, lambda p: t(text, p))
        seed_text = _seed_text(meta.get("seed_name", ""))
        if seed_text and seed_text != text and t(seed_text, small):
            text_in = seed_text  # the bug needs no IR mutation at all: report the plain operator
        else:
            text_in = text
        small_text = reduce_ir(text_in, lambda c, _: t(c, small))
    finally:
        if own:
            pool.close()
    if not (path / "case.orig.tir").exists():
        F.atomic_write(path / "case.orig.tir", text)
        F.atomic_write(path / "passes.orig.json", json.dumps(passes, indent=1))
    F.atomic_write(path / "case.tir", small_text)
    F.atomic_write(path / "passes.json", json.dumps(small, indent=1))
    if t.last is not None:  # blame, message and notes of the reduced case, not of the original
        v = t.last
        meta.update(message=v.message, blamed_pass={"index": v.pass_index, "name": v.pass_name},
                    notes=list(v.notes), reasons=list(v.triage.reasons))
    meta.update(reduced=True, reduction={"passes": [len(passes), len(small)], "ir_chars": [len(text), len(small_text)],
                                         "tests": t.tests})
    F.atomic_write(path / "meta.json", json.dumps(meta, indent=1))
    F.rewrite_reproducer(path)
    return (f"{path.name}: pass list {len(passes)} -> {len(small)}, IR {len(text)} -> {len(small_text)} chars "
            f"({t.tests} tests)")


def reduce_all(campaign_dir, *, budget_s: float) -> list[str]:
    root = Path(campaign_dir) / "findings"
    todo = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")
            and not json.loads((d / "meta.json").read_text()).get("reduced")]
    if not todo:
        return []
    out = []
    pool = WorkerPool(1, bitmap=None, coverage=False)
    try:
        end = time.time() + budget_s
        random.Random(0).shuffle(todo)
        for d in todo:
            left = end - time.time()
            if left <= 1:
                break
            out.append(reduce_finding(d, budget_s=left / max(1, len(todo)) * 2, pool=pool))
    finally:
        pool.close()
    return out
