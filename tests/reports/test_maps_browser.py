"""The maps in headless Chromium, on the demo's full country: the national page and Sichuan's page.

Screenshots are kept as test artefacts in $CLOUDCTL_TEST_ARTEFACTS (default: test-artefacts/ at
the top of the repository) so a person can look at them after the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cloudctl.coverage.maps.scale import CLASS_COLOURS, class_index
from tests.reports.browser import dump_dom, png_size_and_ink, screenshot

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def artefacts() -> Path:
    path = Path(os.environ.get("CLOUDCTL_TEST_ARTEFACTS", ROOT / "test-artefacts")) / "maps"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cloudctl demo` as a user runs it (whole country, 41,352 townships), report as of 2015-05-31."""
    work = tmp_path_factory.mktemp("demo")
    out = work / "report"
    result = subprocess.run([sys.executable, "-m", "cloudctl", "--db", f"sqlite:///{work / 'demo.sqlite3'}", "demo",
                             "--as-of", "2015-05-31", "--out", str(out)], cwd=work, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


class MapDom(HTMLParser):
    """The rendered map elements: areas (with their hover titles), inset, legend swatches, labels."""

    def __init__(self, map_id: str) -> None:
        super().__init__()
        self.map_id, self.inside, self.depth = map_id, False, 0
        self.groups: list[str] = []
        self.areas: list[dict[str, str]] = []
        self.swatches: list[dict[str, str]] = []
        self.insets: list[str] = []
        self.texts: list[str] = []
        self._sink: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "svg" and a.get("id") == self.map_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "svg":
            self.depth += 1
        if tag == "g":
            self.groups.append(a.get("class", ""))
            if a.get("class") == "inset":
                self.insets.append(a.get("data-title", ""))
        if tag == "path" and "area" in a.get("class", "").split():
            self.areas.append({**a, "inset": "inset" in self.groups, "title": ""})
            self._sink = self.areas[-1]
        if tag == "rect" and a.get("class") == "swatch":
            self.swatches.append(a)
        if tag == "text":
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "g" and self.groups:
            self.groups.pop()
        if tag == "path":
            self._sink = None
        if tag == "svg":
            self.depth -= 1
            self.inside = self.depth > 0

    def handle_data(self, data: str) -> None:
        if self._sink is not None:
            self._sink["title"] += data
        elif self.inside and self.texts:
            self.texts[-1] += data


def rendered(page: Path, map_id: str, profile: Path) -> MapDom:
    dom = MapDom(map_id)
    dom.feed(dump_dom(page.as_uri(), profile))
    return dom


def township(entry: dict) -> tuple[int, int]:
    lv = next(lv for lv in entry["levels"] if lv["level"] == "township")
    return lv["covered"], lv["total"]


def check_fills(areas: list[dict[str, str]]) -> None:
    for a in areas:
        covered, total = int(a["data-covered"]), int(a["data-total"])
        assert a["fill"] == CLASS_COLOURS[class_index(covered / total)], a["data-code"]


def test_national_page_map(demo_report: Path, tmp_path: Path) -> None:
    data = json.loads((demo_report / "coverage.json").read_text(encoding="utf-8"))
    dom = rendered(demo_report / "index.html", "map-province", tmp_path / "profile")
    main = [a for a in dom.areas if not a["inset"] and "no-data" not in a["class"]]
    assert len(main) == 31 and {a["data-code"] for a in main} == {c["code"] for c in data["children"]}
    check_fills(main)
    by_code = {a["data-code"]: a for a in main}
    for child in data["children"]:
        covered, total = township(child)
        assert (int(by_code[child["code"]]["data-covered"]), int(by_code[child["code"]]["data-total"])) == \
            (covered, total)
    beijing = next(c for c in data["children"] if c["code"] == "11")
    covered, total = township(beijing)
    assert by_code["11"]["title"] == f"北京市 11: {covered:,} / {total:,} townships covered ({covered / total:.1%})" \
        .replace("%)", " %)")
    assert len({a["fill"] for a in main}) >= 3  # the provinces really differ in colour
    assert {a["data-code"] for a in dom.areas if "no-data" in a["class"] and not a["inset"]} == {"71", "81", "82"}
    assert dom.insets == ["南海诸岛"] and {"46", "44"} <= {a["data-code"] for a in dom.areas if a["inset"]}
    assert [s.get("data-low") for s in dom.swatches if s.get("data-low")] == ["0.00", "0.20", "0.40", "0.60", "0.80"]
    for text in ("南海诸岛", "南沙群岛", "钓鱼岛", "北京", "西藏", "台湾"):
        assert text in dom.texts, text
    shot = screenshot((demo_report / "index.html").as_uri(), artefacts() / "national.png", tmp_path / "profile",
                      size=(1200, 1400))
    assert png_size_and_ink(shot)[2] > 0.05
    assert data["maps"]["pages"]["index.html"][0]["not_on_map"] == []


def test_province_page_maps(demo_report: Path, tmp_path: Path) -> None:
    data = json.loads((demo_report / "coverage.json").read_text(encoding="utf-8"))
    page = next(p for p in data["drilldown"] if p["code"] == "51")
    summary = {m["level"]: m for m in data["maps"]["pages"]["provinces/51.html"]}
    html = demo_report / "provinces" / "51.html"
    prefectures = rendered(html, "map-prefecture", tmp_path / "profile")
    assert sorted(a["data-code"] for a in prefectures.areas) == sorted(c["code"] for c in page["children"])
    check_fills(prefectures.areas)
    counties = rendered(html, "map-county", tmp_path / "profile")
    all_counties = {g["code"] for c in page["children"] for g in c["children"]}
    drawn = {a["data-code"] for a in counties.areas}
    assert drawn | set(summary["county"]["not_on_map"]) == all_counties and len(drawn) == summary["county"]["drawn"]
    assert len(drawn) >= 180
    check_fills(counties.areas)
    assert "成都市" in prefectures.texts and not prefectures.insets
    assert len([s for s in counties.swatches if s.get("data-low")]) == 5
    shot = screenshot(html.as_uri(), artefacts() / "province-51.png", tmp_path / "profile", size=(1200, 2400))
    assert png_size_and_ink(shot)[2] > 0.05
