"""``irtools fuzz report DIR``: one HTML page with coverage and findings over time, the findings
table and the campaign's statistics.

Everything on the page is meant for a person: dates are local dates, durations are seconds or
minutes, nested statistics are small tables (never a Python repr), and each plot has its legend
outside the curves.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import time
from pathlib import Path

PLOT_SIZE = (11, 4.2)   # inches; at 100 dpi the page shows 1100 × 420 px plots


def human_time(epoch: float) -> str:
    """A local date and time, e.g. ``2026-12-05 16:20:11 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(float(epoch)))


def human_duration(seconds: float) -> str:
    s = float(seconds)
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=PLOT_SIZE)


def _finish(fig, ax, ylabel: str, title: str) -> str:
    """Labels, the legend outside the curves, a grid; the figure as a base64 PNG."""
    ax.set_xlabel("campaign time (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    return _png(fig)


def coverage_plot_png(rows: list[dict]) -> bytes:
    """Coverage over time (PNG bytes): TVM functions, LLVM functions and semantic sites."""
    return base64.b64decode(_coverage_plot(rows))


def _coverage_plot(rows: list[dict]) -> str:
    fig, ax = _axes()
    t = [float(r["time"]) for r in rows]
    ax.plot(t, [int(r["coverage"]) for r in rows], label="TVM functions")
    ax.plot(t, [int(r["coverage_llvm"]) for r in rows], label="LLVM functions")
    ax.plot(t, [int(r["semantic"]) for r in rows], label="semantic (pass, feature, changed)")
    return _finish(fig, ax, "covered", "Coverage over time")


def _findings_plot(rows: list[dict], found: list[dict], start: float | None) -> str:
    """Unique findings over campaign time, one step curve per kind and one for all."""
    fig, ax = _axes()
    t = [float(r["time"]) for r in rows]
    if rows and "findings" in rows[0]:
        ax.step(t, [int(r["findings"]) for r in rows], where="post", label="all unique findings", color="black")
    if start is not None:
        kinds = sorted({f["kind"] for f in found})
        for k in kinds:
            ts = sorted(f["found_at"] - start for f in found if f["kind"] == k and f.get("found_at"))
            if ts:
                end = max([*t, ts[-1]])
                ax.step([0, *ts, end], [*range(len(ts) + 1), len(ts)], where="post", label=k)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(fig, ax, "unique findings", "Findings over time")


def _cell(v) -> str:
    """A statistics value as HTML: numbers formatted, dicts and lists as small tables."""
    if isinstance(v, dict):
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{_cell(x)}</td></tr>" for k, x in v.items())
        return f"<table class='inner'>{rows}</table>"
    if isinstance(v, list):
        return ", ".join(_cell(x) for x in v)
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return html.escape(str(v))


STAT_LABELS = {  # key -> (label, how to show it)
    "start": ("started", human_time),
    "elapsed": ("campaign time", human_duration),
    "elapsed_before": ("time before the last resume", human_duration),
    "execs": ("cases run", None),
    "findings": ("unique findings", None),
    "finding_hits": ("cases that hit a finding (with repeats)", None),
    "cov_own": ("TVM functions covered", None),
    "cov_other": ("LLVM functions covered", None),
    "stage_s": ("child seconds per stage", None),
    "by_op": ("per mutation: [cases, new coverage sites, corpus entries]", None),
    "workers": ("workers: where each ran, cases run", None),
}


def stats_table(stats: dict) -> str:
    rows = []
    for k, v in stats.items():
        label, fmt = STAT_LABELS.get(k, (k.replace("_", " "), None))
        shown = html.escape(fmt(v)) if fmt and isinstance(v, (int, float)) else _cell(v)
        rows.append(f"<tr><th>{html.escape(label)}</th><td>{shown}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def write_report(campaign_dir) -> Path:
    root = Path(campaign_dir)
    if not (root / "stats.json").exists():
        from irtools.cli import InputError

        raise InputError(root, "not a campaign folder (no stats.json)")
    stats = json.loads((root / "stats.json").read_text())
    rows = []
    if (root / "plot_data.csv").exists():
        with open(root / "plot_data.csv") as f:
            rows = list(csv.DictReader(f))
    found = []
    for d in sorted((root / "findings").iterdir()) if (root / "findings").is_dir() else []:
        if d.is_dir() and (d / "meta.json").exists():
            m = json.loads((d / "meta.json").read_text())
            m["_name"] = d.name
            found.append(m)
    triaged = []      # misuse, robustness, fuzzer-artefact: kept apart with the reason, never counted
    for d in sorted((root / "triaged").glob("*/*")) if (root / "triaged").is_dir() else []:
        if (d / "meta.json").exists():
            m = json.loads((d / "meta.json").read_text())
            triaged.append((d.parent.name, d.name, m))
    start = stats.get("start")
    try:
        start = json.loads((root / "meta.json").read_text()).get("started", start)
    except (OSError, ValueError):
        pass
    trs = []
    for m in sorted(found, key=lambda m: m.get("found_at") or 0):
        when = human_time(m["found_at"]) if m.get("found_at") else "?"
        trs.append(f"<tr><td><a href='findings/{html.escape(m['_name'])}/report.md'>{html.escape(m['_name'])}</a>"
                   f"</td><td>{html.escape(m['kind'])}</td><td>{html.escape(when)}</td>"
                   f"<td class='msg'>{html.escape(m['message'][:300])}</td><td>{m['seed']}</td>"
                   f"<td>{'yes' if m.get('reduced') else 'no'}</td></tr>")
    plots = ""
    if rows:
        plots = (f"<h2>Coverage over time</h2><img class='plot' alt='coverage over time' "
                 f"src='data:image/png;base64,{_coverage_plot(rows)}'>"
                 f"<h2>Findings over time</h2><img class='plot' alt='findings over time' "
                 f"src='data:image/png;base64,{_findings_plot(rows, found, start)}'>")
    when = f"started {human_time(start)}, " if start else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>irtools fuzz report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}} td,th{{border:1px solid #ccc;padding:4px;
text-align:left;vertical-align:top}} table{{border-collapse:collapse}} table.inner td{{border:none;padding:1px 6px}}
img.plot{{width:100%;max-width:1150px;height:auto}} td.msg{{font-family:monospace;font-size:90%}}</style>
</head><body><h1>irtools fuzz: {html.escape(str(root))}</h1>
<p>{html.escape(when)}{html.escape(human_duration(stats.get('elapsed', 0)))} of fuzzing,
{stats.get('execs', 0):,} cases, {len(found)} unique findings.</p>
{plots}
<h2>Findings ({len(found)})</h2><table><tr><th>signature</th><th>kind</th><th>found</th><th>message</th>
<th>seed</th><th>reduced</th></tr>
{''.join(trs)}</table>
<h2>Not counted as bugs ({len(triaged)})</h2><p>Documented pre-conditions broken (misuse), crashes on misuse
(robustness) and IR only the fuzzer writes (fuzzer-artefact), each with the reason.</p>
<table><tr><th>class</th><th>signature</th><th>reason</th></tr>
{''.join(f"<tr><td>{html.escape(c)}</td><td><a href='triaged/{html.escape(c)}/{html.escape(n)}/'>{html.escape(n)}</a>"
         f"</td><td class='msg'>{html.escape('; '.join(m.get('reasons') or [])[:300])}</td></tr>"
         for c, n, m in triaged)}</table><h2>Statistics</h2>{stats_table(stats)}</body></html>"""
    out = root / "report.html"
    out.write_text(page)
    return out
