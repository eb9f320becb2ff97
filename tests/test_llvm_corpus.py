"""The whole public LLVM corpus: every file parses; printed text means the same to LLVM 22.

Round trip, two ways:
  * every file, in process, through LLVM 22.1's own parser and printer as llvmlite 0.50 bundles them
    (what ``llvm-as-22 | llvm-dis-22`` run minus the bitcode step), a fresh LLVMContext per module;
  * ``llvm-as-22 | llvm-dis-22`` subprocesses on an evenly spread sample (about 100 ms per file,
    so the whole corpus takes most of an hour): set ``IRTOOLS_LLVM_ROUNDTRIP=all`` to run every
    file, or ``IRTOOLS_LLVM_ROUNDTRIP=<n>`` for an n-file sample.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache

import pytest
from conftest import CORPUS, corpus_dir, need_tool

from irtools import ParseError, parse_llvm, parse_llvm_file

CHUNKS = 8


@cache
def corpus_files() -> list[str]:
    root = CORPUS / "llvm"
    if not root.is_dir():
        return []
    return sorted(str(p) for p in root.rglob("*.ll"))


def chunk(k: int) -> list[str]:
    corpus_dir("llvm")
    return corpus_files()[k::CHUNKS]


def spread(n: int) -> list[str]:
    """n files evenly spread over the sorted corpus (deterministic)."""
    files = corpus_files()
    if n >= len(files):
        return files
    step = len(files) / n
    return [files[int(i * step)] for i in range(n)]


def test_corpus_size():
    corpus_dir("llvm")
    assert len(corpus_files()) == 13837


@pytest.mark.slow
@pytest.mark.parametrize("k", range(CHUNKS))
def test_corpus_parses(k):
    failures = []
    for path in chunk(k):
        try:
            parse_llvm_file(path)
        except ParseError as e:
            failures.append(e.format(context=False))
    assert not failures, f"{len(failures)} files fail, first: {failures[:5]}"


def _llvm22_text(text: str) -> str:
    import llvmlite.binding as llvm

    return str(llvm.parse_assembly(text, context=llvm.create_context()))


@pytest.mark.slow
@pytest.mark.parametrize("k", range(CHUNKS))
def test_corpus_round_trip_llvm22_in_process(k):
    pytest.importorskip("llvmlite")
    failures = []
    for path in chunk(k):
        with open(path, "rb") as f:
            data = f.read()
        printed = str(parse_llvm(data, path=path))
        want = _llvm22_text(data.decode("utf-8", "surrogateescape"))
        try:
            got = _llvm22_text(printed)
        except RuntimeError as e:
            failures.append(f"{path}: LLVM rejects the printed text: {str(e)[:300]}")
            continue
        if got != want:
            failures.append(f"{path}: different module")
    assert not failures, f"{len(failures)} files do not round-trip, first: {failures[:5]}"


def _as_dis(data: bytes) -> bytes:
    a = subprocess.run([need_tool("llvm-as-22"), "-", "-o", "-"], input=data, capture_output=True, timeout=120)
    assert a.returncode == 0, a.stderr.decode("utf-8", "replace")[:500]
    d = subprocess.run([need_tool("llvm-dis-22"), "-", "-o", "-"], input=a.stdout, capture_output=True, timeout=120)
    assert d.returncode == 0, d.stderr.decode("utf-8", "replace")[:500]
    return d.stdout


def _roundtrip_sample() -> list[str]:
    want = os.environ.get("IRTOOLS_LLVM_ROUNDTRIP", "200")
    return corpus_files() if want == "all" else spread(int(want))


@pytest.mark.slow
@pytest.mark.parametrize("half", range(2))
def test_corpus_round_trip_llvm_as_dis(half):
    corpus_dir("llvm")
    failures = []
    for path in _roundtrip_sample()[half::2]:
        with open(path, "rb") as f:
            data = f.read()
        printed = str(parse_llvm(data, path=path)).encode("utf-8", "surrogateescape")
        try:
            same = _as_dis(printed) == _as_dis(data)
        except AssertionError as e:
            failures.append(f"{path}: {e}")
            continue
        if not same:
            failures.append(f"{path}: different module")
    assert not failures, f"{len(failures)} files do not round-trip, first: {failures[:5]}"


@pytest.mark.slow
def test_corpus_print_is_a_fixed_point():
    corpus_dir("llvm")
    for path in spread(1500):
        once = str(parse_llvm_file(path))
        assert str(parse_llvm(once)) == once, path


@pytest.mark.slow
def test_corpus_model_walk_is_consistent():
    """Every operand is a model object; terminators end blocks; successors are blocks of the function."""
    from irtools.ir.llvm import Argument, Block, Constant, Function, InlineAsm, Instruction, MetadataValue
    from irtools.ir.llvm.module import GlobalAlias, GlobalIFunc, GlobalVariable

    kinds = (Instruction, Argument, Constant, Function, GlobalVariable, GlobalAlias, GlobalIFunc, Block, InlineAsm,
             MetadataValue)
    for path in spread(800):
        m = parse_llvm_file(path)
        for f in m.functions:
            blocks = set(f.blocks)
            for b in f.blocks:
                assert b.function is f
                insts = b.instructions
                assert insts and insts[-1].is_terminator, (path, f.name, b.name)
                assert all(not i.is_terminator for i in insts[:-1]), (path, f.name, b.name)
                for i in insts:
                    assert i.block is b
                    for o in i.operands:
                        assert isinstance(o, kinds), (path, i.text, o)
                    if i.opcode == "phi":
                        assert all(x in blocks for x in i.incoming_blocks)
                assert all(s in blocks for s in b.successors)
