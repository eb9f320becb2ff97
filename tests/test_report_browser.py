"""``irtools fuzz report`` as a person sees it: the page loaded in a real headless browser (Debian's
chromium), its plots rendered with a real size, no Python reprs or epoch numbers, and a screenshot
kept as a test artifact (in pytest's tmp folder and in build/test-artifacts/)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts"
START = 1796487389.6279237   # 2026-12-05, an epoch time as the engine writes it


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no headless browser: apt-get install -y chromium")


@pytest.fixture
def campaign(tmp_path) -> Path:
    """A campaign folder in the shapes the engine writes (stats.json, plot_data.csv, findings/*/meta.json)."""
    root = tmp_path / "camp"
    (root / "findings").mkdir(parents=True)
    stats = {"start": START, "elapsed_before": 0.0, "execs": 126, "rejected": 11, "crashes": 0, "hangs": 0,
             "findings": 2, "finding_hits": 5, "cov_own": 5606, "cov_other": 14228, "semantic": 1144,
             "stage_s": {"parse": 0.597, "pass": 2.78, "codegen": 4.039},
             "by_op": {"joint": [50, 3886, 37], "passes": [18, 12, 9]}, "elapsed": 28.1}
    (root / "stats.json").write_text(json.dumps(stats))
    (root / "meta.json").write_text(json.dumps({"seed": 3, "started": START}))
    lines = ["time,execs,coverage,coverage_llvm,semantic,findings"]
    lines += [f"{t:.2f},{t * 4},{3000 + 100 * t},{3600 + 400 * t},{40 * t},{int(t > 13) + int(t > 21)}"
              for t in range(12, 29)]
    (root / "plot_data.csv").write_text("\n".join(lines) + "\n")
    for i, (kind, at) in enumerate([("internal-error", 13.2), ("ill-formed", 21.0)]):
        d = root / "findings" / f"{kind}-{i:012x}"
        d.mkdir()
        (d / "meta.json").write_text(json.dumps({
            "signature": d.name, "kind": kind, "message": f"InternalError: Check failed: <{i}> & 'x'",
            "seed": 1000 + i, "found_at": START + at, "reduced": i == 0,
            "versions": {"apache-tvm": "0.27.0.post1"}}))
    return root


def test_report_page_is_for_people(campaign):
    r = subprocess.run([sys.executable, "-m", "irtools", "fuzz", "report", str(campaign)], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == str(campaign / "report.html"), r.stderr
    page = (campaign / "report.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>|src='data:[^']*'", " ", page))
    assert "{'" not in text and "[50, 3886" not in text          # no Python reprs of dicts or lists
    assert "1796487" not in text                                   # no epoch timestamps...
    assert "2026-12-05" in text                                    # ...but dates
    assert "Findings over time" in text and "Coverage over time" in text
    assert "Check failed: <0> & 'x'" in text                       # messages escaped, not lost


def test_report_renders_in_a_headless_browser(campaign, tmp_path):
    exe = chromium()
    from irtoolkit.fuzz.report import write_report

    page = write_report(campaign)
    # the browser measures the plots: each image's natural and laid-out size, written into the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", (
        "<script>addEventListener('load', () => document.body.setAttribute('data-sizes', "
        "[...document.images].map(i => [i.naturalWidth, i.naturalHeight, Math.round(i.getBoundingClientRect()"
        ".width), Math.round(i.getBoundingClientRect().height)].join('x')).join(',')))</script></body>")))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1800",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([exe, *flags, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    m = re.search(r'data-sizes="([^"]*)"', dom.stdout)
    assert m, dom.stderr[-2000:]
    sizes = [tuple(map(int, s.split("x"))) for s in m.group(1).split(",")]
    assert len(sizes) == 2
    for nw, nh, w, h in sizes:
        assert nw >= 900 and nh >= 300, sizes      # big plots: 11 × 4.2 in at 100 dpi, legend beside
        assert w >= 800 and h >= 250, sizes        # and shown large on the page
    shot = tmp_path / "report.png"
    r = subprocess.run([exe, *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True,
                       timeout=120)
    assert shot.is_file() and shot.read_bytes()[:4] == b"\x89PNG", r.stderr[-2000:]
    assert shot.stat().st_size > 50_000          # a page with two plots, not a blank one
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "fuzz-report.png")
