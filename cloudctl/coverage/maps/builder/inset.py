"""The South China Sea islands inset (南海诸岛), as China's standard map places it: lower right,
at a smaller scale in the same projection, with the island groups named and the dashed line."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import box

from cloudctl.coverage.maps.builder.layers import Geoms, clip_projected, island_dots, make_layer, pop_context
from cloudctl.coverage.maps.builder.projection import Albers
from cloudctl.coverage.maps.builder.shapes import densified_box, encode_lines, fit_frame, project

INSET_BOX = (106.5, 2.8, 122.6, 23.2)  # lon/lat span of the inset
# (name, lon, lat, text-anchor): the labels of the standard map's inset
ISLAND_GROUPS = (("东沙群岛", 117.2, 20.75, "start"), ("西沙群岛", 111.5, 17.45, "middle"),
                 ("中沙群岛", 114.2, 14.35, "middle"), ("黄岩岛", 118.0, 14.35, "middle"),
                 ("南沙群岛", 113.4, 10.6, "middle"), ("曾母暗沙", 111.6, 4.0, "end"))
# Reefs the standard map marks with a dot even where the land data has none above water.
MARKED = (("黄岩岛", 117.75, 15.15),)
MIN_AREA = 0.6
TOLERANCE = 0.8


def build_inset(layers: dict[str, Geoms], foreign: Geoms, names: dict[str, str], sea_line: shapely.Geometry,
                albers: Albers, *, width: int, right: float, top: float) -> dict[str, Any]:
    """layers: layer name -> {code: lon/lat geometry}; the inset's right edge at `right`, top at `top`."""
    bounds = project(densified_box(*INSET_BOX), albers).bounds
    height = round((bounds[3] - bounds[1]) / (bounds[2] - bounds[0]) * width)
    x, y = round(right - width), round(top)
    frame = fit_frame(bounds, width, dx=x, dy=y)
    rect = box(x, y, x + width, y + height)
    foreign_m = clip_projected(foreign, INSET_BOX, albers)
    out_layers, dots = {}, {}
    context = ""
    for name, geoms in layers.items():
        china = clip_projected(geoms, INSET_BOX, albers)
        layer = make_layer({**china, **{f"~{k}": v for k, v in foreign_m.items()}}, frame, rect,
                           tolerance=TOLERANCE, min_area=MIN_AREA, names=names)
        context = pop_context(layer)
        out_layers[name] = {k: {"name": v["name"], "d": v["d"]} for k, v in layer.items()}
        dots[name] = island_dots(china, frame, rect, MIN_AREA, away=6.0)
    sea = shapely.intersection(frame.apply(project(shapely.intersection(sea_line, densified_box(*INSET_BOX)),
                                                   albers)), rect)
    labels = []
    for text, lon, lat, anchor in ISLAND_GROUPS:
        lx, ly = frame.point(*albers.forward(lon, lat))
        labels.append({"name": text, "x": round(float(lx)), "y": round(float(ly)), "anchor": anchor})
    marks = []
    for text, lon, lat in MARKED:
        mx, my = frame.point(*albers.forward(lon, lat))
        marks.append({"name": text, "x": round(float(mx)), "y": round(float(my))})
    return {"title": "南海诸岛", "marks": marks, "x": x, "y": y, "width": width, "height": height,
            "km_per_unit": round(frame.km_per_unit, 3), "layers": out_layers, "dots": dots,
            "neighbours": context, "sea_line": encode_lines(sea), "labels": labels}
