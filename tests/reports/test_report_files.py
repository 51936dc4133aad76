"""The report's figures against the coverage definition, and its four files against each other."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import date
from pathlib import Path

import pytest

from cloudctl.coverage.report import ReportOptions, build_report, write_report
from cloudctl.coverage.report.charts import percent
from cloudctl.store import Store
from tests.reports.conftest import AS_OF, covered_on, expected_levels, fixture_divisions

GOLDEN = Path(__file__).parent / "golden"


def as_counts(levels: list[dict]) -> dict[str, tuple[int, int]]:
    return {lv["level"]: (lv["total"], lv["covered"]) for lv in levels}


def check_golden(files: dict[str, str]) -> None:
    """Compare exactly; on a mismatch write NAME.actual beside NAME.ref and fail (never re-record)."""
    bad = []
    for name, text in files.items():
        ref, actual = GOLDEN / f"{name}.ref", GOLDEN / f"{name}.actual"
        if ref.exists() and ref.read_text(encoding="utf-8") == text:
            actual.unlink(missing_ok=True)
        else:
            actual.write_text(text, encoding="utf-8")
            bad.append(f"{ref} (see {actual})")
    if bad:
        pytest.fail("differs from the golden file or it is missing: " + ", ".join(bad))


@pytest.fixture
def report(small_store: Store) -> dict:
    return build_report(small_store, ReportOptions(as_of=AS_OF, plan_limit=5, drilldown_plan_limit=3))


def test_figures_follow_the_definition(report: dict) -> None:
    assert report["as_of"] == "2015-05-31" and report["region"]["code"] is None
    assert as_counts(report["levels"]) == expected_levels(None, AS_OF)
    names = fixture_divisions()
    assert [c["code"] for c in report["children"]] == ["33", "54"]
    for child in report["children"]:
        assert child["name"] == names[child["code"]]
        assert as_counts(child["levels"]) == expected_levels(child["code"], AS_OF)
        assert child["page"] == f"provinces/{child['code']}.html"
    for page in report["drilldown"]:
        assert as_counts(page["levels"]) == expected_levels(page["code"], AS_OF)
        assert page["child_level"] == "prefecture"
        for pref in page["children"]:
            assert as_counts(pref["levels"]) == expected_levels(pref["code"], AS_OF)
            for county in pref["children"]:
                assert county["name"] == names[county["code"]]
                assert as_counts(county["levels"]) == expected_levels(county["code"], AS_OF)
    # The hand-made fixture, spelled out once: a retired county link, a same-day replacement,
    # a link activated on the date itself and one the day after.
    assert as_counts(report["levels"]) == {"province": (2, 2), "prefecture": (4, 3), "county": (6, 3),
                                           "township": (14, 6)}


def test_targets_gap_and_pace(report: dict) -> None:
    township = next(lv for lv in report["levels"] if lv["level"] == "township")
    t = township["target"]
    assert (t["ratio"], t["by"], t["region"]) == (0.8, "2017-12-31", None)
    assert t["needed"] == math.ceil(0.8 * 14) - 6
    months = (date(2017, 12, 31) - AS_OF).days / (365.2425 / 12)
    assert t["months_left"] == pytest.approx(months, abs=0.01)
    assert t["per_month"] == pytest.approx(t["needed"] / months, abs=0.01)
    assert next(lv for lv in report["levels"] if lv["level"] == "province")["target"] is None
    zhejiang = next(p for p in report["drilldown"] if p["code"] == "33")
    zj_township = next(lv for lv in zhejiang["levels"] if lv["level"] == "township")
    covered_33 = sum(1 for c in covered_on(AS_OF) if len(c) == 9 and c.startswith("33"))
    assert zj_township["target"]["needed"] == math.ceil(0.9 * 8) - covered_33
    assert next(p for p in report["drilldown"] if p["code"] == "54")["levels"][3]["target"] is None


def test_trend_points_follow_the_definition(report: dict) -> None:
    points = report["trend"]["points"]
    dates = [p["date"] for p in points]
    assert dates == ["2009-01-01"] + [f"{y}-12-31" for y in range(2009, 2015)] + ["2015-05-31"]
    for p in points:
        assert as_counts(p["levels"]) == expected_levels(None, date.fromisoformat(p["date"])), p["date"]


def test_plan_lists_only_uncovered_townships_with_reasons(report: dict) -> None:
    entries = report["plan"]["entries"]
    covered = covered_on(AS_OF)
    uncovered = {c for c in fixture_divisions() if len(c) == 9} - covered
    assert [e["rank"] for e in entries] == list(range(1, min(5, len(uncovered)) + 1))
    assert {e["code"] for e in entries} <= uncovered
    assert all(e["reasons"] for e in entries)
    for page in report["drilldown"]:
        assert all(e["code"].startswith(page["code"]) for e in page["plan"])
        assert len(page["plan"]) <= 3


def test_files_agree_with_the_json_and_the_golden_files(report: dict, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    written = write_report(report, out)
    expected = {"index.html", "coverage.json", "coverage.csv", "coverage.md", "plan.csv",
                "provinces/33.html", "provinces/54.html"}
    assert {str(p.relative_to(out)) for p in written} == expected
    assert all((out / name).stat().st_size > 0 for name in expected)
    data = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(report))
    rows = list(csv.DictReader(io.StringIO((out / "coverage.csv").read_text(encoding="utf-8"))))
    by_key = {(r["section"], r["date"], r["code"], r["level"]): r for r in rows}
    json_figures = [("region", data["as_of"], "", lv) for lv in data["levels"]]
    json_figures += [("child", data["as_of"], c["code"], lv) for c in data["children"] for lv in c["levels"]]
    json_figures += [("drilldown", data["as_of"], g["code"], lv) for p in data["drilldown"] for c in p["children"]
                     for g in [c, *c["children"]] for lv in g["levels"]]
    json_figures += [("trend", p["date"], "", lv) for p in data["trend"]["points"] for lv in p["levels"]]
    assert len(rows) == len(json_figures)
    for section, day, code, lv in json_figures:
        row = by_key[(section, day, code, lv["level"])]
        assert (int(row["total"]), int(row["covered"])) == (lv["total"], lv["covered"])
        assert float(row["ratio"]) == pytest.approx(lv["ratio"], abs=1e-6)
        if lv.get("target"):
            assert int(row["still_to_connect"]) == lv["target"]["needed"]
    md = (out / "coverage.md").read_text(encoding="utf-8")
    for lv in data["levels"]:
        assert f"| {lv['level']} | {lv['covered']} | {lv['total']} | {percent(lv['ratio'])} |" in md
    for c in data["children"]:
        for lv in c["levels"]:
            assert f"{percent(lv['ratio'])} ({lv['covered']}/{lv['total']})" in md
    plan_rows = list(csv.DictReader(io.StringIO((out / "plan.csv").read_text(encoding="utf-8"))))
    assert [r["code"] for r in plan_rows] == [e["code"] for e in data["plan"]["entries"]]
    # The coverage figures only: the plan's wording and weights belong to the plan's own tests.
    check_golden({"small.coverage.csv": (out / "coverage.csv").read_text(encoding="utf-8")})


def test_html_fetches_nothing(report: dict, tmp_path: Path) -> None:
    write_report(report, tmp_path)
    for page, name in [("index.html", "浙江省"), ("provinces/33.html", "浙江省"), ("provinces/54.html", "西藏自治区")]:
        html = (tmp_path / page).read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", html))
        assert urls <= {"http://www.w3.org/2000/svg"}, urls
        # url(#id) references a pattern or clip path inside the page itself; any other url( could fetch
        assert not re.search(r"<(script|link|img|iframe|object|embed)\b|@import|url\((?!#)", html, re.I)
        assert "<svg" in html and "<style>" in html
        assert name in html  # names are text, not outlines


def test_region_report_drills_into_prefectures(small_sqlite_store: Store, tmp_path: Path) -> None:
    data = build_report(small_sqlite_store, ReportOptions(as_of=AS_OF, region="54", trend_every="quarter"))
    assert data["region"] == {"code": "54", "name": "西藏自治区"}
    assert as_counts(data["levels"]) == expected_levels("54", AS_OF)
    assert data["child_level"] == "prefecture"
    assert [c["page"] for c in data["children"]] == ["prefectures/5401.html", "prefectures/5406.html"]
    lhasa = next(p for p in data["drilldown"] if p["code"] == "5401")
    assert [c["code"] for c in lhasa["children"]] == ["540102", "540121"]
    assert as_counts(lhasa["children"][0]["children"][0]["levels"]) == {"township": (1, 1)}
    assert data["trend"]["points"][-2]["date"] == "2015-03-31"
    write_report(data, tmp_path)
    assert (tmp_path / "prefectures" / "5406.html").exists()


def test_excluded_kinds_leave_numerator_and_denominator(small_sqlite_store: Store, tmp_path: Path) -> None:
    data = build_report(small_sqlite_store, ReportOptions(as_of=AS_OF, exclude_kinds=("subdistrict",)))
    township = next(lv for lv in data["levels"] if lv["level"] == "township")
    subdistricts = {c for c, n in fixture_divisions().items() if len(c) == 9 and n.endswith("街道")}
    covered = covered_on(AS_OF)
    assert township["total"] == 14 - len(subdistricts)
    assert township["covered"] == sum(1 for c in covered if len(c) == 9 and c not in subdistricts)
    # 上城区 has only subdistricts: its township level disappears, and the pages still render
    hangzhou = next(c for p in data["drilldown"] for c in p["children"] if c["code"] == "3301")
    shangcheng = next(c for c in hangzhou["children"] if c["code"] == "330102")
    assert [lv["level"] for lv in shangcheng["levels"]] == ["county"]
    write_report(data, tmp_path)
    page = (tmp_path / "provinces" / "33.html").read_text(encoding="utf-8")
    assert "not counting kinds: subdistrict" in page and "上城区" in page


def test_no_drilldown(small_sqlite_store: Store, tmp_path: Path) -> None:
    data = build_report(small_sqlite_store, ReportOptions(as_of=AS_OF, drilldown=False))
    assert data["drilldown"] == [] and all(c["page"] is None for c in data["children"])
    written = write_report(data, tmp_path)
    assert not (tmp_path / "provinces").exists() and len(written) == 5
    assert 'href="provinces/' not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_empty_store_gives_an_empty_report_that_says_what_to_do(sqlite_store: Store, tmp_path: Path) -> None:
    data = build_report(sqlite_store, ReportOptions(as_of=AS_OF))
    assert data["levels"] == [] and data["children"] == [] and data["plan"]["entries"] == []
    write_report(data, tmp_path)
    assert "cloudctl divisions import" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "coverage.csv").read_text(encoding="utf-8").count("\n") == 1  # the header only
