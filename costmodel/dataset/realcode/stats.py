"""ComPile-style statistics of a real-code corpus: build outcomes, sizes by language, opcodes, a plot.

Module counts come from ``irtools.ir.llvm.stats.summarize`` (what ``irtools stats`` prints), run on
each distinct module of the corpus.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np


def _reason_class(reason: str) -> str:
    """A failure reason's class for the README table (the first word of the reason, made readable)."""
    head = reason.split(":", 1)[0]
    if head == "build" and re.search(r"\b(dh_auto_test|test suite|make.*check)", reason):
        return "build: test step"
    return {"source": "source not fetched", "build-deps": "build-deps not installable",
            "timeout": "build hung (time-out)", "build": "build failed", "crash": "task crashed"}.get(
        head, "no C/C++ code" if reason.startswith("no C/C++") else head)


def corpus_stats(root: str | Path, *, with_modules: bool = True) -> dict:
    import pyarrow.parquet as pq

    import irtools
    from irtools.errors import IrtoolsError
    from irtools.ir.llvm.stats import summarize

    root = Path(root)
    results = [json.loads(f.read_text()) for f in sorted(root.glob("packages/*/result.json"))]
    status = Counter(r["status"] for r in results)
    reasons = Counter(_reason_class(r["reason"]) for r in results if r["status"] != "built")
    by_lang: dict[str, Counter] = {}
    opcodes: Counter = Counter()
    sizes: list[int] = []
    parse_errors = 0
    fn_rows = fn_unique = 0
    shas: set[str] = set()
    labelled_pk = 0
    executed: Counter = Counter()
    for r in results:
        d = root / "packages" / r["package"]
        if (d / "executed.json").is_file():
            x = json.loads((d / "executed.json").read_text())
            executed[x["status"]] += 1
            executed["functions"] += x.get("functions", 0)
        # a package whose every side compile failed is labelled with an empty table (no columns either)
        if (d / "functions.parquet").is_file() and "function_sha" in pq.read_schema(d / "functions.parquet").names:
            t = pq.read_table(d / "functions.parquet", columns=["function_sha"])
            fn_rows += t.num_rows
            shas.update(t.column("function_sha").to_pylist())
            labelled_pk += t.num_rows > 0
        if not with_modules or not (d / "modules.parquet").is_file():
            continue
        mt = pq.read_table(d / "modules.parquet", columns=["text", "lang"])
        for lang in set(mt.column("lang").to_pylist()):
            by_lang.setdefault(lang, Counter())["packages"] += 1
        for text, lang in zip(mt.column("text").to_pylist(), mt.column("lang").to_pylist(), strict=True):
            c = by_lang.setdefault(lang, Counter())
            c["modules"] += 1
            c["bytes"] += len(text.encode())
            try:
                s = summarize(irtools.parse_llvm(text))
            except IrtoolsError:
                parse_errors += 1
                continue
            c["functions"] += s["functions"]
            c["instructions"] += s["instructions"]
            opcodes.update(s["opcodes"])
            sizes += s["function_sizes"]
    fn_unique = len(shas)
    sz = np.array(sizes or [0])
    return {
        "packages": {"attempted": len(results), "built": status.get("built", 0),
                     "failed": len(results) - status.get("built", 0), "labelled": labelled_pk},
        "failure_reasons": dict(reasons.most_common()),
        "failures": {r["package"]: r["reason"] for r in results if r["status"] != "built"},
        "by_language": {k: dict(v) for k, v in sorted(by_lang.items())},
        "functions": {"labelled_rows": fn_rows, "unique": fn_unique},
        # the test suites under callgrind: packages by outcome, and functions with a per-call count
        "executed": dict(executed),
        "modules_parse_errors": parse_errors,
        "function_size": {"median": float(np.median(sz)), "p90": float(np.percentile(sz, 90)),
                          "max": int(sz.max()), "mean": float(sz.mean())},
        "opcodes_top": dict(opcodes.most_common(25)),
        "sizes": sizes,
    }


def markdown(st: dict) -> str:
    p = st["packages"]
    lines = ["| packages attempted | built | failed | labelled | labelled function rows | unique functions |",
             "|---|---|---|---|---|---|",
             f"| {p['attempted']} | {p['built']} | {p['failed']} | {p['labelled']} | "
             f"{st['functions']['labelled_rows']:,} | {st['functions']['unique']:,} |", "",
             "| failure reason | packages |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in st["failure_reasons"].items()]
    lines += ["", "| language | packages | modules | functions | IR instructions | IR bytes |",
              "|---|---|---|---|---|---|"]
    for lang, c in st["by_language"].items():
        lines.append(f"| {lang} | {c.get('packages', 0)} | {c.get('modules', 0):,} | {c.get('functions', 0):,} | "
                     f"{c.get('instructions', 0):,} | {c.get('bytes', 0) / 1e6:.1f} MB |")
    ex = st.get("executed") or {}
    if ex:
        runs = sum(v for k, v in ex.items() if k != "functions")
        lines += ["", f"Instructions executed (test suites under callgrind): {runs} packages run, "
                  f"{ex.get('labelled', 0) + ex.get('partial', 0)} labelled, {ex.get('functions', 0):,} functions "
                  "with a count per call; " + ", ".join(f"{k} {v}" for k, v in sorted(ex.items())
                                                      if k not in ("functions", "labelled")) + "."]
    fs = st["function_size"]
    lines += ["", f"Function size (IR instructions): median {fs['median']:.0f}, 90th percentile {fs['p90']:.0f}, "
              f"max {fs['max']:,}.", "", "Most frequent opcodes: " +
              ", ".join(f"{k} {v:,}" for k, v in list(st["opcodes_top"].items())[:12]) + "."]
    return "\n".join(lines) + "\n"


def plot(root: str | Path, out: str | Path, st: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = st or corpus_stats(root)
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    sizes = np.array(st["sizes"]) if st["sizes"] else np.array([1])
    a.hist(np.log10(np.maximum(sizes, 1)), bins=50, color="#3a6ea5")
    a.set_xlabel("IR instructions per function (log10)")
    a.set_ylabel("functions")
    a.set_title(f"Function sizes ({len(sizes):,} functions)")
    ops = list(st["opcodes_top"].items())[:20]
    b.barh([k for k, _ in ops][::-1], [v for _, v in ops][::-1], color="#a55a3a")
    b.set_title("Most frequent IR opcodes")
    b.set_xlabel("instructions")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
