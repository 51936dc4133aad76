"""The availability section's charts (pure, inline SVG; the conventions of charts.py: text stays
text, every mark carries its figures as data-* attributes and a hover title).

- availability per child region, worst first, on an axis zoomed to where the figures are, with
  the target as a dashed line;
- the distribution of each child's townships over availability bands (stacked to 100 %);
- the worst townships' outages on the period's time axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from cloudctl.coverage.report.charts import GRID_COLOUR, TARGET_COLOUR, _attr, _svg_open

BAND_COLOURS = {"meets": "#009E73", "high": "#009E73", "near": "#E69F00", "mid": "#E69F00",
                "below": "#D55E00", "low": "#D55E00", "unknown": "#BBBBBB"}
BAR_COLOUR = "#0072B2"
OUTAGE_COLOUR = "#D55E00"
AXIS_FLOORS = (0.99, 0.98, 0.95, 0.9, 0.8, 0.5, 0.0)


def ratio_pct(ratio: float | None, digits: int = 2) -> str:
    return "–" if ratio is None else f"{ratio * 100:.{digits}f} %"


def axis_floor(ratios: Sequence[float], target: float | None) -> float:
    """The lowest round value at or below every ratio and the target (a zoomed axis)."""
    low = min([*ratios, *([target] if target is not None else [])], default=1.0)
    return next(f for f in AXIS_FLOORS if f <= low - 0.002) if low > 0.002 else 0.0


def availability_bars_svg(children: Sequence[dict[str, Any]], target: dict[str, Any] | None, *, title: str,
                          width: int = 720, label_width: int = 150, row_height: int = 22) -> str:
    rows = sorted((c for c in children if c["availability_ratio"] is not None),
                  key=lambda c: (c["availability_ratio"], c["code"]))
    floor = axis_floor([c["availability_ratio"] for c in rows], target["ratio"] if target else None)
    top, bottom, plot_x, value_w = 44, 26, label_width + 8, 110
    plot_w = max(width - plot_x - value_w, 50)
    height = top + bottom + row_height * max(len(rows), 1)

    def x(ratio: float) -> float:
        return plot_x + plot_w * (min(max(ratio, floor), 1.0) - floor) / (1.0 - floor)

    parts = [_svg_open(width, height, title, "chart availability-chart"),
             f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        tick = floor + (1.0 - floor) * i / 4
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{height - bottom + 4}" '
                     f'stroke="{GRID_COLOUR}"/><text x="{x(tick):.1f}" y="{height - 8}" text-anchor="middle" '
                     f'font-size="11" fill="#555">{tick * 100:g} %</text>')
    for i, c in enumerate(rows):
        y, ratio = top + i * row_height, c["availability_ratio"]
        parts.append(f'<g class="bar" data-key="{_attr(c["code"])}" data-ratio="{ratio:.6f}" '
                     f'data-outages="{c["outages"]}">'
                     f'<text x="{label_width}" y="{y + row_height - 12}" text-anchor="end">{escape(c["name"])}</text>'
                     f'<rect x="{plot_x}" y="{y}" width="{x(ratio) - plot_x:.1f}" height="{row_height - 8}" '
                     f'fill="{BAR_COLOUR}"><title>{escape(c["name"])}: {ratio_pct(ratio, 3)}, {c["outages"]} outages, '
                     f'{c["townships"]} townships</title></rect>'
                     f'<text x="{plot_x + plot_w + 8}" y="{y + row_height - 12}" class="value">'
                     f"{ratio_pct(ratio, 3)}</text></g>")
    if target is not None:
        tx = x(target["ratio"])
        parts.append(f'<line class="target" data-target="{target["ratio"]:.6f}" x1="{tx:.1f}" y1="{top - 6}" '
                     f'x2="{tx:.1f}" y2="{height - bottom + 2}" stroke="{TARGET_COLOUR}" stroke-width="2" '
                     f'stroke-dasharray="6 4"><title>target {ratio_pct(target["ratio"], 3)} by {target["by"]}</title>'
                     f'</line><text x="{tx:.1f}" y="{top - 10}" text-anchor="middle" font-size="11">target '
                     f'{target["ratio"] * 100:g} %</text>')
    parts.append("</svg>")
    return "".join(parts)


def distribution_svg(children: Sequence[dict[str, Any]], bands: Sequence[dict[str, Any]], *, title: str,
                     width: int = 720, label_width: int = 150, row_height: int = 22) -> str:
    """Each child's townships per band, as shares of its townships (stacked, best band first)."""
    rows = sorted(children, key=lambda c: (-(c["bands"].get(bands[0]["key"], 0) / max(c["townships"], 1)),
                                           c["code"]))
    top, bottom, plot_x = 28, 44, label_width + 8
    plot_w = width - plot_x - 60
    height = top + bottom + row_height * max(len(rows), 1)
    parts = [_svg_open(width, height, title, "chart distribution-chart"),
             f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i, c in enumerate(rows):
        y, x, n = top + i * row_height, float(plot_x), max(c["townships"], 1)
        parts.append(f'<g class="row" data-key="{_attr(c["code"])}" data-townships="{c["townships"]}">'
                     f'<text x="{label_width}" y="{y + row_height - 12}" text-anchor="end">{escape(c["name"])}</text>')
        for b in bands:
            count = c["bands"].get(b["key"], 0)
            w = plot_w * count / n
            if count:
                parts.append(f'<rect class="band" data-band="{b["key"]}" data-count="{count}" x="{x:.1f}" y="{y}" '
                             f'width="{w:.1f}" height="{row_height - 8}" fill="{BAND_COLOURS[b["key"]]}">'
                             f'<title>{escape(c["name"])}: {count} of {c["townships"]} townships {escape(b["label"])}'
                             f"</title></rect>")
            x += w
        parts.append(f'<text x="{plot_x + plot_w + 6}" y="{y + row_height - 12}" font-size="11" fill="#555">'
                     f'{c["townships"]:,}</text></g>')
    legend_x = plot_x
    for b in bands:
        parts.append(f'<rect x="{legend_x}" y="{height - 22}" width="12" height="12" fill="{BAND_COLOURS[b["key"]]}"/>'
                     f'<text x="{legend_x + 16}" y="{height - 12}" font-size="12">{escape(b["label"])}</text>')
        legend_x += 28 + 7 * len(b["label"])
    parts.append("</svg>")
    return "".join(parts)


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000


def outage_timeline_svg(worst: Sequence[dict[str, Any]], start: str, end: str, *, title: str, width: int = 720,
                        label_width: int = 150, row_height: int = 22) -> str:
    """One row per township, its outages as marks on the period's axis (days)."""
    t0, t1 = _ms(start), _ms(end)
    top, bottom, plot_x = 28, 26, label_width + 8
    plot_w = width - plot_x - 10
    height = top + bottom + row_height * max(len(worst), 1)

    def x(ms: float) -> float:
        return plot_x + plot_w * (min(max(ms, t0), t1) - t0) / max(t1 - t0, 1.0)

    parts = [_svg_open(width, height, title, "chart outage-timeline"),
             f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    days = max(int((t1 - t0) // 86_400_000), 1)
    step = max(1, -(-days // 10))
    for d in range(0, days + 1, step):
        tx = x(t0 + d * 86_400_000)
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - bottom + 4}" '
                     f'stroke="{GRID_COLOUR}"/><text x="{tx:.1f}" y="{height - 8}" text-anchor="middle" '
                     f'font-size="11" fill="#555">+{d} d</text>')
    for i, t in enumerate(worst):
        y = top + i * row_height
        parts.append(f'<g class="row" data-key="{_attr(t["code"])}" data-outages="{len(t["outage_intervals"])}">'
                     f'<text x="{label_width}" y="{y + row_height - 12}" text-anchor="end">{escape(t["name"])}</text>'
                     f'<line x1="{plot_x}" y1="{y + row_height / 2 - 4:.1f}" x2="{plot_x + plot_w}" '
                     f'y2="{y + row_height / 2 - 4:.1f}" stroke="{GRID_COLOUR}"/>')
        for o in t["outage_intervals"]:
            a, b = x(_ms(o["start"])), x(_ms(o["end"]))
            parts.append(f'<rect class="outage" data-link="{_attr(o["link_id"])}" data-seconds="{o["seconds"]:g}" '
                         f'x="{a:.1f}" y="{y}" width="{max(b - a, 1.5):.1f}" height="{row_height - 8}" '
                         f'fill="{OUTAGE_COLOUR}"><title>{escape(t["name"])} link {escape(o["link_id"])}: down '
                         f'{escape(o["start"][:16])} to {escape(o["end"][:16])} UTC ({o["seconds"] / 3600:.1f} h)'
                         f"</title></rect>")
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
