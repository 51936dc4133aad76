"""The self-contained HTML pages: Jinja2 templates (package data) + inline SVG charts.

No page fetches anything: CSS is inline, charts are inline SVG, links are relative.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from cloudctl.coverage.model import LEVELS
from cloudctl.coverage.report.availability_charts import availability_bars_svg, distribution_svg, outage_timeline_svg
from cloudctl.coverage.report.charts import (
    FONT_FAMILY,
    LEVEL_COLOURS,
    Bar,
    Series,
    bar_chart_svg,
    line_chart_svg,
    percent,
    ranked_bar_chart_svg,
)
from cloudctl.coverage.report.maps import LEVEL_UNITS, index_maps, page_maps

LEVEL_LABELS = {"province": "Province 省", "prefecture": "Prefecture 地", "county": "County 县",
                "township": "Township 乡", "village": "Village 村"}


@cache
def _environment():  # type: ignore[no-untyped-def]
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("cloudctl.coverage.report", "templates"),
                      autoescape=select_autoescape(["j2", "html"], default_for_string=True, default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["pct"] = percent
    env.filters["num"] = lambda n: f"{n:,}"
    env.filters["at_level"] = lambda levels, name: next((lv for lv in levels if lv["level"] == name), None)
    env.filters["avail"] = lambda r: "–" if r is None else f"{r * 100:.3f} %"
    env.filters["hours"] = lambda s: "–" if s is None else (f"{s / 3600:.1f} h" if s >= 360 else f"{s / 60:.0f} min")
    env.globals.update(level_labels=LEVEL_LABELS, font_family=FONT_FAMILY, level_units=LEVEL_UNITS)
    return env


def _level_names(entries: Sequence[dict[str, Any]]) -> list[str]:
    present = {lv["level"] for e in entries for lv in e["levels"]}
    return [name for name in LEVELS if name in present]


def chart_level_for(children: Sequence[dict[str, Any]]) -> str:
    """The level the per-child chart compares: township when the children have townships."""
    names = _level_names(children)
    if "township" in names:
        return "township"
    return names[-1] if names else "township"


def levels_chart(levels: Sequence[dict[str, Any]], title: str) -> str:
    bars = []
    for lv in levels:
        t = lv.get("target")
        bars.append(Bar(lv["level"], LEVEL_LABELS[lv["level"]], lv["covered"], lv["total"],
                        None if t is None else t["ratio"], "" if t is None else f"by {t['by']}"))
    return bar_chart_svg(bars, title=title)


def children_chart(children: Sequence[dict[str, Any]], level: str, title: str) -> str:
    bars = []
    for c in children:
        lv = next((x for x in c["levels"] if x["level"] == level), None)
        if lv is not None:
            bars.append(Bar(c["code"], c["name"], lv["covered"], lv["total"], href=c.get("page")))
    return ranked_bar_chart_svg(bars, title=title)


def trend_chart(data: dict[str, Any], title: str) -> str:
    points = data["trend"]["points"]
    names = _level_names(points)
    series = []
    for name in names:
        values: list[float | None] = []
        for p in points:
            lv = next((x for x in p["levels"] if x["level"] == name), None)
            values.append(None if lv is None else lv["ratio"])
        series.append(Series(name, LEVEL_LABELS[name], values, LEVEL_COLOURS[name]))
    targets = [(lv["level"], lv["target"]["ratio"], f"target {percent(lv['target']['ratio'])} by {lv['target']['by']}")
               for lv in data["levels"] if lv.get("target")]
    return line_chart_svg([p["date"] for p in points], series, title=title, targets=targets)


def availability_charts(av: dict[str, Any] | None, child_level: str | None) -> dict[str, str]:
    """The charts of a page's availability section (empty when the section has nothing to draw)."""
    if not av or not av["known"]:
        return {"availability": "", "distribution": "", "outages": ""}
    child = LEVEL_LABELS.get(child_level or "", "child").lower()
    return {
        "availability": availability_bars_svg(av["children"], av["target"], title=f"Township link availability per "
                                              f"{child}, {av['from']} to {av['to']} (worst first)"),
        "distribution": distribution_svg(av["children"], av["bands"],
                                         title=f"Townships of each {child} by availability"),
        "outages": outage_timeline_svg(av["worst"], av["start"], av["end"],
                                       title=f"Outages of the worst townships, {av['from']} to {av['to']}"),
    }


def render_index(data: dict[str, Any]) -> str:
    children = data["children"]
    chart_level = chart_level_for(children)
    child_label = (data["child_level"] or "child").lower()
    charts = {
        "levels": levels_chart(data["levels"], f"Coverage per level, {data['region']['name']}, {data['as_of']}"),
        "children": children_chart(children, chart_level,
                                   f"{LEVEL_LABELS[chart_level]} coverage per {child_label}, {data['as_of']}")
        if children else "",
        "trend": trend_chart(data, f"Coverage over time ({data['trend']['every']}ly), {data['region']['name']}"),
        **availability_charts(data.get("availability"), data["child_level"]),
    }
    return _environment().get_template("index.html.j2").render(
        data=data, charts=charts, maps=[p.render() for p in index_maps(data)],
        chart_level=chart_level, child_level_names=_level_names(children),
        trend_level_names=_level_names(data["trend"]["points"]))


def render_region_page(data: dict[str, Any], page: dict[str, Any]) -> str:
    children = page["children"]
    chart_level = chart_level_for(children)
    grandchildren = [g for c in children for g in c.get("children", [])]
    charts = {
        "levels": levels_chart(page["levels"], f"Coverage per level, {page['name']}, {data['as_of']}"),
        "children": children_chart(children, chart_level,
                                   f"{LEVEL_LABELS[chart_level]} coverage per {page['child_level']}, {page['name']}")
        if children else "",
        **availability_charts(page.get("availability"), page["child_level"]),
    }
    return _environment().get_template("region.html.j2").render(
        data=data, page=page, charts=charts, maps=[p.render() for p in page_maps(data, page)],
        chart_level=chart_level, child_level_names=_level_names(children),
        grandchild_level_names=_level_names(grandchildren))
