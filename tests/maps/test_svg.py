"""The choropleth renderer on the shipped geometry: areas, fills by class, hover titles, legend, inset."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from cloudctl.coverage.maps.geometry import china_map, province_map
from cloudctl.coverage.maps.scale import CLASS_COLOURS, NO_FIGURES, class_index, fill_for
from cloudctl.coverage.maps.svg import Figure, choropleth


class Areas(HTMLParser):
    """Each <path class="area ..."> with its attributes, the text of its <title>, and whether it is in the inset."""

    def __init__(self) -> None:
        super().__init__()
        self.areas: list[dict[str, str]] = []
        self.stack: list[str] = []
        self.texts: list[str] = []
        self._title: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "g":
            self.stack.append(a.get("class", ""))
        if tag == "path" and "area" in a.get("class", "").split():
            a["inset"] = "1" if "inset" in self.stack else ""
            a["title"] = ""
            self.areas.append(a)
            self._title = a
        if tag == "text":
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self.stack:
            self.stack.pop()
        if tag == "path":
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title["title"] += data
        elif self.texts:
            self.texts[-1] += data


def provinces_figures() -> list[Figure]:
    data = china_map()
    assert data is not None
    out = []
    for i, (code, entry) in enumerate(sorted(data.layers["province"].items())):
        total = 100 + i
        out.append(Figure(code, entry["name"], (i * 37) % (total + 1), total, f"provinces/{code}.html"))
    return out


def parse(svg: str) -> Areas:
    p = Areas()
    p.feed(svg)
    return p


def test_class_breaks() -> None:
    assert [class_index(r) for r in (0, 0.1999, 0.2, 0.5, 0.7999, 0.8, 1.0)] == [0, 0, 1, 2, 3, 4, 4]
    assert fill_for(0, 0) == NO_FIGURES and fill_for(3, 3) == CLASS_COLOURS[-1]


def test_national_map_colours_every_province_by_its_ratio() -> None:
    figures = provinces_figures()
    view = choropleth(china_map(), "province", [*figures, Figure("99", "不存在省", 1, 2)], title="t",
                      unit="townships", map_id="m")
    assert len(figures) == 31
    assert sorted(view.drawn) == sorted(f.code for f in figures)
    assert [f.code for f in view.not_on_map] == ["99"]  # no geometry: reported, not dropped silently
    parsed = parse(view.svg)
    main = {a["data-code"]: a for a in parsed.areas if not a["inset"] and "no-data" not in a["class"]}
    assert set(main) == {f.code for f in figures}
    for f in figures:
        area = main[f.code]
        assert area["fill"] == CLASS_COLOURS[class_index(f.covered / f.total)]
        assert (int(area["data-covered"]), int(area["data-total"])) == (f.covered, f.total)
        assert area["title"] == f"{f.name} {f.code}: {f.covered:,} / {f.total:,} townships covered " \
                                f"({f.covered / f.total * 100:.1f} %)"
        assert len(area["d"]) > 100 and area["d"].startswith("M")
    assert '<a href="provinces/11.html"><path class="area" data-code="11"' in view.svg
    hatched = {a["data-code"]: a for a in parsed.areas if "no-data" in a["class"] and not a["inset"]}
    assert set(hatched) == {"71", "81", "82"}  # Taiwan, Hong Kong, Macao drawn, marked as without data
    assert all(a["fill"] == "url(#m-hatch)" and "资料暂缺" in a["title"] for a in hatched.values())


def test_national_map_has_the_inset_legend_labels_and_marks() -> None:
    svg = choropleth(china_map(), "province", provinces_figures(), title="t", unit="townships", map_id="m").svg
    parsed = parse(svg)
    inset = [a for a in parsed.areas if a["inset"]]
    assert {"44", "45", "46", "71"} <= {a["data-code"] for a in inset}  # the coast around the South China Sea
    assert 'class="inset" data-title="南海诸岛"' in svg
    for name in ("南海诸岛", "南沙群岛", "西沙群岛", "钓鱼岛", "赤尾屿", "北京", "新疆", "台湾"):
        assert name in parsed.texts, name
    assert len(re.findall(r'class="swatch" data-low', svg)) == 5 and "data-no-registry" in svg
    sea_lines = re.findall(r'class="sea-line" d="([^"]+)"', svg)
    assert len(sea_lines) == 2 and sea_lines[1].count("M") >= 9  # main map and inset; nine dashes in the inset
    assert re.search(r'class="islands" data-code="46"', svg)  # the Sansha islands as dots


def test_province_map_counties_and_a_prefecture_cut_out() -> None:
    data = province_map("51")
    assert data is not None
    counties = sorted(data.layers["county"])
    figs = [Figure(c, data.layers["county"][c]["name"], 1, 4) for c in counties]
    whole = choropleth(data, "county", figs, title="t", unit="townships", map_id="c")
    assert len(whole.drawn) == len(counties) >= 180
    part = choropleth(data, "county", figs, title="t", unit="townships", map_id="c", within="5101")
    assert part.drawn and all(c.startswith("5101") for c in part.drawn)
    assert part.svg.count('class="context"') == len(counties) - len(part.drawn)  # the rest grey
    x0, y0, x1, _y1 = data.layers["prefecture"]["5101"]["bbox"]
    vb = [float(v) for v in re.search(r'viewBox="([^"]+)"', part.svg).group(1).split()]
    assert vb[0] < x0 and vb[1] < y0 and vb[0] + vb[2] > x1 and vb[2] < data.width / 2


@pytest.mark.parametrize("code", ["11", "46", "65"])
def test_every_shipped_map_is_in_its_frame(code: str) -> None:
    data = province_map(code)
    assert data is not None
    for layer in ("prefecture", "county"):
        for entry in data.layers[layer].values():
            x0, y0, x1, y1 = entry["bbox"]
            assert -1 <= x0 < x1 <= data.width + 1 and -1 <= y0 < y1 <= data.height + 1
    assert bool(data.insets) == (code == "46")  # Hainan shows the South China Sea in an inset


def test_an_area_drawn_only_in_the_inset_is_on_the_map() -> None:
    data = province_map("46")
    assert data is not None
    assert "4603" not in data.layers["prefecture"] and "4603" in data.codes_in("prefecture")  # 三沙市: reefs only
    figs = [Figure(c, c, 1, 2) for c in ("4601", "4602", "4603", "4604", "4690")]
    view = choropleth(data, "prefecture", figs, title="t", unit="townships", map_id="h")
    assert "4603" in view.drawn and not view.not_on_map
    assert re.search(r'class="islands" data-code="4603"[^>]*/><path d="[^"]+" fill="none" stroke="#41b6c4"', view.svg)
