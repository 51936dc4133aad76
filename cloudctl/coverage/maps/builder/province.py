"""A province's map: its prefectures and its counties, in an Albers projection fitted to it.

Each province gets its own projection (standard parallels at one sixth and five sixths of its
latitude span, origin at its centre), so a small province is drawn as truly as a large one.
The neighbouring provinces and countries are drawn in grey for context. Hainan's map shows
Hainan Island and, like the national map, the South China Sea islands in an inset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import box

from cloudctl.coverage.maps.builder.crosswalk import Crosswalk, Division
from cloudctl.coverage.maps.builder.inset import build_inset
from cloudctl.coverage.maps.builder.layers import clip_projected, make_layer
from cloudctl.coverage.maps.builder.national import NO_REGISTRY_DATA
from cloudctl.coverage.maps.builder.projection import fitted
from cloudctl.coverage.maps.builder.shapes import encode_lines, encode_path, fit_frame, polygons_only
from cloudctl.coverage.maps.builder.source import MapSource

WIDTH, MAX_HEIGHT, MARGIN = 1600, 1300, 16
# Hainan: the island (lon/lat box) in the main map, the South China Sea and Sansha's reefs in an inset
WITH_INSET = {"46": (108.3, 17.9, 111.4, 20.4)}
INSET_WIDTH = 440
TOLERANCE = 0.9
MIN_AREA = 1.0


def division_geometries(src: MapSource, cw: Crosswalk, divisions: Mapping[str, Division], province: str,
                        length: int) -> dict[str, shapely.Geometry]:
    """lon/lat geometry of each division of the given code length under the province (4 or 6)."""
    out = {}
    for code in sorted(divisions):
        if len(code) != length or not code.startswith(province):
            continue
        if source := cw.source_of(code):
            out[code] = src.land(source)
        elif code in cw.derived:
            out[code] = shapely.union_all([src.land(cw.source_of(c) or "") for c in cw.derived[code]])
    return out


def build_province(src: MapSource, cw: Crosswalk, divisions: Mapping[str, Division], province: str,
                   context_ll: Mapping[str, shapely.Geometry]) -> dict[str, Any]:
    """context_ll: lon/lat land drawn in grey around the province (other provinces, other countries)."""
    names = {c: d.name for c, d in divisions.items()}
    land = src.land(province.ljust(6, "0"))
    inset = province in WITH_INSET
    if inset:
        land = polygons_only(shapely.intersection(land, box(*WITH_INSET[province])))
    min_lon, min_lat, max_lon, max_lat = land.bounds
    pad_lon, pad_lat = (max_lon - min_lon) * 0.04, (max_lat - min_lat) * 0.04
    view_box = (min_lon - pad_lon, min_lat - pad_lat, max_lon + pad_lon, max_lat + pad_lat)
    albers = fitted(*land.bounds)
    prefectures_ll = division_geometries(src, cw, divisions, province, 4)
    counties_ll = division_geometries(src, cw, divisions, province, 6)
    prefectures = clip_projected(prefectures_ll, view_box, albers)
    counties = clip_projected(counties_ll, view_box, albers)
    bounds = shapely.union_all(list(prefectures.values())).bounds
    main_width = WIDTH - INSET_WIDTH - 24 if inset else WIDTH
    span_w, span_h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    fit_width = min(main_width, (MAX_HEIGHT - 2 * MARGIN) * span_w / span_h + 2 * MARGIN)
    frame = fit_frame(bounds, fit_width, margin=MARGIN)
    width, height = round(fit_width), round(span_h * frame.k + 2 * MARGIN)
    insets = []
    if inset:
        others = {k: v for k, v in context_ll.items() if k != province}
        sub = build_inset({"prefecture": prefectures_ll, "county": counties_ll}, others, names,
                          src.maritime_line(), albers, width=INSET_WIDTH, right=WIDTH - 8, top=8)
        insets.append(sub)
        width, height = WIDTH, max(height, sub["height"] + 16)
    rect = box(0, 0, width, height)
    layers = {
        "prefecture": make_layer(prefectures, frame, rect, tolerance=TOLERANCE, min_area=MIN_AREA, names=names),
        "county": make_layer(counties, frame, rect, tolerance=TOLERANCE, min_area=MIN_AREA, names=names),
    }
    outline = shapely.coverage_union_all([frame.apply(g) for g in prefectures.values()]).boundary
    grey = clip_projected({k: v for k, v in context_ll.items() if k != province}, view_box, albers)
    context = shapely.simplify(shapely.intersection(shapely.union_all([frame.apply(g) for g in grey.values()]),
                                                    rect), TOLERANCE)
    return {
        "width": width, "height": height, "projection": albers.proj4(), "km_per_unit": round(frame.km_per_unit, 3),
        "layers": layers, "neighbours": encode_path(context),
        "outline": encode_lines(shapely.simplify(outline, 0.5)), "insets": insets,
    }


def context_land(src: MapSource, province_codes: list[str], foreign: Mapping[str, shapely.Geometry]
                 ) -> dict[str, shapely.Geometry]:
    """Every province (and Taiwan, Hong Kong, Macao) plus the neighbouring countries, lon/lat."""
    out = {code: shapely.simplify(src.land(code.ljust(6, "0")), 0.002)
           for code in [*province_codes, *NO_REGISTRY_DATA]}
    out.update({f"~{k}": v for k, v in foreign.items()})
    return out

