"""Charts as accessible, self-contained SVG, rendered on the server.

The same markup goes into the admin dashboard, the candidate's pages and the PDF reports
(WeasyPrint draws inline SVG), so a chart never needs JavaScript or a network fetch. Each
chart is ``role="img"`` labelled by its ``<title>`` and described by its ``<desc>``, and
carries the numbers it draws as ``rows`` for a text-alternative table next to it. Every text
is escaped; colours come from the theme's CSS custom properties with a fallback.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 16, 16, 56
PRIMARY = "#1d4ed8"  # pages override it with the theme colour (class viva-chart__mark)
ACCENT = "#b45309"
AXIS = "#4a4f57"

_ids = itertools.count(1)


@dataclass(frozen=True)
class Chart:
    """An SVG chart with its text alternative (``headers`` and ``rows``)."""

    title: str
    description: str
    svg: SafeString
    headers: tuple[str, ...] = ()
    rows: list[tuple] = field(default_factory=list)

    def __str__(self) -> str:
        return self.svg

    def __html__(self) -> str:
        return self.svg


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _frame(title: str, description: str, body: list[str]) -> SafeString:
    uid = f"viva-chart-{next(_ids)}"
    return mark_safe(  # noqa: S308 - every text inside is escaped above
        f'<svg xmlns="http://www.w3.org/2000/svg" class="viva-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">{escape(title)}</title>'
        f'<desc id="{uid}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _axes(top: float) -> list[str]:
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = [
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}" stroke="{AXIS}" stroke-width="1"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}" stroke="{AXIS}" stroke-width="1"/>',
    ]
    for step in range(5):
        value = top * step / 4
        y = HEIGHT - MARGIN_BOTTOM - plot_h * step / 4
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{AXIS}">{_fmt(value)}</text>'
        )
        if step:
            parts.append(
                f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" '
                f'y2="{y:.1f}" stroke="#d0d4da" stroke-width="0.5"/>'
            )
    return parts


def bar_chart(
    *,
    title: str,
    description: str,
    labels: list[str],
    values: list[float],
    maximum: float | None = None,
    unit: str = "",
    headers: tuple[str, str] = ("Label", "Value"),
    marker: float | None = None,
) -> Chart:
    """Vertical bars, one per label; ``marker`` draws a dashed line (e.g. the pass mark)."""
    top = maximum if maximum is not None else max([*values, 1])
    top = top or 1
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    body = _axes(top)
    slot = plot_w / max(1, len(values))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * min(value, top) / top
        x = MARGIN_LEFT + slot * index + slot * 0.15
        y = HEIGHT - MARGIN_BOTTOM - h
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{PRIMARY}" class="viva-chart__mark">'
            f"<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>"
        )
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" font-size="10" '
            f'text-anchor="middle" fill="{AXIS}">{escape(_short(label))}</text>'
        )
    if marker is not None:
        y = HEIGHT - MARGIN_BOTTOM - plot_h * min(marker, top) / top
        body.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            f'stroke="{ACCENT}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
    rows = [(label, f"{_fmt(value)}{unit}") for label, value in zip(labels, values, strict=True)]
    return Chart(title, description, _frame(title, description, body), headers, rows)


def histogram_chart(
    *, title: str, description: str, counts: list[int], edges: list[float], marker=None
) -> Chart:
    """A score distribution: ``counts`` over bins between consecutive ``edges`` (percent)."""
    labels = [f"{_fmt(edges[i])}–{_fmt(edges[i + 1])}" for i in range(len(counts))]
    chart = bar_chart(
        title=title,
        description=description,
        labels=labels,
        values=[float(c) for c in counts],
        headers=("Score (%)", "Attempts"),
        marker=None,
    )
    if marker is None:
        return chart
    # Marker on a percent scale over the bins, not on the count axis.
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    x = MARGIN_LEFT + plot_w * (marker - edges[0]) / (edges[-1] - edges[0])
    line = (
        f'<line x1="{x:.1f}" y1="{MARGIN_TOP}" x2="{x:.1f}" y2="{HEIGHT - MARGIN_BOTTOM}" '
        f'stroke="{ACCENT}" stroke-width="2" stroke-dasharray="6 4"/>'
        f'<text x="{x + 4:.1f}" y="{MARGIN_TOP + 10}" font-size="11" fill="{ACCENT}">'
        f"pass {_fmt(marker)}%</text>"
    )
    svg = mark_safe(chart.svg.replace("</svg>", line + "</svg>"))  # noqa: S308 - numbers only
    return Chart(chart.title, chart.description, svg, chart.headers, chart.rows)


def line_chart(
    *,
    title: str,
    description: str,
    labels: list[str],
    values: list[float],
    maximum: float = 100,
    unit: str = "%",
    headers: tuple[str, str] = ("When", "Score"),
) -> Chart:
    """A line through ``values`` in order (progress over time), with a dot at each point."""
    top = maximum or 1
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    body = _axes(top)
    step = plot_w / max(1, len(values) - 1) if len(values) > 1 else 0
    points = []
    for index, value in enumerate(values):
        x = MARGIN_LEFT + (step * index if len(values) > 1 else plot_w / 2)
        y = HEIGHT - MARGIN_BOTTOM - plot_h * min(value, top) / top
        points.append((x, y, labels[index], value))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{PRIMARY}" stroke-width="2" '
            'class="viva-chart__line"/>'
        )
    for x, y, label, value in points:
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{PRIMARY}" class="viva-chart__mark">'
            f"<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></circle>"
        )
        body.append(
            f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" font-size="10" '
            f'text-anchor="middle" fill="{AXIS}">{escape(_short(label))}</text>'
        )
    rows = [(label, f"{_fmt(value)}{unit}") for label, value in zip(labels, values, strict=True)]
    return Chart(title, description, _frame(title, description, body), headers, rows)


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
