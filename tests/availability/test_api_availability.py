"""Heartbeats with past sent_at through a real `cloudctl serve` over HTTP (SQLite and PostgreSQL):
up, down, silent, up, with intervals straddling the period's start and end; then the real
`cloudctl coverage availability` and `coverage intervals` commands, against figures worked out
by hand below.

The API is started with --heartbeat-interval 3600 (and the default --silence-after 3), so a
report holds for 3 h. T = the start of 2026-11-10 in Asia/Shanghai; offsets in seconds.

  offset   -7200 -3600  0    3600 7200 10800 | silent | 36000 39600 43200 ... 86400 90000
  link A    up    up    up   up   down down  |        | up    up    up    ... up    up
  link B    down  down  down up   up   up    |        | down  up    up    ... up    up

Day 11-10 is [0, 86400). Both links were last heard at 10800, so their state is known until
10800 + 3 h = 21600 and unknown from there to 36000.
  A: up 0-7200 and 36000-86400 = 57600; down 7200-21600 = 14400 (1 outage); unknown 14400
  B: down 0-3600 (an outage begun before the period) and 36000-39600 = 7200 (2 outages);
     up 3600-21600 and 39600-86400 = 64800; unknown 14400
  C (another township, its agent never reports): unknown 86400
  D (retired on 11-10) and E (activated on 11-11) are not active that day.
Days 11-10..11-11 are [0, 172800): the last report is at 90000, known until 100800:
  A: up 57600 + 14400 = 72000, down 14400, unknown 86400;  B: up 64800 + 14400 = 79200,
  down 7200, unknown 86400;  C: unknown 172800;  E: unknown 86400 (from 11-11).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import insert

from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from cloudctl.store import open_store
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

T = datetime(2026, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
TOWN, OTHER = "110101001", "110101002"
A_UP = [-7200, -3600, 0, 3600]
A_DOWN = [7200, 10800]
LATER = list(range(36000, 90001, 3600))
B_DOWN = [-7200, -3600, 0, 36000]
ENV = {**os.environ, "CLOUDCTL_TZ": "Asia/Shanghai"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloudctl", "--db", db, *args], capture_output=True, text=True,
                          env=ENV, timeout=120)


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[str, str]]:
    """The store with two townships and their links, and a running `cloudctl serve` on it."""
    store = open_store(db_url)
    with store.begin() as conn:
        conn.execute(insert(division), [
            {"code": "11", "name": "北京市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1101", "name": "市辖区", "level": 2, "parent_code": "11", "kind": "placeholder"},
            {"code": "110101", "name": "东城区", "level": 3, "parent_code": "1101", "kind": "district"},
            {"code": TOWN, "name": "东华门街道", "level": 4, "parent_code": "110101", "kind": "subdistrict"},
            {"code": OTHER, "name": "景山街道", "level": 4, "parent_code": "110101", "kind": "subdistrict"}])
        conn.execute(insert(link), [
            {"link_id": k, "division_code": town, "link_type": "fiber", "bandwidth_mbps": 100,
             "activated_on": act, "retired_on": ret}
            for k, town, act, ret in (("A", TOWN, date(2020, 1, 1), None), ("B", TOWN, date(2020, 1, 1), None),
                                      ("C", OTHER, date(2020, 1, 1), None),
                                      ("D", OTHER, date(2020, 1, 1), date(2026, 11, 10)),
                                      ("E", OTHER, date(2026, 11, 11), None))])
    token = create_enrolment(store, Actor("op", "pytest"), TOWN, "access").token
    store.dispose()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cloudctl", "--db", db_url, "serve", "--port", str(port),
                             "--heartbeat-interval", "3600", "--rate", "1000", "--burst", "1000",
                             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "cloudctl serve did not start"
            time.sleep(0.2)
        enrolled = httpx.post(f"{base}/v1/agents/enrol", json={"token": token}, timeout=10).json()
        assert enrolled["heartbeat_interval_seconds"] == 3600
        agent_id, credential = enrolled["agent_id"], enrolled["credential"]
        headers = {"Authorization": f"Bearer {credential}"}
        offsets = sorted({*A_UP, *A_DOWN, *LATER, *B_DOWN})
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            def send(seq: int, offset: int, a_up: bool, b_up: bool) -> dict[str, object]:
                results = [{"name": f"probe-{k}", "kind": "tcp", "target": "10.0.0.1:443", "link_id": k, "up": up}
                           for k, up in (("A", a_up), ("B", b_up))]
                r = http.post(f"/v1/agents/{agent_id}/heartbeats",
                              json={"seq": seq, "sent_at": T + offset, "results": results})
                assert r.status_code == 200, r.text
                return dict(r.json())

            for seq, offset in enumerate(offsets, start=1):
                assert send(seq, offset, offset not in A_DOWN, offset not in B_DOWN)["accepted"]
            again = send(3, 0, False, False)  # a replayed seq: acknowledged, not applied
            assert again["duplicate"] and not again["accepted"]
            late = send(len(offsets) + 1, 50000, False, False)  # an older result arriving late: no change
            assert late["accepted"] and late["links_changed"] == 0
        yield db_url, agent_id
    finally:
        proc.terminate()
        proc.wait(30)


def _availability(db: str, *args: str) -> dict:  # type: ignore[type-arg]
    r = _cli(db, "coverage", "availability", *args, "--format", "json")
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


def _figures(row: dict) -> tuple:  # type: ignore[type-arg]
    return (row["up_seconds"], row["downtime_seconds"], row["unknown_seconds"], row["outages"],
            row["availability_ratio"], row["mttr_seconds"])


def test_one_day_and_two_days_match_the_hand_computed_figures(served: tuple[str, str]) -> None:
    db, _ = served
    day = _availability(db, "--from", "2026-11-10", "--to", "2026-11-10", "--worst", "10")
    assert day["start"] == "2026-11-09T16:00:00.000+00:00" and day["end"] == "2026-11-10T16:00:00.000+00:00"
    links = {row["link_id"]: row for row in day["links"]}
    assert set(links) == {"A", "B", "C"}  # D retired on the day, E not yet active
    assert _figures(links["A"]) == (57600, 14400, 14400, 1, 0.8, 14400)
    assert _figures(links["B"]) == (64800, 7200, 14400, 2, 0.9, 3600)
    assert _figures(links["C"]) == (0, 0, 86400, 0, None, None)
    assert [row["link_id"] for row in day["links"]] == ["A", "B", "C"]  # worst first, nothing known last
    assert links["A"]["outage_intervals"] == [
        {"start": "2026-11-09T18:00:00.000+00:00", "end": "2026-11-09T22:00:00.000+00:00", "seconds": 14400}]
    assert [o["seconds"] for o in links["B"]["outage_intervals"]] == [3600, 3600]
    assert links["B"]["outage_intervals"][0]["start"] == "2026-11-09T16:00:00.000+00:00"  # cut at the start
    towns = {row["code"]: row for row in day["divisions"]}
    assert _figures(towns[TOWN]) == (122400, 21600, 28800, 3, 0.85, 7200)
    assert towns[TOWN]["name"] == "东华门街道" and towns[TOWN]["links"] == 2
    assert _figures(towns[OTHER]) == (0, 0, 86400, 0, None, None)
    assert _figures(day["total"]) == (122400, 21600, 115200, 3, 0.85, 7200)
    assert [(lv["level"], lv["links"]) for lv in day["levels"]] == [("township", 3)]

    county = _availability(db, "--from", "2026-11-10", "--to", "2026-11-10", "--level", "county")
    assert [(d["code"], d["name"], d["links"], d["up_seconds"]) for d in county["divisions"]] == [
        ("110101", "东城区", 3, 122400)]

    two = _availability(db, "--from", "2026-11-10", "--to", "2026-11-11", "--region", TOWN)
    assert two["region_name"] == "东华门街道"
    links = {row["link_id"]: row for row in two["links"]}
    assert set(links) == {"A", "B"}
    assert _figures(links["A"]) == (72000, 14400, 86400, 1, round(72000 / 86400, 6), 14400)
    assert _figures(links["B"]) == (79200, 7200, 86400, 2, round(79200 / 86400, 6), 3600)
    everything = _availability(db, "--from", "2026-11-10", "--to", "2026-11-11")
    links = {row["link_id"]: row for row in everything["links"]}
    assert _figures(links["C"]) == (0, 0, 172800, 0, None, None)
    assert _figures(links["E"]) == (0, 0, 86400, 0, None, None) and links["E"]["observed_seconds"] == 86400


def test_an_availability_target_beside_a_coverage_target(served: tuple[str, str]) -> None:
    db, _ = served
    said = []
    for metric, ratio in (("availability", "0.9"), ("coverage", "0.5")):
        r = _cli(db, "coverage", "target", "set", "--metric", metric, "--level", "township", "--ratio", ratio,
                 "--by", "2027-12-31")
        assert r.returncode == 0, r.stderr
        said.append(r.stdout.strip())
    assert said == ["target set: township availability 90 % by 2027-12-31 for the country",
                    "target set: township 50.0 % by 2027-12-31 for the country"]
    listed = json.loads(_cli(db, "coverage", "target", "list", "--format", "json").stdout)
    assert sorted((t["metric"], t["level"], t["ratio"]) for t in listed) == [
        ("availability", "township", 0.9), ("coverage", "township", 0.5)]
    day = _availability(db, "--from", "2026-11-10", "--to", "2026-11-10")
    assert day["targets"] == [{"level": "township", "ratio": 0.9, "by": "2027-12-31", "current_ratio": 0.85,
                               "met": False, "divisions_below": 1}]  # 110101001 at 0.85; 110101002 unknown
    county = _availability(db, "--from", "2026-11-10", "--to", "2026-11-10", "--level", "county")
    assert county["targets"][0]["divisions_below"] is None  # counted at the level of the listing only
    table = _cli(db, "coverage", "availability", "--from", "2026-11-10", "--to", "2026-11-10")
    assert "target: township links 90 % by 2027-12-31: 85.000 % over the period, not met; 1 townships below it" \
        in table.stdout
    summary = _cli(db, "coverage", "summary", "--as-of", "2026-11-10")  # the coverage target only
    assert "50.0 %" in summary.stdout and "90.0 %" not in summary.stdout


def test_the_export_lists_the_stored_intervals(served: tuple[str, str]) -> None:
    db, _ = served
    r = _cli(db, "coverage", "intervals", "--from", "2026-11-10", "--to", "2026-11-10")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "link_id,division_code,state,start,end"

    def iso(offset: int) -> str:
        return datetime.fromtimestamp(T + offset, ZoneInfo("UTC")).isoformat(timespec="milliseconds")

    assert lines[1:] == [
        f"A,{TOWN},up,{iso(-7200)},{iso(7200)}", f"A,{TOWN},down,{iso(7200)},{iso(21600)}",
        f"A,{TOWN},up,{iso(36000)},{iso(100800)}",
        f"B,{TOWN},down,{iso(-7200)},{iso(3600)}", f"B,{TOWN},up,{iso(3600)},{iso(21600)}",
        f"B,{TOWN},down,{iso(36000)},{iso(39600)}", f"B,{TOWN},up,{iso(39600)},{iso(100800)}"]


def test_bad_input_exits_2_and_names_the_option(served: tuple[str, str]) -> None:
    db, _ = served
    for args, where in ((["--from", "2026-11-10", "--to", "2026-11-01"], "--to"),
                        (["--from", "2026-13-01"], "--from"),
                        (["--from", "2026-11-10", "--region", "99"], "--region"),
                        (["--from", "2999-01-01", "--to", "2999-01-02"], "--from"),
                        (["--from", "2026-11-10", "--level", "village"], "--level"),
                        (["--from", "2026-11-10", "--worst", "0"], "--worst")):
        r = _cli(db, "coverage", "availability", *args)
        assert r.returncode == 2 and where in r.stderr, (args, r.stderr)
