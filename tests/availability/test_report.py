"""The report's availability section: the small report fixture (tests/reports) with agents' reports for
May 2015 through the real ingest; its figures against the independent computation from the reports
(tests/availability/reference.py), per level, per province (with the townships' bands) and for the
worst townships with their outages; the target line; the same figures in the HTML charts and
tables, the Markdown and availability.csv; Chromium renders the charts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cloudctl.api.heartbeats import make_heartbeat
from cloudctl.api.ingest import apply_heartbeats
from cloudctl.api.registry import create_enrolment, exchange_token
from cloudctl.audit import Actor
from cloudctl.coverage.model import Target
from cloudctl.coverage.report import ReportOptions, build_report, write_report
from cloudctl.coverage.targets import set_target
from cloudctl.store import Store
from tests.availability.reference import Expected, expected
from tests.reports.conftest import AS_OF

ZONE = ZoneInfo("Asia/Shanghai")
H = 3_600_000
SILENCE_MS = 3 * H
P0 = round(datetime(2015, 5, 1, tzinfo=ZONE).timestamp() * 1000)
P1 = round(datetime(2015, 6, 1, tzinfo=ZONE).timestamp() * 1000)
# link -> (township, first day it is active in May; None: the whole month)
LINKS = {"L-330102001": ("330102001", None), "L-330102002": ("330102002", None),
         "L-330127100": ("330127100", None), "L-540102001": ("540102001", None),
         "L-540121100": ("540121100", date(2015, 5, 31)), "L-330127200b": ("330127200", None)}


def state(link: str, t: int) -> int | None:
    """The hand-made history: the state reported at t, or None when the agent is silent."""
    day = (t - P0) / (24 * H)
    if link == "L-330102001":
        return 0 if 9.0 <= day < 9.125 else 1  # 3 h down on May 10
    if link == "L-330102002":
        return None if 19.0 <= day < 21.0 else 1  # silent for two days
    if link == "L-330127100":
        return 0 if 14.0 <= day < 15.0 or 24.0 <= day < 24.1 else 1  # a day, and 3 h (hourly reports), down
    if link == "L-540102001":
        return 0 if 30.9 <= day < 31.05 else 1  # down from 22:00 on May 31 across the end of the month
    if link == "L-540121100":
        return 1 if day >= 30.0 else None  # reports from its first day on
    return None  # L-330127200b: no agent reports


@pytest.fixture
def reported(small_store: Store, actor: Actor) -> dict[str, list[tuple[int, int]]]:
    agents = {}
    for town in sorted({t for t, _ in LINKS.values()} - {"330127200"}):
        who, credential = exchange_token(small_store, create_enrolment(small_store, Actor("op"), town, "access").token)
        agents[town] = (who.agent_id, credential)
    reports: dict[str, list[tuple[int, int]]] = {k: [] for k in LINKS}
    for seq, t in enumerate(range(P0 - 2 * H, P1 + 2 * H, H), start=1):
        beats = []
        for town, (agent_id, credential) in agents.items():
            results = [{"link_id": k, "up": bool(up)} for k, (tw, _) in LINKS.items()
                       if tw == town and (up := state(k, t)) is not None]
            for r in results:
                reports[r["link_id"]].append((t, int(r["up"])))
            if results:
                beats.append(make_heartbeat(agent_id, seq, results, credential=credential, sent_at=t / 1000,
                                            now=t / 1000 + 1))
        with small_store.begin() as conn:
            assert all(not isinstance(a, Exception) for a in apply_heartbeats(conn, beats, SILENCE_MS / 1000))
    return reports


def reference_totals(reported: dict[str, list[tuple[int, int]]]) -> Callable[[list[str]], tuple[int, int, int, int]]:
    """(up, down, outages, observed span) in ms of a set of links over May 2015, from the reports themselves."""
    per_link = {}
    for k, (_town, first) in LINKS.items():
        a = P0 if first is None else round(datetime(first.year, first.month, first.day, tzinfo=ZONE).timestamp()
                                           * 1000)
        per_link[k] = expected(reported[k], SILENCE_MS, a, P1)

    def total(keys: list[str]) -> tuple[int, int, int, int]:
        e = Expected()
        for k in keys:
            e.add(per_link[k])
        return e.up, e.down, e.outages, e.span
    return total


def figures(row: dict) -> tuple:  # type: ignore[type-arg]
    return (round(row["up_seconds"] * 1000), round(row["downtime_seconds"] * 1000), row["outages"],
            round(row["observed_seconds"] * 1000))


def test_the_section_matches_the_reports(small_store: Store, reported: dict, actor: Actor,  # type: ignore[type-arg]
                                         tmp_path: Path) -> None:
    set_target(small_store, Target("township", 0.99, date(2016, 12, 31), None, "availability"), actor)
    data = build_report(small_store, ReportOptions(as_of=AS_OF, availability_days=31, availability_worst=3))
    av = data["availability"]
    assert (av["from"], av["to"], av["known"]) == ("2015-05-01", "2015-05-31", True)
    total = reference_totals(reported)
    township = next(lv for lv in av["levels"] if lv["level"] == "township")
    assert figures(township) == total(list(LINKS)) and township["links"] == 6
    provinces = {c["code"]: c for c in av["children"]}
    assert set(provinces) == {"33", "54"}
    for code, child in provinces.items():
        keys = [k for k, (t, _) in LINKS.items() if t.startswith(code)]
        up, down, outages, span = total(keys)
        assert (round(child["downtime_seconds"] * 1000), child["outages"], round(child["observed_seconds"] * 1000)) \
            == (down, outages, span)
        assert child["availability_ratio"] == round(up / (up + down), 6)
    # bands from the target (0.99): 330102001 (3 h of 31 days) meets it, 330127100 (26.4 h) is below,
    # 330127200 nothing known; in Tibet 540102001 and 540121100 meet it
    assert provinces["33"]["bands"] == {"meets": 2, "near": 0, "below": 1, "unknown": 1}
    assert provinces["54"]["bands"] == {"meets": 2, "near": 0, "below": 0, "unknown": 0}
    assert [w["code"] for w in av["worst"]] == ["330127100", "330102001", "540102001"]  # 27 h, 3 h, 2 h down
    worst = av["worst"][0]
    assert figures(worst) == total(["L-330127100"])
    assert [o["seconds"] for o in worst["outage_intervals"]] == [86400.0, 10800.0]
    assert av["worst"][2]["outage_intervals"] == [  # cut at the end of the period
        {"link_id": "L-540102001", "start": "2015-05-31T14:00:00.000+00:00", "end": "2015-05-31T16:00:00.000+00:00",
         "seconds": 7200.0}]
    assert av["target"]["met"] is False and av["target"]["divisions_below"] == 1
    up, down, _, _ = total(list(LINKS))
    assert av["target"]["current_ratio"] == round(up / (up + down), 6)

    files = write_report(data, tmp_path / "report")
    assert (tmp_path / "report" / "availability.csv") in files
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="outage"') == sum(len(w["outage_intervals"]) for w in av["worst"])
    assert 'class="target" data-target="0.990000"' in html
    for c in av["children"]:
        assert f'data-key="{c["code"]}" data-ratio="{c["availability_ratio"]:.6f}"' in html
    assert 'id="availability-target" class="target-line behind"' in html
    md = (tmp_path / "report" / "coverage.md").read_text(encoding="utf-8")
    assert "## Link availability, 2015-05-01 to 2015-05-31 (Asia/Shanghai)" in md
    assert "not met; 1 townships below it" in md
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report" / "availability.csv").read_text(encoding="utf-8"))))
    assert [r["code"] for r in rows if r["section"] == "worst"] == ["330127100", "330102001", "540102001"]
    assert {r["code"]: int(r["outages"]) for r in rows if r["section"] == "child"} == \
        {c["code"]: c["outages"] for c in av["children"]}
    assert json.loads((tmp_path / "report" / "coverage.json").read_text(encoding="utf-8"))["availability"] == av


def test_each_province_page_shows_its_own_prefectures_worst_townships_and_target(
        small_store: Store, reported: dict, actor: Actor, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """浙江 (33) has no availability target of its own: its page measures against the national one (99 %);
    西藏 (54) has its own (99.8 %), under which 八廓街道 (2 h down in 31 days: 99.73 %) falls short."""
    set_target(small_store, Target("township", 0.99, date(2016, 12, 31), None, "availability"), actor)
    set_target(small_store, Target("township", 0.998, date(2016, 6, 30), "54", "availability"), actor)
    data = build_report(small_store, ReportOptions(as_of=AS_OF, availability_days=31, availability_worst=3))
    total = reference_totals(reported)
    pages = {p["code"]: p["availability"] for p in data["drilldown"]}
    assert set(pages) == {"33", "54"}
    for code, av in pages.items():
        assert (av["region"], av["from"], av["to"], av["known"]) == (code, "2015-05-01", "2015-05-31", True)
        keys = [k for k, (t, _) in LINKS.items() if t.startswith(code)]
        township = next(lv for lv in av["levels"] if lv["level"] == "township")
        assert figures(township) == total(keys) and township["links"] == len(keys)
        # its own prefectures, with their own links' figures, and no other province's
        prefectures = {c["code"]: c for c in av["children"]}
        assert set(prefectures) == {t[:4] for t, _ in LINKS.values() if t.startswith(code)}
        for pref, child in prefectures.items():
            up, down, outages, span = total([k for k, (t, _) in LINKS.items() if t.startswith(pref)])
            assert (round(child["downtime_seconds"] * 1000), child["outages"], round(child["observed_seconds"] * 1000),
                    child["availability_ratio"]) == (down, outages, span, round(up / (up + down), 6))
        assert all(w["code"].startswith(code) for w in av["worst"])
    assert [w["code"] for w in pages["33"]["worst"]] == ["330127100", "330102001", "330102002"]
    assert [w["code"] for w in pages["54"]["worst"]] == ["540102001", "540121100"]
    assert figures(pages["54"]["worst"][0]) == total(["L-540102001"])
    assert pages["54"]["worst"][0]["outage_intervals"] == data["availability"]["worst"][2]["outage_intervals"]
    # the target line: 33 inherits the national target, 54 has its own
    t33, t54 = pages["33"]["target"], pages["54"]["target"]
    up, down, _, _ = total([k for k, (t, _) in LINKS.items() if t.startswith("33")])
    assert (t33["ratio"], t33["region"], t33["current_ratio"], t33["divisions_below"]) == \
        (0.99, None, round(up / (up + down), 6), 1)
    up, down, _, _ = total([k for k, (t, _) in LINKS.items() if t.startswith("54")])
    assert (t54["ratio"], t54["region"], t54["current_ratio"], t54["divisions_below"], t54["met"]) == \
        (0.998, "54", round(up / (up + down), 6), 1, False)
    assert pages["54"]["children"][0]["bands"] == {"meets": 1, "near": 1, "below": 0, "unknown": 0}
    assert data["availability"]["target"]["ratio"] == 0.99  # the national page keeps the national target

    out = tmp_path / "report"
    write_report(data, out)
    for code, av in pages.items():
        html = (out / "provinces" / f"{code}.html").read_text(encoding="utf-8")
        other = "54" if code == "33" else "33"
        assert 'id="availability"' in html and 'id="availability-empty"' not in html
        assert html.count('class="outage"') == sum(len(w["outage_intervals"]) for w in av["worst"]) > 0
        assert f'class="target" data-target="{av["target"]["ratio"]:.6f}"' in html
        for c in av["children"]:
            assert f'data-key="{c["code"]}" data-ratio="{c["availability_ratio"]:.6f}"' in html
        rows = html[html.index('id="availability-worst"'):].split("</table>")[0]
        assert [w["code"] for w in av["worst"]] == [r.split('"')[0] for r in rows.split('<tr data-code="')[1:]]
        assert f'data-key="{other}' not in html and f'<tr data-code="{other}' not in html
    assert '<span class="target-from" data-region="">(the national target; 浙江省 has none of its own)' in \
        (out / "provinces" / "33.html").read_text(encoding="utf-8")
    assert "target-from" not in (out / "provinces" / "54.html").read_text(encoding="utf-8")
    md = (out / "coverage.md").read_text(encoding="utf-8")
    tibet = md[md.index("## 西藏自治区 (54)"):]
    assert "### Link availability, 2015-05-01 to 2015-05-31 (Asia/Shanghai)" in tibet
    assert "Target: township links 99.800 % by 2016-06-30" in tibet and "none of its own" not in tibet
    zhejiang = md[md.index("## 浙江省 (33)"):md.index("## 西藏自治区 (54)")]
    assert "(The national target; 浙江省 has none of its own.)" in zhejiang
    rows = list(csv.DictReader(io.StringIO((out / "availability.csv").read_text(encoding="utf-8"))))
    for code, av in pages.items():
        assert [r["code"] for r in rows if r["section"] == "drilldown_worst" and r["parent_code"] == code] == \
            [w["code"] for w in av["worst"]]
        assert {r["code"]: float(r["availability_ratio"]) for r in rows
                if r["section"] == "drilldown_child" and r["parent_code"] == code} == \
            {c["code"]: c["availability_ratio"] for c in av["children"]}
    assert [r["code"] for r in rows if r["section"] == "worst"] == ["330127100", "330102001", "540102001"]
    assert json.loads((out / "coverage.json").read_text(encoding="utf-8"))["drilldown"][1]["availability"] == \
        pages["54"]

    # a report of one province: its prefecture pages inherit the province's target, else the country's
    set_target(small_store, Target("township", 0.95, date(2016, 6, 30), "33", "availability"), actor)
    one = build_report(small_store, ReportOptions(as_of=AS_OF, region="33", availability_days=31))
    assert (one["availability"]["target"]["ratio"], one["availability"]["target"]["region"]) == (0.95, "33")
    assert {p["code"]: (p["availability"]["target"]["region"], p["availability"]["known"])
            for p in one["drilldown"]} == {"3301": ("33", True), "3311": ("33", False)}


def test_a_report_of_today_ends_yesterday_and_one_without_reports_says_so(small_store: Store,
                                                                           tmp_path: Path) -> None:
    from cloudctl import clock

    today = clock.current().today()
    data = build_report(small_store, ReportOptions(as_of=today, availability_days=7, drilldown=False))
    av = data["availability"]
    assert (av["from"], av["to"]) == ((today - timedelta(days=7)).isoformat(), (today - timedelta(days=1)).isoformat())
    assert av["known"] is False and av["worst"] == []
    assert build_report(small_store, ReportOptions(as_of=AS_OF, availability_days=0))["availability"] is None
    # no agent ever reported: the national page and each province page say so in one line, and nothing else
    data = build_report(small_store, ReportOptions(as_of=AS_OF, availability_days=31))
    assert [(p["code"], p["availability"]["known"]) for p in data["drilldown"]] == [("33", False), ("54", False)]
    files = write_report(data, tmp_path / "report")
    assert not any(f.name == "availability.csv" for f in files)
    for page in ("index.html", "provinces/33.html", "provinces/54.html"):
        html = (tmp_path / "report" / page).read_text(encoding="utf-8")
        section = html[html.index('<h2 id="availability">'):]
        section = section[:section.index("<h2", 5)]
        assert section.count('<p class="note" id="availability-empty">No agent reported on these links in this '
                             "period: their availability is unknown.</p>") == 1, page
        assert "<svg" not in section and "<table" not in section and 'id="availability-target"' not in section
    md = (tmp_path / "report" / "coverage.md").read_text(encoding="utf-8")
    assert md.count("No agent reported on these links in this period") == 3


@pytest.mark.browser
def test_chromium_renders_the_charts_on_the_national_and_a_province_page(small_sqlite_store: Store,
                                                                         tmp_path: Path) -> None:
    from tests.reports.browser import dump_dom, png_size_and_ink, screenshot

    start = P0 + 9 * 24 * H
    who, credential = exchange_token(small_sqlite_store,
                                     create_enrolment(small_sqlite_store, Actor("op"), "330102001", "access").token)
    for i, up in enumerate((True, False, False, True)):
        beat = make_heartbeat(who.agent_id, i + 1, [{"link_id": "L-330102001", "up": up}], credential=credential,
                              sent_at=(start + i * H) / 1000, now=(start + i * H) / 1000 + 1)
        with small_sqlite_store.begin() as conn:
            apply_heartbeats(conn, [beat], SILENCE_MS / 1000)
    out = tmp_path / "report"
    write_report(build_report(small_sqlite_store, ReportOptions(as_of=AS_OF, availability_days=31)), out)
    for page in ("index.html", "provinces/33.html"):  # the national page, and 浙江's page where the link is
        dom = dump_dom((out / page).as_uri(), tmp_path / "profile")
        assert dom.count('class="outage"') == 1 and "availability-chart" in dom and "distribution-chart" in dom
        assert dom.count('class="row" data-key="3301"') == (page != "index.html")  # 杭州市 in 浙江's distribution
    png = screenshot((out / "index.html").as_uri() + "#availability", tmp_path / "shot.png", tmp_path / "profile")
    width, height, ink = png_size_and_ink(png)
    assert width > 0 and height > 0 and ink > 0.01
    # 浙江's whole page (its maps fill the first 2,400 px) against the same page without the section:
    # the section's charts and tables are painted (about 0.004 more ink when it was written)
    write_report(build_report(small_sqlite_store, ReportOptions(as_of=AS_OF, availability_days=0)), tmp_path / "bare")
    inks = [png_size_and_ink(screenshot((root / "provinces" / "33.html").as_uri(), tmp_path / f"{root.name}.png",
                                        tmp_path / "profile", size=(1200, 9000)))[2]
            for root in (out, tmp_path / "bare")]
    assert inks[0] > inks[1] + 0.002, inks
    dom = dump_dom((out / "provinces" / "54.html").as_uri(), tmp_path / "profile")  # 西藏: no agent reported
    assert 'id="availability-empty"' in dom and "availability-chart" not in dom
