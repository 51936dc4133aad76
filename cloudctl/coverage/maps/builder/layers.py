"""Layers of a map (build time): clip in lon/lat, project, simplify together, encode with labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely

from cloudctl.coverage.maps.builder.projection import Albers
from cloudctl.coverage.maps.builder.shapes import (
    Frame,
    densified_box,
    encode_dots,
    encode_path,
    int_bounds,
    label_spot,
    polygons_only,
    project,
    simplify_coverage,
)

Geoms = dict[str, shapely.Geometry]


def clip_projected(geoms: Geoms, lonlat_box: tuple[float, float, float, float], albers: Albers) -> Geoms:
    """Each geometry cut to a lon/lat box, then projected (metres); empty ones left out."""
    clip = densified_box(*lonlat_box)
    out = {}
    for key, g in geoms.items():
        part = polygons_only(shapely.intersection(shapely.make_valid(g), clip))
        if not part.is_empty:
            out[key] = project(part, albers)
    return out


def make_layer(geoms: Geoms, frame: Frame, rect: shapely.Geometry, *, tolerance: float, min_area: float,
               names: dict[str, str] | None = None, short: Callable[[str], str] | None = None
               ) -> dict[str, dict[str, Any]]:
    """Projected geometries -> {code: {name, d, bbox, label}} in map units, simplified as one coverage.

    Keys starting with "~" are context (neighbours): simplified with the rest so borders stay shared."""
    in_units = {k: polygons_only(shapely.intersection(frame.apply(g), rect)) for k, g in geoms.items()}
    simple = simplify_coverage({k: g for k, g in in_units.items() if not g.is_empty}, tolerance, min_area)
    layer: dict[str, dict[str, Any]] = {}
    for code, g in simple.items():
        if code.startswith("~"):
            layer[code] = {"d": encode_path(g)}
            continue
        name = (names or {}).get(code, code)
        x, y, r = label_spot(g)
        entry = {"name": name, "d": encode_path(g), "bbox": int_bounds(g), "label": [x, y, r]}
        if short is not None:
            entry["short"] = short(name)
        layer[code] = entry
    return layer


def pop_context(layer: dict[str, dict[str, Any]]) -> str:
    """Take the "~" entries out of a layer: one path of neighbouring land."""
    return "".join(layer.pop(k)["d"] for k in sorted(k for k in layer if k.startswith("~")))


def island_dots(geoms: Geoms, frame: Frame, rect: shapely.Geometry, min_area: float, away: float
                ) -> dict[str, str]:
    """Per code, a dot for each island part too small to draw that lies more than `away` units from
    the parts that are drawn (the reefs and islands of the South China Sea, not coastal rocks)."""
    out = {}
    for code, g in geoms.items():
        parts = list(shapely.get_parts(polygons_only(frame.apply(g))))
        big = shapely.union_all([p for p in parts if p.area >= min_area]) if parts else None
        points = []
        for part in parts:
            c = part.centroid
            if part.area < min_area and rect.contains(c) and (big is None or big.is_empty or big.distance(c) > away):
                points.append((c.x, c.y))
        if points:
            out[code] = encode_dots(points)
    return out
