"""The irtools_count pytest plugin, driven through a real inner pytest run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from irtools.errors import NativeLoadError

INNER = '''
import os
import pytest


def work(n):
    return sorted(range(n, 0, -1))


def test_sorting(count_instructions):
    m = count_instructions(work, int(os.environ["INNER_N"]), repeat=1)
    assert m.instructions > 0


@pytest.mark.count_instructions(threshold=1000.0)
def test_sorting_lenient(count_instructions):
    count_instructions(work, int(os.environ["INNER_N"]), key="big", repeat=1)
'''


def test_plugin_module_imports_cheaply():
    code = ("import sys, irtools.measure.pytest_plugin; "
            "bad = [m for m in ('irtools.measure.runner', 'irtools._c_counters', 'numpy', 'cffi') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def inner_pytest(tmp_path, n, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONHASHSEED"))}
    env["INNER_N"] = str(n)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--count-baseline",
           str(tmp_path / "base.json"), "test_inner.py", *extra]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_baseline_update_then_regression_then_pass(tmp_path):
    try:
        from irtools.measure import native, runner
        native.lib_ffi()
    except NativeLoadError as e:
        pytest.skip(f"counters C component not built: {e}")
    if all(v is not None for v in runner.available_backends().values()):
        pytest.skip("no counting backend here")
    (tmp_path / "test_inner.py").write_text(INNER)

    first = inner_pytest(tmp_path, 50, "--count-update-baseline")
    assert first.returncode == 0, first.stdout + first.stderr
    base = json.loads((tmp_path / "base.json").read_text())["entries"]
    assert set(base) == {"test_inner.py::test_sorting", "test_inner.py::test_sorting_lenient[big]"}
    assert all(e["instructions"] > 0 and e["backend"] for e in base.values())
    assert "baseline updated" in first.stdout

    slow = inner_pytest(tmp_path, 2000)   # 40x the elements: far above the 2% default threshold
    assert slow.returncode == 1, slow.stdout
    assert "instruction count regressed" in slow.stdout
    assert "1 failed, 1 passed" in slow.stdout   # the marker's threshold lets the lenient one pass

    same = inner_pytest(tmp_path, 50, "-k", "not lenient")
    assert same.returncode == 0, same.stdout
    assert json.loads((tmp_path / "base.json").read_text())["entries"] == base   # untouched without update


def test_missing_baseline_is_reported_not_failed(tmp_path):
    try:
        from irtools.measure import native, runner
        native.lib_ffi()
    except NativeLoadError as e:
        pytest.skip(f"counters C component not built: {e}")
    if all(v is not None for v in runner.available_backends().values()):
        pytest.skip("no counting backend here")
    (tmp_path / "test_inner.py").write_text(INNER)
    r = inner_pytest(tmp_path, 20, "-k", "test_sorting and not lenient")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no baseline" in r.stdout and not (tmp_path / "base.json").exists()
