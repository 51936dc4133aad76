"""Writers of the report's files: JSON (the twin), CSV and Markdown (same figures), HTML pages.

Each renderer is a pure function (data dict -> text); write_report puts the files on disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudctl.coverage.report.charts import percent
from cloudctl.divisions.codes import LEVEL_NAMES as LEVELS
from cloudctl.inputs.csvout import csv_text  # no spreadsheet formulas in names
from cloudctl.inputs.paths import write_text_atomic

CSV_COLUMNS = ("section", "date", "parent_code", "code", "name", "level", "total", "covered", "ratio",
               "target_ratio", "target_by", "still_to_connect", "per_month")
PLAN_COLUMNS = ("rank", "code", "name", "kind", "province", "county", "score", "reasons")
AVAILABILITY_COLUMNS = ("section", "parent_code", "code", "name", "level", "links", "availability_ratio",
                        "downtime_seconds", "outages", "mttr_seconds", "unknown_seconds", "observed_seconds")


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _level_rows(section: str, date: str, parent: str | None, code: str | None, name: str,
                levels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for lv in levels:
        t = lv.get("target")
        yield {"section": section, "date": date, "parent_code": parent or "", "code": code or "", "name": name,
               "level": lv["level"], "total": lv["total"], "covered": lv["covered"], "ratio": f"{lv['ratio']:.6f}",
               "target_ratio": "" if not t else f"{t['ratio']:.6f}", "target_by": "" if not t else t["by"],
               "still_to_connect": "" if not t else t["needed"],
               "per_month": "" if not t or t["per_month"] is None else f"{t['per_month']:.2f}"}


def coverage_rows(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every coverage figure of the report, one row per (section, division, level)."""
    region = data["region"]
    as_of = data["as_of"]
    yield from _level_rows("region", as_of, None, region["code"], region["name"], data["levels"])
    page_levels = {page["code"]: page["levels"] for page in data["drilldown"]}  # these carry the child's targets
    for c in data["children"]:
        yield from _level_rows("child", as_of, region["code"], c["code"], c["name"],
                               page_levels.get(c["code"], c["levels"]))
    for page in data["drilldown"]:
        for c in page["children"]:
            yield from _level_rows("drilldown", as_of, page["code"], c["code"], c["name"], c["levels"])
            for g in c.get("children", []):
                yield from _level_rows("drilldown", as_of, c["code"], g["code"], g["name"], g["levels"])
    for p in data["trend"]["points"]:
        yield from _level_rows("trend", p["date"], None, region["code"], region["name"], p["levels"])


def render_csv(data: dict[str, Any]) -> str:
    return csv_text(CSV_COLUMNS, coverage_rows(data))


def render_plan_csv(entries: list[dict[str, Any]]) -> str:
    return csv_text(PLAN_COLUMNS, ([e["rank"], e["code"], e["name"], e["kind"], e["province"], e["county"],
                                    f"{e['score']:.4f}", "; ".join(e["reasons"])] for e in entries))


def availability_rows(av: dict[str, Any], code: str | None = None, prefix: str = "") -> Iterator[dict[str, Any]]:
    """One page's availability figures: the region per level, each child, the worst townships; `code`:
    the page's region (parent_code of its rows), `prefix` of the sections ("drilldown_" on region pages)."""
    for lv in av["levels"]:
        yield {"section": f"{prefix}region", "parent_code": code or "", "code": code or "", "name": "", **lv}
    for c in av["children"]:
        yield {"section": f"{prefix}child", "parent_code": code or "", **c, "level": "township"}
    for w in av["worst"]:
        yield {"section": f"{prefix}worst", "parent_code": code or "", **w, "level": "township"}


def all_availability_rows(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The report region's rows (sections region, child, worst), then each region page's (drilldown_*)."""
    yield from availability_rows(data["availability"], data["region"]["code"])
    for page in data["drilldown"]:
        if page.get("availability") and page["availability"]["known"]:
            yield from availability_rows(page["availability"], page["code"], "drilldown_")


def render_availability_csv(data: dict[str, Any]) -> str:
    return csv_text(AVAILABILITY_COLUMNS,
                    ([row.get(c) for c in AVAILABILITY_COLUMNS] for row in all_availability_rows(data)))


def _hours(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 3600:.1f} h"


def _avail(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio * 100:.3f} %"


def _md_availability(av: dict[str, Any] | None, depth: int = 2, name: str = "") -> list[str]:
    """A page's availability section; `depth`: its heading's level, `name`: the page's region (a region
    page measured against the target of a region it lies in, or the country's, says so)."""
    if not av:
        return []
    out = [f"{'#' * depth} Link availability, {av['from']} to {av['to']} ({av['timezone']})", ""]
    if not av["known"]:
        return [*out, "No agent reported on these links in this period: their availability is unknown.", ""]
    head = ["| {} | Links | Availability | Downtime | Outages | MTTR | Unknown |", "|---|--:|--:|--:|--:|--:|--:|"]
    out += [head[0].format("Level"), head[1]]
    out += [f"| {lv['level']} | {lv['links']} | {_avail(lv['availability_ratio'])} | "
            f"{_hours(lv['downtime_seconds'])} | {lv['outages']} | {_hours(lv['mttr_seconds'])} | "
            f"{_hours(lv['unknown_seconds'])} |" for lv in av["levels"]]
    t = av["target"]
    out += ["", "No availability target for the townships." if not t else
            f"Target: township links {_avail(t['ratio'])} by {t['by']}: {_avail(t['current_ratio'])} over the period, "
            f"{'met' if t['met'] else 'not met'}"
            + ("" if t["divisions_below"] is None else f"; {t['divisions_below']} townships below it") + "."
            + ("" if not name or t.get("region") == av.get("region") else
               f" ({'The national target' if t.get('region') is None else 'The target of region ' + t['region']}; "
               f"{_md(name)} has none of its own.)"), ""]
    if av["children"]:
        out += [head[0].format("Code | Name"), "|---" + head[1]]
        out += [f"| {c['code']} | {_md(c['name'])} | {c['links']} | {_avail(c['availability_ratio'])} | "
                f"{_hours(c['downtime_seconds'])} | {c['outages']} | {_hours(c['mttr_seconds'])} | "
                f"{_hours(c['unknown_seconds'])} |" for c in av["children"]]
        out.append("")
    if av["worst"]:
        out += [f"{'#' * (depth + 1)} The {len(av['worst'])} townships with the lowest availability", "",
                head[0].replace("| Links ", "").format("Code | Township") + " Outages (UTC) |",
                "|---|---|--:|--:|--:|--:|--:|---|"]
        for w in av["worst"]:
            spans = "; ".join(f"{o['start'][:16]} {_hours(o['seconds'])} ({o['link_id']})"
                              for o in w["outage_intervals"])
            out.append(f"| {w['code']} | {_md(w['name'])} | {_avail(w['availability_ratio'])} | "
                       f"{_hours(w['downtime_seconds'])} | {w['outages']} | {_hours(w['mttr_seconds'])} | "
                       f"{_hours(w['unknown_seconds'])} | {_md(spans) or '–'} |")
        out.append("")
    return out


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_levels(levels: list[dict[str, Any]]) -> list[str]:
    lines = ["| Level | Covered | Total | Ratio | Target | By | Still to connect | Per month |",
             "|---|--:|--:|--:|--:|---|--:|--:|"]
    for lv in levels:
        t = lv.get("target")
        target = ("–", "–", "–", "–") if not t else (
            percent(t["ratio"]), t["by"], "met" if t["met"] else t["needed"],
            "–" if t["met"] else ("overdue" if t["per_month"] is None else f"{t['per_month']:.1f}"))
        lines.append(f"| {lv['level']} | {lv['covered']} | {lv['total']} | {percent(lv['ratio'])} | "
                     + " | ".join(str(x) for x in target) + " |")
    return lines


def _md_children(children: list[dict[str, Any]], head: tuple[str, str] = ("Code", "Name")) -> list[str]:
    names = [n for n in LEVELS
             if any(lv["level"] == n for c in children for lv in c["levels"])]
    lines = [f"| {head[0]} | {head[1]} | " + " | ".join(names) + " |", "|---|---|" + "--:|" * len(names)]
    for c in children:
        by = {lv["level"]: lv for lv in c["levels"]}
        cells = [f"{percent(by[n]['ratio'])} ({by[n]['covered']}/{by[n]['total']})" if n in by else "–"
                 for n in names]
        lines.append(f"| {c['code']} | {_md(c['name'])} | " + " | ".join(cells) + " |")
    return lines


def _md_plan(entries: list[dict[str, Any]]) -> list[str]:
    if not entries:
        return ["Nothing left to connect at this level."]
    lines = ["| Rank | Code | Name | Kind | Province | County | Score | Why |", "|--:|---|---|---|---|---|--:|---|"]
    for e in entries:
        lines.append(f"| {e['rank']} | {e['code']} | {_md(e['name'])} | {e['kind']} | {_md(e['province'])} | "
                     f"{_md(e['county'])} | {e['score']:.2f} | {_md('; '.join(e['reasons']))} |")
    return lines


def _md_maps(maps: dict[str, Any]) -> list[str]:
    """Per page and map: how many areas are drawn and which divisions are not on the map."""
    if not maps.get("pages"):
        return []
    lines = ["## Maps", "", f"Boundaries: {maps['source']}.", "", "| Page | Level | On the map | Not on the map |",
             "|---|---|--:|---|"]
    for page, entries in maps["pages"].items():
        for m in entries:
            lines.append(f"| {page} | {m['level']} | {m['drawn']} | {', '.join(m['not_on_map']) or '–'} |")
    return [*lines, ""]


def render_markdown(data: dict[str, Any]) -> str:
    region = data["region"]
    out = [f"# Extranet coverage: {region['name']}, as of {data['as_of']}", ""]
    out += ["## Rates per level against targets", "", *_md_levels(data["levels"]), ""]
    if data["children"]:
        out += [f"## Coverage per {data['child_level']}", "", *_md_children(data["children"]), ""]
    trend = data["trend"]
    out += [f"## Trend ({trend['every']}ly)", ""]
    if trend["points"]:
        out += _md_children([{"code": p["date"], "name": region["name"], "levels": p["levels"]}
                             for p in trend["points"]], head=("Date", "Region"))
    out += ["", f"## Plan: top {len(data['plan']['entries'])} {data['plan']['level']} entries", "",
            *_md_plan(data["plan"]["entries"]), ""]
    out += _md_maps(data.get("maps") or {})
    out += _md_availability(data.get("availability"), 2, region["name"])
    for page in data["drilldown"]:
        out += [f"## {page['name']} ({page['code']})", "", *_md_levels(page["levels"]), ""]
        if page["children"]:
            out += [*_md_children(page["children"]), ""]
        for c in page["children"]:
            if c.get("children"):
                out += [f"### {c['name']} ({c['code']})", "", *_md_children(c["children"]), ""]
        out += _md_availability(page.get("availability"), 3, page["name"])
    return "\n".join(out).rstrip("\n") + "\n"


def write_report(data: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write index.html, coverage.{json,csv,md}, plan.csv, availability.csv (when any link's state is
    known in the section's period: the report region's rows and each region page's) and one page per
    child; returns the paths."""
    from cloudctl.coverage.report.html import render_index, render_region_page

    out_dir = Path(out_dir)
    files = {
        "coverage.json": render_json(data),
        "coverage.csv": render_csv(data),
        "coverage.md": render_markdown(data),
        "plan.csv": render_plan_csv(data["plan"]["entries"]),
        **({"availability.csv": render_availability_csv(data)}
           if data.get("availability") and data["availability"]["known"] else {}),
        "index.html": render_index(data),
    }
    pages = {c["code"]: c["page"] for c in data["children"] if c.get("page")}
    for page in data["drilldown"]:
        files[pages[page["code"]]] = render_region_page(data, page)
    written = []
    for name, text in files.items():
        path = out_dir / name
        write_text_atomic(path, text)
        written.append(path)
    return written
