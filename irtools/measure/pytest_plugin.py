"""pytest plugin ``irtools_count``: instruction-count regression checks.

Loaded in every pytest run of the project (entry point ``pytest11``), so this module imports
only the standard library and pytest; the measuring machinery is imported when a test asks
for the fixture.

Usage::

    def test_sort_is_not_slower(count_instructions):
        m = count_instructions(mymodule.sort_words, ["b", "a"], key="two")   # a Measurement
        assert m.exact

``count_instructions(fn, *args, key=None, threshold=None, native=False, **measure_options)``
measures ``fn(*args)`` (see ``irtools.measure.measure``; ``native=True`` uses
``measure_native``) and compares its instruction count with the entry stored for this test
in the baseline file.  A count more than ``threshold`` (a fraction) above the baseline fails
the test.  Options:

  --count-baseline PATH        the baseline JSON file (default: count-baseline.json in rootdir)
  --count-update-baseline      write this run's counts into the baseline instead of failing
  --count-threshold FRACTION   allowed growth before a test fails (default 0.02)
  --count-backend NAME         auto | perf | callgrind (default auto)

The marker ``@pytest.mark.count_instructions(threshold=0.1)`` sets a test's own threshold.
Counts from different backends are never compared with each other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_RESULTS_KEY = pytest.StashKey[dict]()
_NOTES_KEY = pytest.StashKey[list]()

DEFAULT_THRESHOLD = 0.02


def pytest_addoption(parser):
    group = parser.getgroup("irtools-count", "instruction-count regression checks (irtools.measure)")
    group.addoption("--count-baseline", default=None, metavar="PATH",
                    help="baseline JSON file of instruction counts (default: <rootdir>/count-baseline.json)")
    group.addoption("--count-update-baseline", action="store_true", default=False,
                    help="store this run's counts as the new baseline instead of comparing")
    group.addoption("--count-threshold", type=float, default=DEFAULT_THRESHOLD, metavar="FRACTION",
                    help=f"allowed growth over the baseline before a test fails (default {DEFAULT_THRESHOLD})")
    group.addoption("--count-backend", default="auto", choices=["auto", "perf", "callgrind"],
                    help="instruction-count backend (default auto: hardware counters, else callgrind)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "count_instructions(threshold=None): per-test threshold for the count_instructions fixture")
    config.stash[_RESULTS_KEY] = {}
    config.stash[_NOTES_KEY] = []


def baseline_path(config) -> Path:
    opt = config.getoption("--count-baseline")
    return Path(opt) if opt else Path(config.rootpath) / "count-baseline.json"


def load_baseline(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise pytest.UsageError(f"cannot read the instruction-count baseline {path}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("entries", {}), dict):
        raise pytest.UsageError(f"{path} is not an irtools count baseline (no 'entries' object)")
    return data.get("entries", {})


def compare(measured: int, entry: dict, threshold: float) -> str | None:
    """The failure message when ``measured`` exceeds the stored count by more than ``threshold``."""
    base = int(entry["instructions"])
    limit = base * (1.0 + threshold)
    if measured > limit:
        growth = (measured - base) / base if base else float("inf")
        return (f"instruction count regressed: {measured:,} vs baseline {base:,} "
                f"(+{growth:.2%}, threshold {threshold:.2%}, backend {entry.get('backend')})")
    return None


class CountFixture:
    """What the ``count_instructions`` fixture returns: call it to measure and check."""

    def __init__(self, request):
        self._request = request
        self._config = request.config
        self.calls = 0

    def __call__(self, fn, *args, key: str | None = None, threshold: float | None = None,
                 native: bool = False, **options):
        from irtools.measure import runner

        options.setdefault("backend", self._config.getoption("--count-backend"))
        m = (runner.measure_native if native else runner.measure)(fn, *args, **options)
        self.calls += 1
        name = self._request.node.nodeid + (f"[{key}]" if key else "")
        if threshold is None:
            marker = self._request.node.get_closest_marker("count_instructions")
            threshold = marker.kwargs.get("threshold") if marker else None
        if threshold is None:
            threshold = self._config.getoption("--count-threshold")
        record = {"instructions": int(m.instructions), "backend": m.backend,
                  "backend_version": m.backend_version, "target_cpu": m.target_cpu}
        self._config.stash[_RESULTS_KEY][name] = record
        if self._config.getoption("--count-update-baseline"):
            return m
        entry = load_baseline(baseline_path(self._config)).get(name)
        notes = self._config.stash[_NOTES_KEY]
        if entry is None:
            notes.append(f"{name}: {m.instructions:,} instructions, no baseline (run with --count-update-baseline)")
        elif entry.get("backend") != m.backend:
            notes.append(f"{name}: baseline from backend {entry.get('backend')}, measured with {m.backend}: "
                         "not compared")
        else:
            msg = compare(int(m.instructions), entry, threshold)
            if msg:
                pytest.fail(f"{name}: {msg}", pytrace=False)
        return m


@pytest.fixture
def count_instructions(request):
    """Measure a callable's instruction count and check it against the stored baseline."""
    return CountFixture(request)


def _merge_into(path: Path, results: dict) -> None:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    # xdist workers finish at the same time: read-modify-write under a lock, replace atomically
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = load_baseline(path)
        entries.update(results)
        tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"format": "irtools-count-baseline/1", "entries": dict(sorted(entries.items()))},
                                  indent=1) + "\n")
        os.replace(tmp, path)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    results = config.stash.get(_RESULTS_KEY, {})
    if results and config.getoption("--count-update-baseline"):
        _merge_into(baseline_path(config), results)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = config.stash.get(_RESULTS_KEY, {})
    notes = config.stash.get(_NOTES_KEY, [])
    if not results and not notes:
        return
    terminalreporter.section("instruction counts")
    for name, rec in sorted(results.items()):
        terminalreporter.write_line(f"{rec['instructions']:>14,}  {rec['backend']:<9}  {name}")
    for note in notes:
        terminalreporter.write_line(note)
    if results and config.getoption("--count-update-baseline"):
        terminalreporter.write_line(f"baseline updated: {baseline_path(config)}")
