"""Every bad input × every command, as a user meets them: one diagnostic line on stderr, nothing on
stdout, exit status 1 for bad input and 2 for bad usage (the convention in ``irtools/cli.py``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# name -> (file name, bytes, "file:line:col" expected in the diagnostic or None for a whole-file error)
# a 5 MB line that does not parse, whose message quotes the 5 MB name: not echoed whole
LONG = b"define i32 @f() {\n  ret i32 %" + b"z" * 5_000_000 + b"\n}\n"
INPUTS = {
    "prose.mlir": ("prose.mlir", b"This is not MLIR, just prose.\n", "prose.mlir:1:1"),
    "word.mlir": ("word.mlir", b"word\n", "word.mlir:1:1"),
    "undefined value": ("bad.ll", b"define i32 @f(i32 %x) {\nentry:\n  %y = add i32 %x, %z\n  ret i32 %y\n}\n",
                        "bad.ll:3:20"),
    "long line": ("long.ll", LONG, "long.ll:2:11"),
    "binary": ("binary.ll", bytes(range(256)) * 64, None),
    "bitcode": ("bitcode.ll", b"BC\xc0\xde" + b"\x35\x14\x00\x00" * 100, None),
    "not UTF-8": ("latin1.ll", b"define void @f() {\n  r\xe9t void\n}\n", "latin1.ll:2:"),
    "missing": (None, None, None),
    "empty folder": ("empty", "dir", None),
}
FILE_COMMANDS = [["parse"], ["parse", "--json"], ["stats"], ["stats", "--json"], ["cost"], ["cost", "--json"]]


def irtools(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "irtools", *args], capture_output=True, input=stdin,
                          cwd=ROOT, timeout=300)


def _make(tmp_path: Path, name: str) -> Path:
    fname, data, _ = INPUTS[name]
    if fname is None:
        return tmp_path / "no-such-file.ll"
    p = tmp_path / fname
    if data == "dir":
        p.mkdir()
    else:
        p.write_bytes(data)
    return p


def _one_line(r: subprocess.CompletedProcess) -> str:
    err = r.stderr.decode("utf-8")       # never raw bytes: the diagnostic is escaped text
    lines = err.splitlines()
    assert len(lines) == 1, err[:2000]
    assert "Traceback" not in err and len(lines[0]) < 600, lines[0][:700]
    assert lines[0].isprintable(), lines[0]
    return lines[0]


@pytest.mark.parametrize("cmd", FILE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("name", list(INPUTS))
def test_bad_file(tmp_path, cmd, name):
    path = _make(tmp_path, name)
    r = irtools(*cmd, str(path))
    line = _one_line(r)
    assert r.returncode == 1, (r.returncode, line)
    # parse --json reports a file that does not parse as a result (one JSON line, ok: false);
    # every other command has nothing on stdout
    if cmd == ["parse", "--json"] and name != "empty folder":
        import json

        (row,) = [json.loads(x) for x in r.stdout.decode().splitlines()]
        assert row["ok"] is False and row["error"]["message"] in line
    else:
        assert r.stdout == b"", r.stdout[:500]
    where = INPUTS[name][2]
    if where is not None:
        assert f"{tmp_path / where}" in line and ": error: " in line
    else:
        assert line.startswith(f"{path}: error: "), line


@pytest.mark.parametrize("cmd", [["parse"], ["stats"], ["cost"]], ids=" ".join)
def test_bad_standard_input(cmd):
    r = irtools(*cmd, "-", stdin=b"This is not MLIR, just prose.\n")
    line = _one_line(r)
    assert r.returncode == 1 and r.stdout == b""
    # parse and stats guess MLIR for text with no LLVM IR header; cost's featuriser guesses LLVM IR
    assert line in ("<stdin>:1:1: error: custom op 'This' is unknown (tried 'builtin.This' as well)",
                    "<stdin>:1:1: error: expected top-level entity")


def test_verbose_adds_the_context(tmp_path):
    p = _make(tmp_path, "undefined value")
    r = irtools("parse", "--verbose", str(p))
    assert r.returncode == 1 and "  %y = add i32 %x, %z" in r.stderr.decode()


def _measure_cases(tmp_path: Path):
    (tmp_path / "j.json").write_text('{"a": 1}')
    (tmp_path / "fake.so").write_text("not an ELF file")
    return [
        (["count", "no_such_module_abc:f", "--repeat", "1"], 1, "No module named 'no_such_module_abc'"),
        (["count", "--native", f"{tmp_path}/fake.so:f", "--signature", "i64()", "--repeat", "1"], 1,
         "cannot load 'f'"),
        (["compare", "nofile.json", "other.json"], 1, "nofile.json: error: no such file"),
        (["compare", f"{tmp_path}/j.json", f"{tmp_path}/j.json"], 1,
         f"{tmp_path}/j.json: error: not an `irtools count --json` result"),
        (["count", "--args", "{not json", "m:f"], 2, "--args is not JSON"),
        (["count"], 2, "module:function"),
        (["cost", "--target", "nope", "x.ll"], 2, "unknown --target 'nope'"),
        (["fuzz", "--time", "5x", "--out", f"{tmp_path}/camp"], 2, "bad --time '5x'"),
        (["fuzz", "report", str(tmp_path)], 1, f"{tmp_path}: error: not a campaign folder"),
        (["fuzz", "repro", str(tmp_path)], 1, f"{tmp_path}: error: not a finding folder"),
    ]


@pytest.mark.parametrize("k", range(10))
def test_bad_measure_and_fuzz_input(tmp_path, k):
    if k in (0, 1) and shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed")
    args, code, text = _measure_cases(tmp_path)[k]
    r = irtools(*args)
    line = _one_line(r)
    assert (r.returncode, r.stdout) == (code, b""), line
    assert text in line
    if args[0] == "fuzz" and "--out" in args:   # the value is checked before the folder is made
        assert not (tmp_path / "camp").exists()


@pytest.mark.parametrize("args", [["parse", "--bogus", "x.ll"], ["stats"], ["fuzz", "reduce"]], ids=" ".join)
def test_bad_usage_exits_2(args):
    r = irtools(*args)
    assert r.returncode == 2 and r.stdout == b"" and b"usage: irtools" in r.stderr
