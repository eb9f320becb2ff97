"""`irtools count` / `irtools compare` run as the user runs them: a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from irtools.errors import NativeLoadError

try:
    from irtools.measure import native, runner
    native.lib_ffi()
except NativeLoadError as e:
    pytest.skip(f"counters C component not built: {e}", allow_module_level=True)

SOLUTIONS = '''
def loop_sum(n):
    total = 0
    for i in range(n):
        total += i
    return total


def builtin_sum(n):
    return sum(range(n))
'''


def irtools_cmd() -> list[str]:
    script = Path(sys.executable).parent / "irtools"
    return [str(script)] if script.exists() else [sys.executable, "-m", "irtools"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if all(v is not None for v in runner.available_backends().values()):
        pytest.skip("no counting backend here: " + json.dumps(runner.available_backends()))
    d = tmp_path_factory.mktemp("cli")
    (d / "solutions.py").write_text(SOLUTIONS)
    return d


def run(args, cwd, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(cwd)
    p = subprocess.run(irtools_cmd() + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_help_explains_backends(project):
    out = run(["count", "--help"], project).stdout
    for word in ("callgrind", "perf_event_open", "perf_event_paranoid", "PYTHONHASHSEED", "-- CMD"):
        assert word in out


def test_count_whole_process_json(project):
    true = shutil.which("true")
    a = json.loads(run(["count", "--json", "--", true], project).stdout)
    b = json.loads(run(["count", "--json", "--repeat", "2", "--", true], project).stdout)
    for key in ("instructions", "backend", "exact", "runs", "backend_version", "pins", "target_cpu"):
        assert key in a
    assert a["kind"] == "process" and a["instructions"] > 1000
    if a["exact"]:
        assert b["runs"] == [a["instructions"]] * 2


def test_count_and_compare_callables(project):
    a = run(["count", "--json", "solutions:loop_sum", "--args", "[500]", "--repeat", "2"], project).stdout
    b = run(["count", "--json", "--repeat", "2", "--args", "[500]", "solutions:builtin_sum"], project).stdout
    ma, mb = json.loads(a), json.loads(b)
    assert ma["result"] == mb["result"] == str(sum(range(500)))
    assert ma["instructions"] > mb["instructions"] > 0     # the interpreted loop does more work
    (project / "a.json").write_text(a)
    (project / "b.json").write_text(b)
    cmp = json.loads(run(["compare", "--json", "a.json", "b.json"], project).stdout)
    assert cmp["faster"] == "b" and cmp["same_result"]
    assert cmp["ratio_b_over_a"] == pytest.approx(mb["instructions"] / ma["instructions"])
    text = run(["compare", "a.json", "b.json"], project).stdout
    assert "faster: B" in text and "B/A" in text


def test_compare_measures_two_callables(project):
    out = run(["compare", "--json", "--repeat", "1", "--args", "[300]", "solutions:loop_sum",
               "solutions:builtin_sum"], project).stdout
    cmp = json.loads(out)
    assert cmp["faster"] == "b" and cmp["speedup_a_over_b"] > 1


def test_user_errors_exit_1_for_input_2_for_usage_with_one_line(project):
    p = run(["count", "--args", "{not json", "solutions:loop_sum"], project, check=False)
    assert p.returncode == 2 and "--args is not JSON" in p.stderr
    p = run(["count", "--json", "--", shutil.which("false")], project, check=False)
    assert p.returncode == 1 and "exit status 1" in p.stderr and p.stdout == ""
    p = run(["count", "no_such_module_abc:f", "--repeat", "1"], project, check=False)
    assert p.returncode == 1 and "No module named 'no_such_module_abc'" in p.stderr
    assert len(p.stderr.splitlines()) == 1 and "Traceback" not in p.stderr   # the harness's is not shown
    p = run(["count", "--verbose", "no_such_module_abc:f", "--repeat", "1"], project, check=False)
    assert p.returncode == 1 and "Traceback" in p.stderr                      # unless asked for
    p = run(["count"], project, check=False)
    assert p.returncode == 2 and "module:function" in p.stderr
