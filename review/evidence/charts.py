"""Charts for the evidence report as inline SVG, drawn in Python: no script, no font, no external file.

Every chart is ``<svg class="chart" data-chart="<name>" role="img" aria-label="...">`` with a
``<title>``, a ``<desc>`` listing its values, text labels on every bar and an axis line; colours
come from the page's CSS classes so print and dark mode restyle them.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 720
LABEL_WIDTH = 230
ROW = 24
VERDICT_CLASSES = (("allow", "c-allow"), ("deny", "c-deny"), ("undecidable", "c-undecidable"))


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _open(name: str, title: str, summary: str, height: int) -> str:
    return (
        f'<svg class="chart" data-chart="{_e(name)}" role="img" aria-label="{_e(title)}: {_e(summary)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_e(title)}</title><desc>{_e(summary)}</desc>"
    )


def _empty(name: str, title: str, message: str) -> str:
    height = 60
    return (
        _open(name, title, message, height)
        + f'<path class="axis" d="M{LABEL_WIDTH} 8 V{height - 12}"/>'
        + f'<text class="label" x="{LABEL_WIDTH + 10}" y="{height / 2 + 4:.0f}">{_e(message)}</text></svg>'
    )


def bar_chart(name: str, title: str, items: list[tuple[str, int]], *, unit: str, empty: str, highlight: str = "") -> str:
    """Horizontal bars, one per (label, value), largest first as given; ``highlight`` labels get the accent colour."""
    if not items:
        return _empty(name, title, empty)
    height = ROW * len(items) + 16
    top = max(v for _, v in items) or 1
    span = WIDTH - LABEL_WIDTH - 70
    summary = "; ".join(f"{label}: {value} {unit}" for label, value in items)
    parts = [_open(name, title, summary, height)]
    for i, (label, value) in enumerate(items):
        y = 8 + i * ROW
        length = max(2.0, span * value / top) if value else 0.0
        css = "bar c-accent" if label == highlight else "bar"
        shown = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<g><text class="label" x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{_e(shown)}</text>'
            f'<rect class="{css}" x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}">'
            f"<title>{_e(label)}: {value} {_e(unit)}</title></rect>"
            f'<text class="value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}">{value}</text></g>'
        )
    parts.append(f'<path class="axis" d="M{LABEL_WIDTH} 4 V{height - 4}"/></svg>')
    return "".join(parts)


def timeline_chart(name: str, title: str, days: list[dict[str, Any]], *, empty: str) -> str:
    """Decisions per day, one column per day, stacked by verdict, with a legend and date labels."""
    if not days:
        return _empty(name, title, empty)
    height, left, bottom, legend = 250, 46, 190, 22
    plot_width = WIDTH - left - 16
    step = plot_width / len(days)
    column = max(3.0, min(40.0, step * 0.7))
    top = max(d["total"] for d in days) or 1
    scale = (bottom - legend - 16) / top
    summary = "; ".join(f"{d['date']}: " + ", ".join(f"{d[v]} {v}" for v, _ in VERDICT_CLASSES if d[v]) for d in days)
    parts = [_open(name, title, summary, height)]
    for i, (verdict, css) in enumerate(VERDICT_CLASSES):
        key_x = left + i * 130
        parts.append(
            f'<rect class="{css}" x="{key_x}" y="4" width="12" height="12"><title>{verdict}</title></rect>'
            f'<text class="label" x="{key_x + 18}" y="14">{verdict}</text>'
        )
    label_every = max(1, round(len(days) / 12))
    for i, day in enumerate(days):
        x = left + i * step + (step - column) / 2
        y = float(bottom)
        for verdict, css in VERDICT_CLASSES:
            count = day[verdict]
            if not count:
                continue
            h = count * scale
            y -= h
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{column:.1f}" height="{h:.1f}">'
                f"<title>{_e(day['date'])}: {count} {verdict}</title></rect>"
            )
        parts.append(f'<text class="value" x="{x + column / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{day["total"]}</text>')
        if i % label_every == 0:
            parts.append(
                f'<text class="label small" x="{x + column / 2:.1f}" y="{bottom + 16}" text-anchor="end" '
                f'transform="rotate(-35 {x + column / 2:.1f} {bottom + 16})">{_e(day["date"])}</text>'
            )
    parts.append(f'<path class="axis" d="M{left} {bottom} H{WIDTH - 8} M{left} {legend + 4} V{bottom}"/>')
    parts.append(f'<text class="label small" x="{left - 6}" y="{bottom}" text-anchor="end">0</text>')
    parts.append(f'<text class="label small" x="{left - 6}" y="{bottom - top * scale + 4:.1f}" text-anchor="end">{top}</text>')
    parts.append("</svg>")
    return "".join(parts)
