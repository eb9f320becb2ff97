"""The dataset layer has no import cycle (function-level imports included), and every source and
labeller has one name that the targets, the registry and relabel share."""

from __future__ import annotations

import ast
from pathlib import Path

from irtoolkit.costmodel import targets
from irtoolkit.costmodel.dataset import labellers, latency, relabel
from irtoolkit.costmodel.dataset.sources import SOURCES

DATASET = Path(__file__).resolve().parent.parent / "costmodel" / "dataset"


def _imports(path: Path) -> set[str]:
    """Sibling modules of costmodel/dataset that ``path`` imports, anywhere in the file."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names)
    return out


def test_no_import_cycle_in_the_dataset_layer():
    graph = {p.stem: _imports(p) & {q.stem for q in DATASET.glob("*.py")} for p in DATASET.glob("*.py")}
    seen, stack = set(), []

    def visit(n):
        assert n not in stack, f"import cycle: {' -> '.join(stack[stack.index(n):] + [n])}"
        if n in seen:
            return
        stack.append(n)
        for m in graph.get(n, ()):
            visit(m)
        stack.pop()
        seen.add(n)

    for n in graph:
        visit(n)
    assert "build" not in set().union(*graph.values()), "nothing below build imports it"


def test_one_name_per_labeller_and_source():
    names = {c.name for c in (labellers.LlcStaticLabeller, labellers.McaLoopLabeller, labellers.CallgrindLabeller,
                              labellers.PtxasLabeller, latency.LatencyLabeller)}
    assert {t.source for t in targets.TARGETS.values()} <= names
    assert set(relabel.LABELLERS) <= names
    assert set(SOURCES) == {"cgen", "tvm-cuda", "tvm-llvm", "mlir"}
    assert all(s.name == k for k, s in SOURCES.items())
