"""``irtools fuzz report DIR``: one HTML page with the coverage-over-time plot and the findings."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from pathlib import Path


def coverage_plot_png(rows: list[dict]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    t = [float(r["time"]) for r in rows]
    ax.plot(t, [int(r["coverage"]) for r in rows], label="TVM functions")
    ax.plot(t, [int(r["coverage_llvm"]) for r in rows], label="LLVM functions")
    ax.plot(t, [int(r["semantic"]) for r in rows], label="semantic (pass, feature, changed)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("covered")
    ax.legend()
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def write_report(campaign_dir) -> Path:
    root = Path(campaign_dir)
    if not (root / "stats.json").exists():
        from irtools.cli import InputError

        raise InputError(root, "not a campaign folder (no stats.json)")
    stats = json.loads((root / "stats.json").read_text())
    with open(root / "plot_data.csv") as f:
        rows = list(csv.DictReader(f))
    img = base64.b64encode(coverage_plot_png(rows)).decode() if rows else ""
    found = []
    for d in sorted((root / "findings").iterdir()):
        if d.is_dir() and (d / "meta.json").exists():
            m = json.loads((d / "meta.json").read_text())
            found.append(f"<tr><td><a href='findings/{d.name}/report.md'>{html.escape(d.name)}</a></td>"
                         f"<td>{html.escape(m['kind'])}</td><td>{html.escape(m['message'][:200])}</td>"
                         f"<td>{m['seed']}</td><td>{'yes' if m.get('reduced') else 'no'}</td></tr>")
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in stats.items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>irtools fuzz report</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{border:1px solid #ccc;padding:4px}} table{{border-collapse:collapse}}</style>
</head><body><h1>irtools fuzz: {html.escape(str(root))}</h1>
<h2>Coverage over time</h2><img alt="coverage over time" src="data:image/png;base64,{img}">
<h2>Findings ({len(found)})</h2><table><tr><th>signature</th><th>kind</th><th>message</th><th>seed</th><th>reduced</th></tr>
{''.join(found)}</table><h2>Statistics</h2><table>{table}</table></body></html>"""
    out = root / "report.html"
    out.write_text(page)
    return out
