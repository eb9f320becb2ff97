"""Campaigns on Ray: a two-node ``ray.cluster_utils.Cluster`` (both nodes on this machine, each with one
CPU and the ``tvm`` resource; the head node holds only the driver), real fork servers and real TVM.

The campaign folder is seeded with one corpus entry whose default lowering hits a real TVM bug
(StmtSimplify folding an out-of-range cast, ``test_fuzz_triage.cast_case``), so a finding comes within
the first cases instead of after minutes of search.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.tvm, pytest.mark.slow]
pytest.importorskip("tvm")
ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})   # the driver's node: no TVM slot
    for _ in range(2):
        c.add_node(num_cpus=1, resources={"tvm": 1})
    ray.init(address=c.address, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield c
    ray.shutdown()
    c.shutdown()


def seeded(out: Path) -> Path:
    from test_fuzz_triage import cast_case

    from irtoolkit.fuzz.engine import _id
    from irtoolkit.fuzz.tvm import passes as P

    text, passes = cast_case("int8", 255), P.to_json(P.default_pipeline())
    cid = _id(text, passes)
    (out / "corpus").mkdir(parents=True)
    (out / "corpus" / f"{cid}.tir").write_text(text)
    (out / "corpus" / f"{cid}.json").write_text(json.dumps({"seed_name": "cast", "passes": passes,
                                                            "ir_mutated": True}))
    return out


def findings(out: Path) -> dict[str, dict[str, bytes]]:
    root = out / "findings"
    return {d.name: {f.name: f.read_bytes() for f in d.iterdir() if f.name not in ("replay.json", "report.md")}
            for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")} if root.is_dir() else {}


def stats(out: Path) -> dict:
    try:
        return json.loads((out / "stats.json").read_text())
    except (OSError, ValueError):
        return {}


def wait_for(cond, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def check_merged(out: Path, st: dict) -> None:
    """One folder: every case counted on one worker, each new site once (by the case that reached it
    first on any node), every finding complete."""
    assert sum(w["execs"] for w in st["workers"].values()) == st["execs"]
    seen = sum(1 for b in (out / "coverage.bitmap").read_bytes() if b)
    assert st["cov_own"] > 1000 and st["cov_other"] > 0 and seen == st["cov_own"] + st["cov_other"]
    assert sum(op[1] for op in st["by_op"].values()) == st["cov_own"]
    for name, files in findings(out).items():
        assert {"case.tir", "passes.json", "meta.json", "reproducer.py", "log.txt"} <= set(files), name


def test_two_nodes_merge_into_one_folder_then_resume(cluster, tmp_path):
    from irtoolkit.fuzz.engine import Campaign

    out = seeded(tmp_path / "camp")
    camp = Campaign(out, seed=3, workers=2, resume=True, ray=cluster.address, replay_findings=False,
                    case_timeout=30)
    st = camp.run(150, max_execs=30, live=False)
    assert st["execs"] == 30
    ws = st["workers"]
    assert set(ws) == {"w0", "w1"} and all(w["execs"] > 0 for w in ws.values())
    assert len({w["node"] for w in ws.values()}) == 2        # one actor per node
    assert any(n.startswith("internal-error-") for n in findings(out)), sorted(findings(out))
    check_merged(out, st)
    before, corpus = findings(out), {p.name for p in (out / "corpus").iterdir()}
    # resume through the CLI, which joins the running cluster
    r = subprocess.run([sys.executable, "-m", "irtools", "fuzz", "--out", str(out), "--resume", "--ray",
                        cluster.address, "--seed", "3", "--runs", "45", "--time", "150s", "--reduce-time", "0",
                        "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr[-3000:]
    assert r.stdout.startswith("irtools fuzz: done") and "Ray" not in r.stdout   # only the summary on stdout
    st2 = stats(out)
    assert st2["execs"] == 45 and st2["cov_own"] >= st["cov_own"]
    assert sum(w["execs"] for w in st2["workers"].values()) == 45   # this run's cases added to the first's
    assert json.loads((out / "meta.json").read_text())["ray"] == cluster.address
    after = findings(out)
    assert all(after[n] == f for n, f in before.items())
    assert corpus <= {p.name for p in (out / "corpus").iterdir()}
    check_merged(out, st2)
    from irtoolkit.fuzz.report import write_report

    page = write_report(out).read_text()   # the report of a Ray campaign is the same page, workers listed
    assert "where each ran" in page and all(w["node"] in page for w in st2["workers"].values())


def test_too_many_workers_is_refused_before_the_folder_is_made(cluster, tmp_path):
    r = subprocess.run([sys.executable, "-m", "irtools", "fuzz", "--out", str(tmp_path / "c"), "--ray",
                        cluster.address, "--workers", "3", "--time", "30s"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and r.stdout == ""
    assert "irtools fuzz: error: --workers 3 but the Ray cluster has 2 'tvm' slots" in r.stderr
    assert not (tmp_path / "c").exists()


def test_killed_actor_and_lost_node_lose_no_finding(cluster, tmp_path):
    """SIGKILL one actor's process mid-campaign (Ray restarts it), then take the other's node away:
    every finding reported before stays as it was, and the campaign goes on and ends cleanly."""
    from irtoolkit.fuzz.engine import Campaign

    out = seeded(tmp_path / "camp")
    camp = Campaign(out, seed=4, workers=2, resume=True, ray=cluster.address, replay_findings=False,
                    case_timeout=30)
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(camp.run(600, live=False)), daemon=True)
    t.start()
    removed = None
    try:
        def running():
            ws = stats(out).get("workers", {})
            return ws if findings(out) and len(ws) == 2 and all(w["execs"] for w in ws.values()) else None

        ws = wait_for(running, 240, "a finding and two running workers")
        before = findings(out)
        os.kill(ws["w0"]["pid"], signal.SIGKILL)
        # Ray restarts the actor (a new process, a new fork server) and it runs cases again
        def back():
            w = stats(out)["workers"]["w0"]
            return w["restarts"] >= 1 and w["state"] == "up" and w["pid"] != ws["w0"]["pid"] \
                and w["execs"] > ws["w0"]["execs"] + 2

        wait_for(back, 240, "w0 back")
        # the other actor's node goes away: its actor cannot come back (no free slot), w0 goes on
        node = next(n for n in cluster.list_all_nodes() if n.node_id == stats(out)["workers"]["w1"]["node"])
        cluster.remove_node(node)
        removed = node
        at = stats(out)["execs"]
        wait_for(lambda: stats(out)["workers"]["w1"]["state"] == "down" and stats(out)["execs"] >= at + 3,
                 240, "the campaign to go on with one worker")
    finally:
        camp.stop()
        t.join(timeout=300)
        if removed is not None:   # the module's cluster has its two TVM nodes again
            cluster.add_node(num_cpus=1, resources={"tvm": 1})
    assert not t.is_alive() and result, "the campaign did not end"
    after = findings(out)
    assert all(after.get(n) == f for n, f in before.items())   # nothing reported before was lost or changed
    st = stats(out)
    assert st["workers"]["w0"]["restarts"] >= 1 and st["workers"]["w1"]["state"] == "down"
    assert st["workers"]["w0"]["rerun"] + st["workers"]["w1"]["rerun"] >= 1   # a case in flight ran again
    check_merged(out, st)
