"""The chart functions: plain data in, SVG out; checked by parsing the SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cloudctl.coverage.report.charts import (
    FONT_FAMILY,
    Bar,
    Series,
    bar_chart_svg,
    line_chart_svg,
    percent,
    ranked_bar_chart_svg,
)

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def bar_groups(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//s:g[@class='bar']", NS)


def test_bar_widths_are_proportional_to_ratios_and_targets_sit_at_their_ratio() -> None:
    bars = [Bar("province", "省", 31, 31), Bar("prefecture", "地", 323, 342, 0.95, "by 2018-12-31"),
            Bar("township", "乡", 0, 41352, 0.6)]
    root = parse(bar_chart_svg(bars, title="Coverage"))
    groups = bar_groups(root)
    assert [g.get("data-key") for g in groups] == ["province", "prefecture", "township"]
    widths = [float(g.find("s:rect", NS).get("width")) for g in groups]
    full = widths[0]
    assert full > 0
    assert widths[1] == pytest.approx(full * 323 / 342, abs=0.1)
    assert widths[2] == 0
    x0 = float(groups[0].find("s:rect", NS).get("x"))
    targets = {g.get("data-key"): float(g.find("s:line[@class='target']", NS).get("x1")) for g in groups
               if g.find("s:line[@class='target']", NS) is not None}
    assert set(targets) == {"prefecture", "township"}
    assert targets["prefecture"] == pytest.approx(x0 + full * 0.95, abs=0.1)
    assert targets["township"] == pytest.approx(x0 + full * 0.6, abs=0.1)
    assert groups[1].get("data-covered") == "323" and groups[1].get("data-total") == "342"


def test_text_stays_text_escaped_with_a_cjk_font_family() -> None:
    svg = bar_chart_svg([Bar("11", "北京市 <&> \"x\"", 1, 3)], title="乡镇 & 街道")
    root = parse(svg)  # parses: the special characters are escaped
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "北京市 <&> \"x\"" in texts
    assert "乡镇 & 街道" in texts
    assert "Noto Sans CJK SC" in root.get("font-family") and root.get("font-family") == FONT_FAMILY
    assert "33.3 %  (1/3)" in texts


def test_ranked_chart_sorts_by_ratio_then_label_and_limits() -> None:
    bars = [Bar("a", "甲", 1, 4), Bar("b", "乙", 3, 4), Bar("c", "丙", 0, 0), Bar("d", "丁", 2, 8)]
    keys = [g.get("data-key") for g in bar_groups(parse(ranked_bar_chart_svg(bars, title="t")))]
    assert keys == ["b", "d", "a", "c"]  # 75 %, 25 % twice (丁 U+4E01 before 甲 U+7532), 0 of 0 last
    keys = [g.get("data-key") for g in bar_groups(parse(ranked_bar_chart_svg(bars, title="t", limit=2)))]
    assert keys == ["b", "d"]


def test_line_chart_points_follow_values_and_skip_missing() -> None:
    series = [Series("county", "县", [0.0, 0.5, 1.0]), Series("township", "乡", [None, 0.25, 0.5])]
    root = parse(line_chart_svg(["2009", "2010", "2011"], series, title="trend",
                                targets=[("township", 0.6, "target 60 %")]))
    groups = root.findall(".//s:g[@class='series']", NS)
    county = [(float(c.get("cx")), float(c.get("cy"))) for c in groups[0].findall("s:circle", NS)]
    township = groups[1].findall("s:circle", NS)
    assert len(county) == 3 and len(township) == 2
    assert [c.get("data-x") for c in township] == ["2010", "2011"]
    (x0, y0), (x1, y1), (x2, y2) = county
    assert x0 < x1 < x2 and y0 > y1 > y2  # SVG y grows downwards
    assert y1 == pytest.approx((y0 + y2) / 2, abs=0.1)
    assert float(township[0].get("cy")) == pytest.approx((y0 + y1) / 2, abs=0.1)  # 25 % halfway to 50 %
    target = root.find(".//s:line[@class='target']", NS)
    assert float(target.get("y1")) == pytest.approx(y0 + (y2 - y0) * 0.6, abs=0.1)


def test_line_chart_with_a_single_date_and_no_series_still_renders() -> None:
    root = parse(line_chart_svg(["2015-05-31"], [Series("province", "省", [1.0])], title="one"))
    assert len(root.findall(".//s:circle", NS)) == 1
    parse(line_chart_svg([], [], title="empty"))


def test_percent_format() -> None:
    assert percent(0.335993) == "33.6 %"
    assert percent(1.0) == "100.0 %"
    assert percent(0.94444, 2) == "94.44 %"


def test_bars_link_to_their_page_when_given() -> None:
    root = parse(bar_chart_svg([Bar("11", "北京市", 1, 2, href="provinces/11.html"), Bar("12", "天津市", 1, 2)],
                               title="t"))
    links = root.findall("s:a", NS)
    assert [a.get("href") for a in links] == ["provinces/11.html"]
    assert links[0].find("s:g", NS).get("data-key") == "11"
    assert len(bar_groups(root)) == 2
