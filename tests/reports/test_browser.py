"""Open the report in headless Chromium: it renders (a non-blank screenshot) and shows the JSON's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudctl.coverage.report import ReportOptions, build_report, write_report
from cloudctl.coverage.report.charts import percent
from cloudctl.store import Store
from tests.reports.browser import dump_dom, figures, png_size_and_ink, screenshot
from tests.reports.conftest import AS_OF

pytestmark = pytest.mark.browser


@pytest.fixture
def report_dir(small_sqlite_store: Store, tmp_path: Path) -> Path:
    data = build_report(small_sqlite_store, ReportOptions(as_of=AS_OF))
    out = tmp_path / "report"
    write_report(data, out)
    return out


def test_screenshot_is_rendered_and_not_blank(report_dir: Path, tmp_path: Path) -> None:
    blank_page = tmp_path / "blank.html"
    blank_page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    blank = screenshot(blank_page.as_uri(), tmp_path / "blank.png", tmp_path / "profile")
    shot = screenshot((report_dir / "index.html").as_uri(), tmp_path / "index.png", tmp_path / "profile")
    width, height, ink = png_size_and_ink(shot)
    _, _, blank_ink = png_size_and_ink(blank)
    assert (width, height) == (1200, 2400)
    assert blank_ink < 0.01  # the control: a blank page filters to zeros
    assert ink > 0.01 and ink > 20 * blank_ink, (ink, blank_ink)
    page = screenshot((report_dir / "provinces" / "54.html").as_uri(), tmp_path / "54.png", tmp_path / "profile")
    assert png_size_and_ink(page)[2] > 0.01


def test_rendered_figures_match_the_json(report_dir: Path, tmp_path: Path) -> None:
    data = json.loads((report_dir / "coverage.json").read_text(encoding="utf-8"))
    found = figures(dump_dom((report_dir / "index.html").as_uri(), tmp_path / "profile"))
    level_rows = {e["data-level"]: e for e in found if e["tag"] == "tr" and e["table"] == "levels"}
    assert set(level_rows) == {lv["level"] for lv in data["levels"]}
    for lv in data["levels"]:
        row = level_rows[lv["level"]]
        assert (int(row["data-covered"]), int(row["data-total"])) == (lv["covered"], lv["total"])
        assert f"{lv['covered']:,}" in row["text"] and percent(lv["ratio"]) in row["text"]
        if lv["target"]:
            assert percent(lv["target"]["ratio"]) in row["text"] and f"{lv['target']['needed']:,}" in row["text"]
    bars = {e["data-key"]: e for e in found if e["tag"] == "g" and e.get("class") == "bar"}
    for lv in data["levels"]:
        assert (int(bars[lv["level"]]["data-covered"]), int(bars[lv["level"]]["data-total"])) == \
            (lv["covered"], lv["total"])
    cells = {(e["table"], e.get("data-level")): e for e in found if e["tag"] == "td"}
    child_cells = [e for e in found if e["tag"] == "td" and e["table"] == "children-table"]
    expected_cells = [(lv["level"], lv["covered"], lv["total"]) for c in data["children"] for lv in c["levels"]]
    assert [(e["data-level"], int(e["data-covered"]), int(e["data-total"])) for e in child_cells] == expected_cells
    for c in data["children"]:  # the ranked chart: one bar per province with its township figures
        township = next(lv for lv in c["levels"] if lv["level"] == "township")
        assert (int(bars[c["code"]]["data-covered"]), int(bars[c["code"]]["data-total"])) == \
            (township["covered"], township["total"])
        assert c["name"] in bars[c["code"]]["text"]
    trend_cells = [e for e in found if e["tag"] == "td" and e["table"] == "trend-table"]
    assert [(e["data-level"], int(e["data-covered"])) for e in trend_cells] == \
        [(lv["level"], lv["covered"]) for p in data["trend"]["points"] for lv in p["levels"]]
    plan_rows = [e for e in found if e["tag"] == "tr" and e["table"] == "plan-table"]
    assert [e["data-code"] for e in plan_rows] == [e["code"] for e in data["plan"]["entries"]]
    assert all(r in row["text"] for row, entry in zip(plan_rows, data["plan"]["entries"], strict=True)
               for r in entry["reasons"])
    assert cells  # the DOM was parsed into cells at all


def test_drilldown_page_figures_match_the_json(report_dir: Path, tmp_path: Path) -> None:
    data = json.loads((report_dir / "coverage.json").read_text(encoding="utf-8"))
    page = next(p for p in data["drilldown"] if p["code"] == "54")
    found = figures(dump_dom((report_dir / "provinces" / "54.html").as_uri(), tmp_path / "profile"))
    level_rows = {e["data-level"]: e for e in found if e["tag"] == "tr" and e["table"] == "levels"}
    assert {k: (int(v["data-covered"]), int(v["data-total"])) for k, v in level_rows.items()} == \
        {lv["level"]: (lv["covered"], lv["total"]) for lv in page["levels"]}
    for pref in page["children"]:
        cells = [e for e in found if e["tag"] == "td" and e["table"] == f"grandchildren-{pref['code']}"]
        assert [(e["data-level"], int(e["data-covered"]), int(e["data-total"])) for e in cells] == \
            [(lv["level"], lv["covered"], lv["total"]) for c in pref["children"] for lv in c["levels"]]
