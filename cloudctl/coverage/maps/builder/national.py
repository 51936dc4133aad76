"""The national map: provinces in an Albers projection, the South China Sea islands in an inset.

Follows the layout of China's standard map (标准地图) at national scale: the whole territory,
with Taiwan, Hong Kong and Macao drawn as the provinces are; Diaoyu Dao and Chiwei Yu marked
and named; the dashed line (ten dashes, the tenth east of Taiwan) in the main map where it
falls inside the frame; and the South China Sea with its island groups in the 南海诸岛 inset
in the lower right corner, below Taiwan.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import box

from cloudctl.coverage.maps.builder.inset import build_inset
from cloudctl.coverage.maps.builder.layers import clip_projected, make_layer, pop_context
from cloudctl.coverage.maps.builder.projection import CHINA
from cloudctl.coverage.maps.builder.shapes import densified_box, encode_lines, fit_frame, project
from cloudctl.coverage.maps.builder.source import MapSource

WIDTH = 2000
MAIN_SOUTH = 17.6  # the main map stops north of the Paracels (Hainan Island ends at 18.15°N)
MAIN_BOX = (72.0, MAIN_SOUTH, 136.0, 54.0)
FOREIGN_BOX = (55.0, 0.0, 160.0, 62.0)
INSET_WIDTH = 330
NO_REGISTRY_DATA = {"71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区"}
NEIGHBOURS = ("RUS", "MNG", "KAZ", "KGZ", "TJK", "AFG", "PAK", "IND", "NPL", "BTN", "MMR", "LAO", "VNM", "PRK",
              "KOR", "JPN", "PHL", "BGD", "THA", "KHM", "MYS", "BRN", "IDN", "SGP", "UZB", "TKM", "IRN", "LKA")
# Places the standard map marks at national scale even where they are too small to draw.
MARKED_ISLANDS = (("钓鱼岛", 123.48, 25.74), ("赤尾屿", 124.56, 25.92))
# Labels of areas too small to hold their name: put beside them (lon, lat), with a leader line.
LABEL_AWAY = {"31": (123.0, 31.0), "81": (115.4, 21.6), "82": (112.6, 21.3), "12": (118.9, 39.0)}
SHORT_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
TOLERANCE = 1.2  # units: Visvalingam-Whyatt area threshold = tolerance²
MIN_AREA = 1.5  # square units: smaller islets are dropped (the marked ones stay as dots)


def short_name(name: str) -> str:
    """北京市 -> 北京, 广西壮族自治区 -> 广西, 内蒙古自治区 -> 内蒙古 (the labels of the map)."""
    for suffix in SHORT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def neighbour_land(src: MapSource) -> dict[str, shapely.Geometry]:
    """Foreign land around China (lon/lat), lightly pre-simplified (0.005°, about 500 m)."""
    paths = src.foreign_paths()
    return {iso: shapely.simplify(shapely.make_valid(src.foreign(iso)), 0.005) for iso in NEIGHBOURS if iso in paths}


def build_national(src: MapSource, province_names: dict[str, str]) -> dict[str, Any]:
    """province_names: 2-digit 2023 code -> name; Taiwan, Hong Kong and Macao are added here."""
    names = {**province_names, **NO_REGISTRY_DATA}
    lonlat = {code: src.land(code.ljust(6, "0")) for code in names}
    foreign_ll = neighbour_land(src)
    main = clip_projected(lonlat, MAIN_BOX, CHINA)
    china_bounds = shapely.union_all(list(main.values())).bounds
    frame = fit_frame(china_bounds, WIDTH, margin=24)
    inset_top = frame.apply(main["71"]).bounds[3] + 24  # below Taiwan, as on the standard map
    inset = build_inset({"province": lonlat}, foreign_ll, names, src.maritime_line(), CHINA,
                        width=INSET_WIDTH, right=WIDTH - 8, top=inset_top)
    height = max(round((china_bounds[3] - china_bounds[1]) * frame.k + 48), inset["y"] + inset["height"] + 8)
    foreign = clip_projected(foreign_ll, FOREIGN_BOX, CHINA)
    layer = make_layer({**main, **{f"~{k}": v for k, v in foreign.items()}}, frame, box(0, 0, WIDTH, height),
                       tolerance=TOLERANCE, min_area=MIN_AREA, names=names, short=short_name)
    neighbours = pop_context(layer)
    for code, (lon, lat) in LABEL_AWAY.items():
        x, y = frame.point(*CHINA.forward(lon, lat))
        layer[code]["label_at"] = [round(float(x)), round(float(y))]
    outline = shapely.coverage_union_all([frame.apply(main[k]) for k in main]).boundary
    sea = project(shapely.intersection(src.maritime_line(), densified_box(*MAIN_BOX)), CHINA)
    marks = []
    for name, lon, lat in MARKED_ISLANDS:
        x, y = frame.point(*CHINA.forward(lon, lat))
        marks.append({"name": name, "x": round(float(x)), "y": round(float(y))})
    return {
        "width": WIDTH, "height": height, "projection": CHINA.proj4(), "km_per_unit": round(frame.km_per_unit, 3),
        "layers": {"province": {k: v for k, v in layer.items() if k not in NO_REGISTRY_DATA}},
        "no_registry_data": {k: v for k, v in layer.items() if k in NO_REGISTRY_DATA},
        "neighbours": neighbours,
        "outline": encode_lines(shapely.simplify(outline, 0.5)),
        "sea_line": encode_lines(frame.apply(sea)),
        "marks": marks,
        "insets": [inset],
    }
