"""Helpers shared by the benchmark scripts: best-of-N timing, tool start-up, JSON + bar charts.

Times are CPU seconds (this process's for in-process work, the child's for a tool), the best of
N runs: on a shared machine, wall time mostly measures the neighbours.
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"


def best_of(fn, repeat: int = 3, clock=time.process_time) -> float:
    """Least CPU time (or ``clock``) of ``fn()`` over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def process_time(argv: list[str], repeat: int = 3) -> float:
    """Least CPU time (user + system) of the command ``argv`` over ``repeat`` runs."""
    def run():
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return best_of(run, repeat, clock=_children_cpu)


def machine() -> dict:
    import os
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "loadavg_1m": os.getloadavg()[0]}


def write_json(name: str, payload: dict, out: str | None = None) -> Path:
    path = Path(out) if out else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def bar_chart(path: Path, title: str, labels: list[str], values: list[float], xlabel: str,
              targets: dict[str, float] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.55 * len(labels) + 1.5))
    bars = ax.barh(labels[::-1], values[::-1], color="#4c72b0")
    ax.bar_label(bars, fmt="%.1f", padding=3)
    for name, x in (targets or {}).items():
        ax.axvline(x, ls="--", color="#c44e52", lw=1)
        ax.text(x, len(labels) - 0.5, f" {name}", color="#c44e52", va="top", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
