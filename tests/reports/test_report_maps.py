"""Maps in the report files: which map each page shows, its figures, and what is not on it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from cloudctl.audit import Actor
from cloudctl.coverage.maps.scale import CLASS_COLOURS, class_index
from cloudctl.coverage.report import ReportOptions, build_report, write_report
from cloudctl.store import Store, open_store
from tests.reports.conftest import AS_OF, DIVISION_FILES, LINKS_FILE, expected_levels, fixture_divisions

AREA = re.compile(r'<path class="area" data-code="(\d+)" data-covered="(\d+)" data-total="(\d+)" '
                  r'data-ratio="[\d.]+" fill="(#[0-9a-f]{6})"')


def map_svg(html: str, map_id: str) -> str:
    start = html.index(f'<svg xmlns="http://www.w3.org/2000/svg" class="map" id="{map_id}"')
    return html[start:html.index("</svg>", start)]


def test_every_page_maps_its_children_at_township_level(small_sqlite_store: Store, tmp_path: Path) -> None:
    data = build_report(small_sqlite_store, ReportOptions(as_of=AS_OF))
    write_report(data, tmp_path)
    names = fixture_divisions()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    areas = {m[0]: m[1:] for m in AREA.findall(map_svg(index, "map-province"))}
    assert set(areas) == {"33", "54"}  # the store's provinces, coloured; the other 29 drawn grey
    assert map_svg(index, "map-province").count('class="context"') == 29
    for code, (covered, total, fill) in areas.items():
        assert (int(total), int(covered)) == expected_levels(code, AS_OF)["township"]
        assert fill == CLASS_COLOURS[class_index(int(covered) / int(total))]
    page = (tmp_path / "provinces" / "33.html").read_text(encoding="utf-8")
    prefectures = {m[0] for m in AREA.findall(map_svg(page, "map-prefecture"))}
    counties = {m[0]: m[1:] for m in AREA.findall(map_svg(page, "map-county"))}
    assert prefectures == {c for c in names if len(c) == 4 and c.startswith("33")}
    assert set(counties) == {c for c in names if len(c) == 6 and c.startswith("33")}
    for code, (covered, total, _fill) in counties.items():
        assert (int(total), int(covered)) == expected_levels(code, AS_OF)["township"]
    assert 'href="#c3301"' in map_svg(page, "map-prefecture")  # a prefecture links to its table below
    maps = json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))["maps"]
    assert maps["pages"]["index.html"] == [{"level": "province", "drawn": 2, "not_on_map": [],
                                            "drawn_from_older_code": {}, "drawn_with_prefecture_land": [],
                                            "drawn_as_union_of_counties": []}]
    assert [m["drawn"] for m in maps["pages"]["provinces/33.html"]] == [2, 3]


def test_a_division_without_geometry_is_listed_under_the_map(tmp_path: Path, actor: Actor) -> None:
    from cloudctl.coverage.links import import_links_csv
    from cloudctl.divisions.importer import import_division_files

    files = []
    for path in DIVISION_FILES:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        files.append(copy)
    with (tmp_path / "areas.csv").open("a", encoding="utf-8") as f:
        f.write('330171,"测试经济开发区",3301,33\n')
    with (tmp_path / "streets.csv").open("a", encoding="utf-8") as f:
        f.write('330171001,"测试街道",330171,33,3301\n330171002,"另一街道",330171,33,3301\n')
    links = tmp_path / "links.csv"
    links.write_text(LINKS_FILE.read_text(encoding="utf-8") + "L-T1,330171001,fiber,100,2012-01-01,,中国电信\n",
                     encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        import_division_files(store, files, actor)
        import_links_csv(store, links, actor)
        data = build_report(store, ReportOptions(as_of=AS_OF))
    finally:
        store.dispose()
    out = tmp_path / "report"
    write_report(data, out)
    page = (out / "provinces" / "33.html").read_text(encoding="utf-8")
    assert 'data-code="330171"' not in map_svg(page, "map-county")
    table = page[page.index('id="map-county-missing"'):]
    table = table[:table.index("</table>")]
    row = r'<tr data-code="330171" data-covered="1" data-total="2">\s*<td>330171</td><td>测试经济开发区</td>'
    assert re.search(row, table)
    assert "development or administrative zone" in table
    assert "3 of 4 counties on the map" in re.sub(r"\s+", " ", page) and "1 not on the map" in page
    maps = json.loads((out / "coverage.json").read_text(encoding="utf-8"))["maps"]["pages"]["provinces/33.html"]
    assert maps[1]["level"] == "county" and maps[1]["not_on_map"] == ["330171"]
    md = (out / "coverage.md").read_text(encoding="utf-8")
    assert "| provinces/33.html | county | 3 | 330171 |" in md and "| index.html | province | 2 | – |" in md
