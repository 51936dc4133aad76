"""Charts as small pure functions: plain data in, an inline SVG string out.

Text stays text (<text> elements, never paths) so Chinese names render with whatever CJK
font the reader has; FONT_FAMILY lists the usual ones. Every mark carries data-*
attributes with its exact figures, so a test (or a script) can read them back from the DOM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT_FAMILY = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
               '"Microsoft YaHei", "WenQuanYi Micro Hei", "Hiragino Sans GB", sans-serif')
# Colour-blind-safe palette (Okabe-Ito), one colour per level in level order.
LEVEL_COLOURS: dict[str, str] = {
    "province": "#0072B2", "prefecture": "#009E73", "county": "#E69F00",
    "township": "#D55E00", "village": "#CC79A7",
}
BAR_COLOUR = "#0072B2"
TARGET_COLOUR = "#222222"
GRID_COLOUR = "#dddddd"


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a label, covered of total, and an optional target ratio."""

    key: str  # level name or division code, written as data-key
    label: str
    covered: int
    total: int
    target: float | None = None
    target_label: str = ""
    href: str | None = None  # a relative link (the drill-down page), or None

    @property
    def ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a name, a colour and one value (0..1) per x position."""

    key: str
    label: str
    values: Sequence[float | None]
    colour: str = BAR_COLOUR


def percent(ratio: float, digits: int = 1) -> str:
    """The one way figures are shown everywhere (page, Markdown): 0.33601 -> '33.6 %'."""
    return f"{ratio * 100:.{digits}f} %"


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _svg_open(width: int, height: int, title: str, css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{_attr(title)}" '
            f'font-family=\'{FONT_FAMILY}\' font-size="13">'
            f"<title>{escape(title)}</title>")


def bar_chart_svg(bars: Sequence[Bar], *, title: str, width: int = 720, label_width: int = 150,
                  row_height: int = 26, css_class: str = "chart bar-chart") -> str:
    """Horizontal bars (0..100 %) in the given order, with a target marker where a target is set."""
    top, bottom = 28, 26
    plot_x = label_width + 8
    value_width = 150
    plot_w = max(width - plot_x - value_width, 50)
    height = top + bottom + row_height * max(len(bars), 1)
    parts = [_svg_open(width, height, title, css_class)]
    parts.append(f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>')
    for pct in (0, 25, 50, 75, 100):
        x = plot_x + plot_w * pct / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - bottom + 4}" '
                     f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" '
                     f'fill="#555">{pct} %</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_height
        bar_h = row_height - 8
        w = plot_w * min(max(bar.ratio, 0.0), 1.0)
        colour = LEVEL_COLOURS.get(bar.key, BAR_COLOUR)
        if bar.href:
            parts.append(f'<a href="{_attr(bar.href)}">')
        parts.append(f'<g class="bar" data-key="{_attr(bar.key)}" data-covered="{bar.covered}" '
                     f'data-total="{bar.total}" data-ratio="{bar.ratio:.6f}">')
        parts.append(f'<text x="{label_width}" y="{y + bar_h - 4}" text-anchor="end">{escape(bar.label)}</text>')
        parts.append(f'<rect x="{plot_x}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                     f"<title>{escape(bar.label)}: {bar.covered} / {bar.total} ({percent(bar.ratio)})</title></rect>")
        parts.append(f'<text x="{plot_x + plot_w + 8}" y="{y + bar_h - 4}" class="value">'
                     f"{percent(bar.ratio)}  ({bar.covered:,}/{bar.total:,})</text>")
        if bar.target is not None:
            tx = plot_x + plot_w * min(max(bar.target, 0.0), 1.0)
            parts.append(f'<line class="target" data-target="{bar.target:.6f}" x1="{tx:.1f}" y1="{y - 3}" '
                         f'x2="{tx:.1f}" y2="{y + bar_h + 3}" stroke="{TARGET_COLOUR}" stroke-width="3">'
                         f"<title>target {percent(bar.target)} {escape(bar.target_label)}</title></line>")
        parts.append("</g></a>" if bar.href else "</g>")
    parts.append("</svg>")
    return "".join(parts)


def ranked_bar_chart_svg(bars: Sequence[Bar], *, title: str, width: int = 720, limit: int | None = None) -> str:
    """Bars sorted by ratio, highest first (ties by label), optionally only the first `limit`."""
    ordered = sorted(bars, key=lambda b: (-b.ratio, b.label, b.key))
    if limit is not None:
        ordered = ordered[:limit]
    return bar_chart_svg(ordered, title=title, width=width, row_height=22, css_class="chart ranked-chart")


def line_chart_svg(x_labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 720,
                   height: int = 300, targets: Sequence[tuple[str, float, str]] = ()) -> str:
    """Lines over time, y from 0 to 100 %. targets: (series key, ratio, label) drawn as dashed levels."""
    left, right, top, bottom = 48, 40, 30, 62
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(x_labels)

    def px(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), 1.0))

    parts = [_svg_open(width, height, title, "chart line-chart")]
    parts.append(f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>')
    for pct in (0, 25, 50, 75, 100):
        y = py(pct / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">'
                     f"{pct} %</text>")
    step = max(1, -(-n // 10))  # at most ~10 x labels
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{px(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="11" '
                         f'fill="#555">{escape(label)}</text>')
    colours = {s.key: s.colour for s in series}
    for key, ratio, label in targets:
        y = py(ratio)
        colour = colours.get(key, TARGET_COLOUR)
        parts.append(f'<line class="target" data-key="{_attr(key)}" data-target="{ratio:.6f}" x1="{left}" '
                     f'y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{left + plot_w - 4}" y="{y - 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{colour}">{escape(label)}</text>')
    for s_index, s in enumerate(series):
        points = [(px(i), py(v), v) for i, v in enumerate(s.values) if v is not None]
        parts.append(f'<g class="series" data-key="{_attr(s.key)}">')
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2.5"/>')
        labels = [lb for lb, v in zip(x_labels, s.values, strict=True) if v is not None]
        for (x, y, v), label in zip(points, labels, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.colour}" data-x="{_attr(label)}" '
                         f'data-ratio="{v:.6f}"><title>{escape(s.label)} {escape(label)}: {percent(v)}</title>'
                         "</circle>")
        legend_x, legend_y = left + s_index * 170, height - 12
        parts.append(f'<rect x="{legend_x}" y="{legend_y - 10}" width="12" height="12" fill="{s.colour}"/>')
        last = f" {percent(points[-1][2])}" if points else ""
        parts.append(f'<text x="{legend_x + 16}" y="{legend_y}" font-size="12">{escape(s.label)}{last}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
