"""The report's maps: which map each page shows, with which figures (pure glue over coverage.maps).

A page of the country shows the provinces; a page of a province its prefectures and its
counties; a page of a prefecture its counties (cut from its province's map). Each map is
coloured by the page's chart level (township coverage where there are townships). Divisions
whose codes have no geometry are returned for the page to list, and counted in coverage.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cloudctl.coverage.maps.geometry import MapData, china_map, crosswalk, province_map
from cloudctl.coverage.maps.svg import Figure, choropleth
from cloudctl.coverage.model import LEVELS

LEVEL_UNITS = {"province": "provinces", "prefecture": "prefectures", "county": "counties",
               "township": "townships", "village": "villages"}


@dataclass(frozen=True)
class Missing:
    figure: Figure
    reason: str


@dataclass(frozen=True)
class MapSection:
    """One map on a page and what goes under it."""

    map_id: str
    level: str  # the level of the coloured areas
    title: str
    svg: str
    drawn: int
    not_on_map: tuple[Missing, ...]
    by_name: tuple[tuple[str, str, str], ...]  # (2023 code, name, the map data's older code)
    sole_county: tuple[tuple[str, str], ...]  # (2023 code, name): drawn with its prefecture's land
    derived: tuple[tuple[str, str, int], ...]  # (placeholder prefecture, name, counties joined)
    source: str
    projection: str
    km_per_unit: float
    national: bool
    has_inset: bool


def figures_at(entries: Sequence[dict[str, Any]], level: str, link: bool = False) -> list[Figure]:
    out = []
    for e in entries:
        lv = next((x for x in e["levels"] if x["level"] == level), None)
        covered, total = (lv["covered"], lv["total"]) if lv else (0, 0)
        out.append(Figure(e["code"], e["name"], covered, total, e.get("page") if link else None))
    return out


def why_missing(code: str) -> str:
    if len(code) == 6 and code[4] == "7":
        return "development or administrative zone: a statistical unit whose land the map draws within its counties"
    if len(code) == 4:
        return "placeholder prefecture: not every one of its counties has a boundary in the map data"
    return "code not in the map data (created or re-coded after the map data was made)"


@dataclass(frozen=True)
class MapPlan:
    """A map a page will show: which map data, which layer, which figures (nothing rendered yet)."""

    data: MapData
    layer: str
    figures: tuple[Figure, ...]
    title: str
    map_id: str
    unit: str
    within: str | None = None

    def shown(self) -> list[Figure]:
        return [f for f in self.figures if self.within is None or f.code.startswith(self.within)]

    def summary(self) -> dict[str, Any]:
        """What coverage.json says about this map: how many drawn, which are not on it, and why."""
        shapes = self.data.layers.get(self.layer, {}) if self.within else self.data.codes_in(self.layer)
        shown = self.shown()
        cw = crosswalk()
        drawn = {f.code for f in shown if f.code in shapes}
        return {"level": self.layer, "drawn": len(drawn),
                "not_on_map": [f.code for f in shown if f.code not in shapes],
                "drawn_from_older_code": {c: old for c, old in sorted(cw.get("by_name", {}).items()) if c in drawn},
                "drawn_with_prefecture_land": [c for c in sorted(cw.get("sole_county", {})) if c in drawn],
                "drawn_as_union_of_counties": [c for c in sorted(cw.get("derived", {})) if c in drawn]}

    def render(self) -> MapSection:
        view = choropleth(self.data, self.layer, self.figures, title=self.title, unit=self.unit,
                          map_id=self.map_id, within=self.within)
        summary = self.summary()
        names = {f.code: f.name for f in self.figures}
        derived = crosswalk().get("derived", {})
        return MapSection(
            map_id=self.map_id, level=self.layer, title=self.title, svg=view.svg, drawn=len(view.drawn),
            not_on_map=tuple(Missing(f, why_missing(f.code)) for f in view.not_on_map),
            by_name=tuple((c, names[c], old) for c, old in summary["drawn_from_older_code"].items()),
            sole_county=tuple((c, names[c]) for c in summary["drawn_with_prefecture_land"]),
            derived=tuple((c, names[c], len(derived[c])) for c in summary["drawn_as_union_of_counties"]),
            source=crosswalk().get("source", ""), projection=self.data.projection,
            km_per_unit=self.data.km_per_unit, national=self.data.key == "china",
            has_inset=bool(self.data.insets) and self.within is None)


def _level_of(entries: Sequence[dict[str, Any]]) -> str:
    """Township when the entries have townships, else the deepest level they have (as the bar charts)."""
    present = [name for name in LEVELS if any(lv["level"] == name for e in entries for lv in e["levels"])]
    return "township" if "township" in present or not present else present[-1]


def region_maps(code: str | None, name: str, children: Sequence[dict[str, Any]], as_of: str,
                grandchildren: Sequence[dict[str, Any]] | None = None, link_children: bool = False,
                anchor_children: bool = False) -> list[MapPlan]:
    """The maps of a page about region `code` (None = the country) whose children are `children`."""
    if not children:
        return []
    level = _level_of(children)
    unit = LEVEL_UNITS[level]
    if code is None:
        data = china_map()
        if data is None:
            return []
        figs = figures_at(children, level, link=link_children)
        return [MapPlan(data, "province", tuple(figs), f"{level.capitalize()} coverage per province, {as_of}",
                        "map-province", unit)]
    data = province_map(code[:2])
    if data is None:
        return []
    if len(code) == 2:
        figs = figures_at(children, level)
        if anchor_children:
            figs = [Figure(f.code, f.name, f.covered, f.total, f"#c{f.code}") for f in figs]
        out = [MapPlan(data, "prefecture", tuple(figs), f"{level.capitalize()} coverage per prefecture, {name}, "
                       f"{as_of}", "map-prefecture", unit)]
        if grandchildren:
            g_level = _level_of(grandchildren)
            out.append(MapPlan(data, "county", tuple(figures_at(grandchildren, g_level)),
                               f"{g_level.capitalize()} coverage per county, {name}, {as_of}", "map-county",
                               LEVEL_UNITS[g_level]))
        return out
    if len(code) == 4 and code in data.layers.get("prefecture", {}):
        return [MapPlan(data, "county", tuple(figures_at(children, level)),
                        f"{level.capitalize()} coverage per county, {name}, {as_of}", "map-county", unit, code)]
    return []


def index_maps(data: dict[str, Any]) -> list[MapPlan]:
    region = data["region"]
    grandchildren = [c for page in data["drilldown"] for c in page["children"]]
    return region_maps(region["code"], region["name"], data["children"], data["as_of"], grandchildren,
                       link_children=True)


def page_maps(data: dict[str, Any], page: dict[str, Any]) -> list[MapPlan]:
    grandchildren = [g for c in page["children"] for g in c.get("children", [])]
    return region_maps(page["code"], page["name"], page["children"], data["as_of"], grandchildren,
                       anchor_children=True)


def maps_json(data: dict[str, Any]) -> dict[str, Any]:
    """The "maps" entry of coverage.json: per page, per map, what is drawn and what is not on it."""
    pages = {"index.html": [p.summary() for p in index_maps(data)]}
    page_of = {c["code"]: c.get("page") for c in data["children"]}
    for page in data["drilldown"]:
        if page_of.get(page["code"]):
            pages[page_of[page["code"]]] = [p.summary() for p in page_maps(data, page)]
    return {"source": crosswalk().get("source", ""), "pages": {k: v for k, v in pages.items() if v}}
