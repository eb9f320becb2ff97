"""A new user's install: a wheel built from a clean clone, installed into a fresh venv with the base
dependencies only, then used from a folder outside the source tree.

The clone is of the committed state (``git clone`` of this repository): what a user gets, not the
working tree.  Building the C core and installing numpy/matplotlib/lightgbm takes a minute or more
(from pip's cache), hence ``slow``; it stays in the suite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def sh(*cmd, cwd=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    r = sh("git", "clone", "--quiet", "--no-hardlinks", ROOT, src)
    assert r.returncode == 0, r.stderr
    dist = tmp / "dist"
    r = sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, src)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = dist.glob("irtoolkit-*.whl")   # the distribution's name (irtools is taken on PyPI)
    venv = tmp / "venv"
    r = sh(sys.executable, "-m", "venv", venv)
    assert r.returncode == 0, r.stderr
    r = sh(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)   # base dependencies only
    assert r.returncode == 0, r.stderr[-3000:]
    work = tmp / "user"   # not the source tree: nothing can be imported from a checkout
    work.mkdir()
    return wheel, venv, work


def run(installed, *args, stdin=None):
    _, venv, work = installed
    return subprocess.run([str(venv / "bin" / "irtools"), *map(str, args)], capture_output=True, text=True,
                          cwd=work, input=stdin, timeout=600)


@pytest.mark.slow
def test_wheel_holds_the_demo_data_and_the_model(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for want in ("irtools/data/mlir/matmul_linalg.mlir", "irtools/data/c/sort.c",
                 "irtoolkit/costmodel/models/default/manifest.json",
                 "irtoolkit/costmodel/models/default/spills.point.txt.gz",
                 "irtoolkit/fuzz/cli.py", "irtoolkit/costmodel/cli.py"):
        assert want in names, want
    # the apps live under the irtoolkit namespace package (no __init__.py of its own), nowhere else
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"irtools", "irtoolkit"}, tops
    assert "irtoolkit/__init__.py" not in names
    assert any(n.startswith("irtools/") and n.endswith(".so") for n in names), "the C core is not built in"
    assert "irtools/demo.py" not in names          # the demo lives outside the library


@pytest.mark.slow
def test_base_install_parses_describes_and_predicts(installed):
    _, venv, work = installed
    data = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "from irtools.examples import mlir_sources; print(mlir_sources()[0])"],
                          capture_output=True, text=True, cwd=work).stdout.strip()
    assert data.startswith(str(venv)) and Path(data).is_file()   # the data came with the wheel
    r = subprocess.run([str(venv / "bin" / "python"), "-c",
                        "import importlib.util as u, irtoolkit.costmodel, irtoolkit.fuzz.cli; "
                        "print(irtoolkit.costmodel.__file__, u.find_spec('costmodel'), u.find_spec('fuzz'))"],
                       capture_output=True, text=True, cwd=work)
    assert r.returncode == 0, r.stderr
    model_pkg, old_costmodel, old_fuzz = r.stdout.split()
    assert model_pkg.startswith(str(venv))
    assert model_pkg.endswith("/irtoolkit/costmodel/__init__.py") and old_costmodel == old_fuzz == "None"
    r = run(installed, "parse", data)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    r = run(installed, "stats", "--json", data)
    assert r.returncode == 0, r.stderr
    assert '"mlir"' in r.stdout
    r = run(installed, "cost", "--json", data)
    assert r.returncode == 0 and '"machine_instructions"' in r.stdout, r.stderr
    ll = "define i32 @add(i32 %a, i32 %b) {\n  %s = add i32 %a, %b\n  ret i32 %s\n}\n"
    r = run(installed, "cost", "--json", "-", stdin=ll)
    assert r.returncode == 0 and '"function": "add"' in r.stdout, r.stderr


@pytest.mark.slow
def test_base_install_names_the_extra_fuzz_needs(installed):
    _, _, work = installed
    r = run(installed, "fuzz", "--time", "5s", "--out", "camp")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "irtools fuzz: error: TVM is not installed: pip install 'irtoolkit[tvm]'\n"
    assert not (work / "camp").exists()   # nothing written before the check
