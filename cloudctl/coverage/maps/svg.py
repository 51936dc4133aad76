"""Choropleth maps as inline SVG: shipped path data + coverage figures in, an SVG string out (pure).

Every coloured area is a <path class="area"> carrying data-code, data-covered, data-total and
data-ratio and a <title> (name, code, covered/total, ratio) that browsers show on hover; names
on the map are <text>, so Chinese stays text. Divisions without geometry are returned in
MapView.not_on_map for the page to list under the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from cloudctl.coverage.maps.geometry import MapData
from cloudctl.coverage.maps.scale import NEIGHBOUR, SEA, classes, fill_for, text_colour

FONT_FAMILY = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
               '"Microsoft YaHei", "WenQuanYi Micro Hei", "Hiragino Sans GB", sans-serif')
DISPLAY_WIDTH = 1000  # CSS pixels; the page scales it down on narrow screens
NO_REGISTRY_TEXT = "资料暂缺 (not in the 2023 registry)"


@dataclass(frozen=True)
class Figure:
    """The coverage of one division at the mapped level (e.g. its townships)."""

    code: str
    name: str
    covered: int
    total: int
    href: str | None = None

    @property
    def ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0


@dataclass(frozen=True)
class MapView:
    svg: str
    drawn: tuple[str, ...]
    not_on_map: tuple[Figure, ...]


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def hover_text(f: Figure, unit: str) -> str:
    if f.total <= 0:
        return f"{f.name} {f.code}: no {unit} in the registry"
    return f"{f.name} {f.code}: {f.covered:,} / {f.total:,} {unit} covered ({f.ratio * 100:.1f} %)"


def _area(f: Figure, d: str, unit: str, css: str = "area") -> str:
    fill = fill_for(f.covered, f.total)
    path = (f'<path class="{css}" data-code="{_a(f.code)}" data-covered="{f.covered}" data-total="{f.total}" '
            f'data-ratio="{f.ratio:.6f}" fill="{fill}" d="{d}"><title>{escape(hover_text(f, unit))}</title></path>')
    return f'<a href="{_a(f.href)}">{path}</a>' if f.href else path


def _no_registry(code: str, entry: dict, hatch: str, css: str = "area no-data") -> str:
    return (f'<path class="{css}" data-code="{code}" fill="url(#{hatch})" d="{entry["d"]}">'
            f"<title>{escape(entry['name'])}: {NO_REGISTRY_TEXT}</title></path>")


def _label(entry: dict, fill: str, size: float, max_len_font: bool) -> str:
    name = entry.get("short") or entry["name"]
    x, y, r = entry["label"]
    font = size
    if max_len_font:  # fit the name inside the area, or leave it to the hover title
        font = min(size, 1.9 * r / max(len(name), 1))
        if font < 0.75 * size:
            return ""
    colour = text_colour(fill)
    halo = "#ffffff" if colour != "#ffffff" else "#1b1b1b"
    if "label_at" in entry:
        lx, ly = entry["label_at"]
        return (f'<line x1="{x}" y1="{y}" x2="{lx}" y2="{ly}" stroke="#333" stroke-width="1"/>'
                f'<text x="{lx}" y="{ly + font * 0.35:.0f}" font-size="{font:.0f}" text-anchor="middle">'
                f"{escape(name)}</text>")
    return (f'<text x="{x}" y="{y + font * 0.35:.0f}" font-size="{font:.0f}" text-anchor="middle" fill="{colour}" '
            f'stroke="{halo}" stroke-opacity="0.55">{escape(name)}</text>')


def _legend(x: float, y: float, font: float, unit: str, hatch: str | None) -> str:
    box = font * 1.3
    row = font * 1.6
    parts = [f'<g class="legend" transform="translate({x:.0f},{y:.0f})" font-size="{font:.0f}">',
             f'<text x="0" y="{font:.0f}" font-weight="bold">{escape(unit.capitalize())} covered</text>']
    items = [(f'data-low="{c.low:.2f}" data-high="{c.high:.2f}"', c.colour, c.label) for c in classes()]
    items.append(('data-none="1"', fill_for(0, 0), f"no {unit}"))
    if hatch:
        items.append(('data-no-registry="1"', f"url(#{hatch})", "资料暂缺 no data"))
    cx = 0.0
    for attrs, fill, text in items:
        parts.append(f'<rect class="swatch" {attrs} x="{cx:.0f}" y="{row:.0f}" width="{box:.0f}" height="{box:.0f}" '
                     f'fill="{fill}" stroke="#6f6f6f"/>')
        parts.append(f'<text x="{cx + box + font * 0.3:.0f}" y="{row + box * 0.8:.0f}">{escape(text)}</text>')
        wide = sum(1.0 if ord(ch) > 0x2E80 else 0.58 for ch in text)  # CJK glyphs are square
        cx += box + font * (wide + 1.4)
    parts.append("</g>")
    return "".join(parts)


def _scale_bar(right: float, y: float, km_per_unit: float, font: float, k: float) -> str:
    target = font * 12  # about a sixth of the map's width
    nice = next((n for n in (1000, 500, 200, 100, 50, 20, 10, 5) if n / km_per_unit <= target), 5)
    length = nice / km_per_unit
    x0 = right - length
    return (f'<g class="scale-bar" data-km="{nice}" font-size="{font * 0.85:.0f}">'
            f'<path d="M{x0:.0f} {y - 6 * k:.1f}v{6 * k:.1f}h{length:.0f}v{-6 * k:.1f}" fill="none" stroke="#333" '
            f'stroke-width="{1.5 * k:.2f}"/>'
            f'<text x="{x0:.0f}" y="{y + font:.0f}" text-anchor="middle">0</text>'
            f'<text x="{right:.0f}" y="{y + font:.0f}" text-anchor="middle">{nice} km</text></g>')


def _inset(inset: dict, layer: str, by_code: dict[str, Figure], unit: str, hatch: str, font: float) -> str:
    x, y, w, h = inset["x"], inset["y"], inset["width"], inset["height"]
    parts = [f'<g class="inset" data-title="{_a(inset["title"])}">',
             f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{SEA}" stroke="#333" stroke-width="1.5"/>',
             f'<path class="neighbours" d="{inset["neighbours"]}" fill="{NEIGHBOUR}" stroke="#c4c4c4" '
             'stroke-width="0.6"/>']
    for code, entry in inset["layers"].get(layer, {}).items():
        f = by_code.get(code)
        if f is not None:
            parts.append(_area(f, entry["d"], unit, "area inset-area"))
        elif layer == "province" and code in ("71", "81", "82"):
            parts.append(_no_registry(code, entry, hatch, "area inset-area no-data"))
    for code, dots in inset.get("dots", {}).get(layer, {}).items():
        f = by_code.get(code)
        colour = "#555" if f is None else fill_for(f.covered, f.total)
        parts.append(f'<path class="islands" data-code="{code}" d="{dots}" fill="none" stroke="#555" '
                     f'stroke-width="3.4" stroke-linecap="round"/><path d="{dots}" fill="none" stroke="{colour}" '
                     'stroke-width="2" stroke-linecap="round"/>')
    parts.append(f'<path class="sea-line" d="{inset["sea_line"]}" fill="none" stroke="#333" stroke-width="2.6"/>')
    small = font * 0.8
    for m in inset.get("marks", []):
        parts.append(f'<circle class="mark" data-name="{_a(m["name"])}" cx="{m["x"]}" cy="{m["y"]}" r="1.8" '
                     'fill="#555"/>')
    for lb in inset["labels"]:
        parts.append(f'<text x="{lb["x"]}" y="{lb["y"]}" font-size="{small:.0f}" text-anchor="{lb["anchor"]}" '
                     f'fill="#333">{escape(lb["name"])}</text>')
    parts.append(f'<text class="inset-title" x="{x + w - 6}" y="{y + h - 8}" font-size="{font:.0f}" '
                 f'text-anchor="end">{escape(inset["title"])}</text></g>')
    return "".join(parts)


def choropleth(data: MapData, layer: str, figures: Sequence[Figure], *, title: str, unit: str, map_id: str,
               within: str | None = None) -> MapView:
    """The map of one layer coloured by the figures' ratios.

    within: a prefecture code: draw only its part of a province's county layer (the rest grey)."""
    shapes = data.layers.get(layer, {})
    by_code = {f.code: f for f in figures}
    vx, vy, vw, vh = 0.0, 0.0, float(data.width), float(data.height)
    if within is not None:
        x0, y0, x1, y1 = data.layers["prefecture"][within]["bbox"]
        pad = max(x1 - x0, y1 - y0) * 0.05
        vx, vy, vw, vh = x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    font = vw / 90
    k = vw / data.width  # line widths follow the zoom, so a prefecture cut out is drawn as finely
    legend_h = font * 4.6
    hatch = f"{map_id}-hatch"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" id="{_a(map_id)}" data-layer="{layer}" '
             f'viewBox="{vx:.0f} {vy:.0f} {vw:.0f} {vh + legend_h:.0f}" width="{DISPLAY_WIDTH}" '
             f'height="{DISPLAY_WIDTH * (vh + legend_h) / vw:.0f}" role="img" aria-label="{_a(title)}" '
             f"font-family='{FONT_FAMILY}' font-size=\"{font:.0f}\"><title>{escape(title)}</title>",
             f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="6" height="6" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f0f0"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#a0a0a0" stroke-width="2.5"/></pattern>'
             f'<clipPath id="{map_id}-frame"><rect x="{vx:.0f}" y="{vy:.0f}" width="{vw:.0f}" height="{vh:.0f}"/>'
             "</clipPath></defs>",
             f'<g clip-path="url(#{map_id}-frame)">',
             f'<rect class="sea" x="{vx:.0f}" y="{vy:.0f}" width="{vw:.0f}" height="{vh:.0f}" fill="{SEA}"/>',
             f'<path class="neighbours" d="{data.neighbours}" fill="{NEIGHBOUR}" stroke="#c4c4c4" '
             f'stroke-width="{0.8 * k:.2f}"/>',
             f'<g class="areas" stroke="#707070" stroke-width="{0.8 * k:.2f}" stroke-linejoin="round">']
    drawn = []
    for code, entry in shapes.items():
        f = by_code.get(code)
        if f is None or (within is not None and not code.startswith(within)):
            parts.append(f'<path class="context" data-code="{code}" fill="{NEIGHBOUR}" d="{entry["d"]}"/>')
            continue
        drawn.append(code)
        parts.append(_area(f, entry["d"], unit))
    for code, entry in data.no_registry_data.items():
        parts.append(_no_registry(code, entry, hatch))
    parts.append("</g>")
    parts.append(f'<path class="outline" d="{data.outline}" fill="none" stroke="#333" stroke-width="{1.8 * k:.2f}"/>')
    if data.sea_line:
        parts.append(f'<path class="sea-line" d="{data.sea_line}" fill="none" stroke="#333" stroke-width="3.5"/>')
    for m in data.marks:
        parts.append(f'<g class="mark"><circle cx="{m["x"]}" cy="{m["y"]}" r="2.5" fill="#333"/><text x="{m["x"]}" '
                     f'y="{m["y"] - 6}" font-size="{font * 0.75:.0f}" text-anchor="middle">{escape(m["name"])}'
                     "</text></g>")
    labels = [_label(entry, fill_for(by_code[c].covered, by_code[c].total) if c in by_code else NEIGHBOUR, font,
                     layer != "province")
              for c, entry in [*shapes.items(), *data.no_registry_data.items()]
              if (c in by_code and (within is None or c.startswith(within))) or c in data.no_registry_data]
    parts.append(f'<g class="labels" stroke-width="{font / 5:.1f}" paint-order="stroke">{"".join(labels)}</g>')
    if within is None:
        parts.extend(_inset(inset, layer, by_code, unit, hatch, font) for inset in data.insets)
    parts.append("</g>")
    parts.append(_legend(vx + font * 0.5, vy + vh + font * 0.4, font, unit,
                         hatch if data.no_registry_data else None))
    parts.append(_scale_bar(vx + vw - font * 1.5, vy + vh + legend_h * 0.55, data.km_per_unit, font, k))
    parts.append("</svg>")
    if within is None:  # an area only in an inset (Sansha's reefs on Hainan's map) is on the map too
        drawn += [c for c in sorted(data.codes_in(layer) - set(shapes)) if c in by_code]
    on_map = set(shapes) if within is not None else data.codes_in(layer)
    missing = tuple(f for f in figures if f.code not in on_map and (within is None or f.code.startswith(within)))
    return MapView("".join(parts), tuple(drawn), missing)
