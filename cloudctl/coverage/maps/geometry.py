"""The shipped map geometry: encoded SVG paths in map units, read once per process (stdlib only)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

MAP_LEVELS = ("province", "prefecture", "county")  # the levels with boundaries in the map data


@dataclass(frozen=True)
class MapData:
    """One map: its size in units, its layers (level -> code -> {name, d, bbox, label}) and the rest."""

    key: str  # "china" or a province code
    width: int
    height: int
    layers: dict[str, dict[str, dict[str, Any]]]
    km_per_unit: float
    projection: str
    source: str
    neighbours: str = ""
    outline: str = ""
    sea_line: str = ""
    marks: list[dict[str, Any]] = field(default_factory=list)
    insets: list[dict[str, Any]] = field(default_factory=list)
    no_registry_data: dict[str, dict[str, Any]] = field(default_factory=dict)


    def codes_in(self, layer: str) -> set[str]:
        """Codes drawn on this map at this level: in the main map, or in an inset (as areas or as dots)."""
        codes = set(self.layers.get(layer, {}))
        for inset in self.insets:
            codes |= set(inset.get("layers", {}).get(layer, {})) | set(inset.get("dots", {}).get(layer, {}))
        return codes


def _read(name: str) -> dict[str, Any] | None:
    resource = files("cloudctl.coverage.maps") / "data" / name
    if not resource.is_file():
        return None
    return json.loads(gzip.decompress(resource.read_bytes()))


def _map_data(key: str, doc: dict[str, Any]) -> MapData:
    return MapData(key=key, width=doc["width"], height=doc["height"], layers=doc["layers"],
                   km_per_unit=doc["km_per_unit"], projection=doc["projection"], source=doc["source"],
                   neighbours=doc.get("neighbours", ""), outline=doc.get("outline", ""),
                   sea_line=doc.get("sea_line", ""), marks=doc.get("marks", []), insets=doc.get("insets", []),
                   no_registry_data=doc.get("no_registry_data", {}))


@cache
def china_map() -> MapData | None:
    doc = _read("china.json.gz")
    return None if doc is None else _map_data("china", doc)


@cache
def province_map(code: str) -> MapData | None:
    """The map of a province (2-digit code), or None when the map data has none."""
    if len(code) != 2 or not code.isdigit():
        return None
    doc = _read(f"provinces/{code}.json.gz")
    return None if doc is None else _map_data(code, doc)


@cache
def crosswalk() -> dict[str, Any]:
    """Which 2023 codes are drawn from an older code of the same name (by_name), which placeholder
    prefectures as the union of their counties (derived), and which have no geometry (missing)."""
    resource = files("cloudctl.coverage.maps") / "data" / "crosswalk.json"
    if not resource.is_file():
        return {"by_name": {}, "derived": {}, "missing": {}, "counts": {}, "source": ""}
    return json.loads(resource.read_text(encoding="utf-8"))
