"""`coverage summary --online`: divisions whose links the agents report up now, beside those
connected. Link status comes through the real heartbeat path (enrolment, credential exchange,
record_heartbeat), on SQLite and PostgreSQL; the expected counts come from a plain reference."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from cloudctl.api.heartbeats import record_heartbeat
from cloudctl.api.registry import create_enrolment, exchange_token
from cloudctl.audit import Actor
from cloudctl.coverage.links import LinkRecord
from cloudctl.coverage.online import rollup_online
from cloudctl.errors import InputError
from cloudctl.store import Store

from .conftest import Div, insert_divisions, insert_links, make_registry, run_cli

ACTOR = Actor("planner", "pytest")


def _setup(store: Store, now: float) -> tuple[list[Div], list[LinkRecord], dict[str, tuple[int, float]]]:
    """Links on six townships of province 11 and one of 15; heartbeats say: up and fresh, down,
    up but stale (agent silent), up on a retired link, up on a link not active yet."""
    registry = make_registry()
    insert_divisions(store, registry)
    towns = [d for d in registry if d.level == 4]
    t11 = [d.code for d in towns if d.code.startswith("11")][:6]
    t15 = next(d.code for d in towns if d.code.startswith("15"))
    today = datetime.fromtimestamp(now, UTC).date()
    past, future = date(2012, 1, 1), today + timedelta(days=30)

    def link(i: int, code: str, retired: date | None = None, activated: date = past) -> LinkRecord:
        return LinkRecord(f"L{i}", code, "fiber", 100.0, activated, retired, None)

    links = [link(0, t11[0]), link(1, t11[0]),        # two links, one up: online
             link(2, t11[1]),                         # down: connected, not online
             link(3, t11[2]),                         # up but stale: not online
             link(4, t11[3], retired=date(2014, 1, 1)),  # retired: neither
             link(5, t11[4], activated=future),       # not active yet: neither
             link(6, t11[5]),                         # no agent report: connected only
             link(7, t15)]                            # up, other province
    insert_links(store, links)
    # link -> (up, seconds ago it was checked)
    reports = {"L0": (0, 5.0), "L1": (1, 5.0), "L2": (0, 5.0), "L3": (1, 300.0), "L4": (1, 5.0), "L5": (1, 5.0),
               "L7": (1, 10.0)}
    by_div: dict[str, list[str]] = {}
    for r in links:
        if r.link_id in reports:
            by_div.setdefault(r.division_code, []).append(r.link_id)
    for div, ids in by_div.items():
        who, _cred = exchange_token(store, create_enrolment(store, ACTOR, div, "access").token)
        for seq, ago in enumerate(sorted({reports[i][1] for i in ids}, reverse=True), start=1):
            results = [{"link_id": i, "up": bool(reports[i][0])} for i in ids if reports[i][1] == ago]
            record_heartbeat(store, who, seq, results, sent_at=now - ago, now=now - ago)
    return registry, links, reports


def _reference(registry: list[Div], links: list[LinkRecord], reports: dict[str, tuple[int, float]],
               today: date, fresh: float, region: str | None = None) -> dict[str, tuple[int, int, int]]:
    """level -> (total, connected, online) by the definition, over plain rows."""
    active = [r for r in links if r.activated_on <= today and (r.retired_on is None or r.retired_on > today)]
    connected = {r.division_code for r in active}
    online = {r.division_code for r in active
              if r.link_id in reports and reports[r.link_id][0] == 1 and reports[r.link_id][1] <= fresh}
    names = ["province", "prefecture", "county", "township", "village"]
    out = {}
    for lv, name in enumerate(names, start=1):
        members = [d.code for d in registry if d.level == lv and (region is None or d.code.startswith(region))]
        if members:
            out[name] = (len(members), len(connected & set(members)), len(online & set(members)))
    return out


@pytest.mark.parametrize("region", [None, "11", "15"])
def test_online_counts_match_the_definition(store: Store, region: str | None) -> None:
    now = time.time()
    registry, links, reports = _setup(store, now)
    summary = rollup_online(store, region, fresh_within_s=45, now=now)
    got = {lv.level: (lv.total, lv.covered, lv.online) for lv in summary.levels}
    today = datetime.fromtimestamp(now, UTC).date()
    assert got == _reference(registry, links, reports, today, 45, region)
    if region in (None, "11"):
        assert got["township"][1:] == (4 if region else 5, 1 if region else 2)  # the scenario holds


def test_window_decides_what_is_fresh(store: Store) -> None:
    now = time.time()
    _setup(store, now)
    wide = rollup_online(store, "11", fresh_within_s=3600, now=now)
    assert wide.level("township").online == 2  # the stale-but-up link counts with an hour's window
    later = rollup_online(store, "11", fresh_within_s=45, now=now + 60)
    assert later.level("township").online == 0  # a minute later every report is stale
    with pytest.raises(InputError):
        rollup_online(store, "11", fresh_within_s=0, now=now)


def test_by_child_carries_online_per_child(store: Store) -> None:
    now = time.time()
    _setup(store, now)
    summary = rollup_online(store, None, by_child=True, fresh_within_s=45, now=now)
    per_province = {c.code: c.level("township").online for c in summary.children or []}
    assert per_province == {"11": 1, "15": 1, "51": 0}
    assert sum(per_province.values()) == summary.level("township").online


def test_cli_online_json_table_and_errors(sqlite_url: str) -> None:
    from cloudctl.store import open_store

    store = open_store(sqlite_url)
    now = time.time()
    _setup(store, now)
    store.dispose()
    r = run_cli("--db", sqlite_url, "coverage", "summary", "--online", "--region", "11", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    town = next(lv for lv in data["levels"] if lv["level"] == "township")
    assert list(town) == ["level", "total", "covered", "ratio", "online", "online_ratio"]
    assert (town["covered"], town["online"]) == (4, 1)
    assert town["online_ratio"] == round(1 / town["total"], 6)
    table = run_cli("--db", sqlite_url, "coverage", "summary", "--online")
    assert table.returncode == 0 and "online ratio" in table.stdout and "up within 45 s" in table.stdout
    plain = run_cli("--db", sqlite_url, "coverage", "summary", "--format", "json")
    assert all("online" not in lv for lv in json.loads(plain.stdout)["levels"])  # unchanged without the flag
    bad = run_cli("--db", sqlite_url, "coverage", "summary", "--online", "--as-of", "2015-05-31")
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_cli("--db", sqlite_url, "coverage", "summary", "--fresh-within", "30")
    assert bad.returncode == 2 and "--online" in bad.stderr
