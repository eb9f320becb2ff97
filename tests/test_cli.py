"""The `irtools` front door as a user runs it: a subprocess, real files, exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from irtools.examples import mlir_sources

GOOD_LL = """define i32 @add(i32 %a, i32 %b) {
entry:
  %s = add nsw i32 %a, %b
  ret i32 %s
}
"""
BAD_LL = "define i32 @f(i32 %x) {\nentry:\n  %y = add i32 %x, %z\n  ret i32 %y\n}\n"


def irtools(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "irtools", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_help_lists_every_command():
    r = irtools("--help")
    assert r.returncode == 0
    for cmd in ("parse", "stats", "count", "compare", "fuzz", "cost"):
        assert cmd in r.stdout


def test_parse_reports_errors_like_a_compiler(tmp_path: Path):
    (tmp_path / "good.ll").write_text(GOOD_LL)
    (tmp_path / "bad.ll").write_text(BAD_LL)
    r = irtools("parse", str(tmp_path / "good.ll"), str(tmp_path / "bad.ll"))
    assert r.returncode == 1 and r.stdout == ""
    first, summary = r.stderr.splitlines()   # one line per error, then the count
    assert first == f"{tmp_path / 'bad.ll'}:3:20: error: use of undefined value '%z'"
    assert summary == "1 of 2 files parsed, 1 failed"
    r = irtools("parse", "--verbose", str(tmp_path / "bad.ll"))   # the line and a caret, as clang shows them
    assert r.stderr.splitlines()[1:] == ["  %y = add i32 %x, %z", " " * 19 + "^"]
    assert irtools("parse", str(tmp_path / "good.ll")).returncode == 0


def test_parse_json_one_object_per_file(tmp_path: Path):
    (tmp_path / "good.ll").write_text(GOOD_LL)
    (tmp_path / "bad.ll").write_text(BAD_LL)
    r = irtools("parse", "--json", str(tmp_path))  # a folder: searched for .ll/.mlir
    rows = {Path(o["file"]).name: o for o in map(json.loads, r.stdout.splitlines())}
    assert r.returncode == 1
    assert rows["good.ll"] == {"file": str(tmp_path / "good.ll"), "ok": True, "error": None,
                               "functions": 1, "instructions": 2}
    assert rows["bad.ll"]["ok"] is False
    assert rows["bad.ll"]["error"] == {"message": "use of undefined value '%z'", "line": 3, "col": 20}


def test_parse_unknown_suffix_and_missing_file(tmp_path: Path):
    (tmp_path / "x.txt").write_text("hello")
    r = irtools("parse", str(tmp_path / "x.txt"), str(tmp_path / "missing.ll"))
    assert r.returncode == 1
    assert "unknown IR kind" in r.stderr and "cannot read" in r.stderr


def test_parse_mlir_files():
    r = irtools("parse", "--json", *map(str, mlir_sources()))
    assert r.returncode == 0, r.stderr
    for o in map(json.loads, r.stdout.splitlines()):
        assert o["ok"] and o["instructions"] > 5


def test_stats_on_clang_corpus(clang_corpus, tmp_path: Path):
    folder = clang_corpus[0].parent
    png = tmp_path / "stats.png"
    r = irtools("stats", "--json", "--plot", str(png), str(folder), *map(str, mlir_sources()))
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    llvm = stats["kinds"]["llvm"]
    assert llvm["modules"] == len(clang_corpus) and llvm["failed"] == 0
    assert llvm["instructions"] == sum(llvm["opcodes"].values())
    assert llvm["functions"] > 100 and llvm["opcodes"]["ret"] >= llvm["functions"]
    assert stats["kinds"]["mlir"]["modules"] == len(mlir_sources())
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    table = irtools("stats", str(folder))
    assert table.returncode == 0 and "getelementptr" in table.stdout


@pytest.mark.parametrize("cmd", ["parse", "stats", "count", "compare", "fuzz", "cost"])
def test_every_command_explains_itself(cmd):
    r = irtools(cmd, "--help")
    assert r.returncode == 0 and len(r.stdout) > 200


APPS = ("irtoolkit.costmodel", "irtoolkit.fuzz")   # the applications: folders costmodel/ and fuzz/
OLD_APPS = ("costmodel", "fuzz")                   # their import names before #18: nothing may use them


def _is_app(name: str) -> bool:
    return any(name == a or name.startswith(a + ".") for a in APPS) or name.split(".")[0] in OLD_APPS


def test_irtools_imports_no_application():
    """The library stands alone: the apps register their commands through entry points."""
    import ast

    root = Path(__file__).resolve().parent.parent / "irtools"
    # every import statement, lazy ones inside functions included
    bad = []
    for py in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(py.read_text(), str(py))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:   # from irtoolkit import fuzz, too
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            bad += [f"{py.relative_to(root)}:{node.lineno}: {n}" for n in names if _is_app(n)]
    assert bad == []
    # and at run time: import irtools and every submodule, then look at sys.modules
    code = f"""
import importlib, pkgutil, sys
import irtools
for m in pkgutil.walk_packages(irtools.__path__, "irtools."):
    if m.name in ("irtools.__main__", "irtools._build"):
        continue
    importlib.import_module(m.name)
print(sorted(n for n in sys.modules if any(n == a or n.startswith(a + ".") for a in {APPS!r})
             or n.split(".")[0] in {OLD_APPS!r}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "[]"


def test_apps_are_imported_under_irtoolkit_only(tmp_path):
    """The apps' folders are costmodel/ and fuzz/, their import names irtoolkit.costmodel and
    irtoolkit.fuzz (costmodel and fuzz are other projects' names on PyPI).  Run from outside the
    checkout, so that the project root is not on sys.path: the installed package alone must give the
    new names, and the old top-level names must not import."""
    root = Path(__file__).resolve().parent.parent
    code = """
import importlib, importlib.util, json, sys
import irtoolkit.costmodel, irtoolkit.costmodel.cli, irtoolkit.costmodel.features
import irtoolkit.fuzz, irtoolkit.fuzz.cli, irtoolkit.fuzz.engine
print(json.dumps({"files": [irtoolkit.costmodel.__file__, irtoolkit.fuzz.__file__],
                  "old": [n for n in ("costmodel", "fuzz") if importlib.util.find_spec(n) is not None],
                  "loaded": sorted(n for n in sys.modules if n.split(".")[0] in ("costmodel", "fuzz"))}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    files = [Path(f).resolve() for f in out["files"]]
    assert [f.parent.name for f in files] == ["costmodel", "fuzz"]
    # the editable install maps them onto the folders of this checkout; a wheel holds irtoolkit/costmodel/
    assert all(f.parent.parent == root or f.parent.parent.name == "irtoolkit" for f in files), files
    assert out["old"] == [] and out["loaded"] == []


def test_commands_come_from_entry_points():
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="irtools.commands")}
    assert eps == {"cost": "irtoolkit.costmodel.cli:register", "fuzz": "irtoolkit.fuzz.cli:register"}
    r = irtools("fuzz", "report", "--help")   # a subcommand has its own help
    assert r.returncode == 0 and "usage: irtools fuzz report" in r.stdout and "--time" not in r.stdout


def test_stats_on_mlir_has_function_sizes_and_draws_without_warnings(tmp_path: Path):
    png = tmp_path / "mlir.png"
    r = subprocess.run([sys.executable, "-W", "error", "-m", "irtools", "stats", "--json", "--plot", str(png),
                        *map(str, mlir_sources())], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (line,) = r.stdout.splitlines()            # JSON lines: the run is one object on one line
    fs = json.loads(line)["kinds"]["mlir"]["function_size"]
    assert fs["max"] > 10 and fs["mean"] > 5 and png.stat().st_size > 10_000
    assert r.stderr == f"plot written to {png}\n"


def test_a_command_name_registered_twice_is_an_error():
    import argparse

    from irtools.cli import _checked_register
    from irtools.errors import IrtoolsError

    sub = argparse.ArgumentParser(prog="t").add_subparsers()
    seen: dict[str, str] = {}
    _checked_register(sub, lambda s: s.add_parser("cost"), "irtoolkit.costmodel.cli:register", seen)
    with pytest.raises(IrtoolsError, match="cost"):
        _checked_register(sub, lambda s: s.add_parser("cost"), "other.cli:register", seen)
