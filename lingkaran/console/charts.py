"""Server-side SVG line charts (no script, no CDN): a few series over the same x labels (months).

The bar chart lives in ``lingkaran.console.reports.bar_chart``; this is its companion for trends.
Labels are escaped; the SVG scales to the page width; each point has a ``<title>`` tooltip.
"""

from __future__ import annotations

from html import escape

from babel.numbers import format_decimal
from markupsafe import Markup

from handlers.i18n import Translator

__all__ = ["line_chart"]

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 90, 60, 16, 64
LEGEND_H = 22
SERIES_CLASSES = ("s1", "s2", "s3", "s4", "s5")


def _num(t: Translator, value: float) -> str:
    """A number in the console's locale (grouped; decimals only when there are some)."""
    return str(format_decimal(int(value) if value == int(value) else value, locale=t.locale))


def _nice(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value`` (> 0)."""
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value:
            return factor * power
    return 10 * power


def _axis(value: float, *, whole: bool) -> float:
    """The y axis step for four grid lines up to at least ``value`` (whole numbers: at least 1)."""
    if value <= 0:
        return 1
    step = _nice(value / 4)
    return max(step, 1) if whole else step


def line_chart(
    x_labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    title: str,
    t: Translator,
) -> Markup:
    """Lines of ``series`` (name, one value per x label) with a legend and a y axis."""
    legend_rows = max(1, -(-len(series) // 3))
    height = HEIGHT + LEGEND_H * legend_rows
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    values_all = [v for _, values in series for v in values]
    step_y = _axis(max(values_all, default=0), whole=all(v == int(v) for v in values_all))
    top = step_y * 4
    n = len(x_labels)

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if n <= 1 else plot_w * i / (n - 1))

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    parts = [
        f'<svg class="chart line" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for k in range(5):  # grid and y axis labels
        v = step_y * k
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'class="chart-grid"/><text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
            f'class="chart-value">{escape(_num(t, v))}</text>'
        )
    step = max(1, -(-n // 12))  # at most about 12 x labels
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
                f'class="chart-label">{escape(label)}</text>'
            )
    for s, (name, values) in enumerate(series):
        css = SERIES_CLASSES[s % len(SERIES_CLASSES)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        if len(values) > 1:
            parts.append(f'<polyline points="{points}" class="chart-line {css}"/>')
        for i, v in enumerate(values):
            label = x_labels[i] if i < n else ""
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" class="chart-dot {css}">'
                f"<title>{escape(name)}, {escape(label)}: {escape(_num(t, v))}</title></circle>"
            )
        lx = LEFT + (s % 3) * (plot_w / 3)
        ly = HEIGHT + (s // 3) * LEGEND_H
        shown = name if len(name) <= 34 else name[:33] + "…"
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 10}" width="14" height="4" class="chart-key {css}"/>'
            f'<text x="{lx + 20:.1f}" y="{ly - 4}" class="chart-label">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
