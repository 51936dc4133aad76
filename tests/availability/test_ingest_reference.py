"""Random heartbeat histories through the real batched ingest (api/ingest.py apply_heartbeats, on
SQLite and PostgreSQL), then `read_availability` over periods that cut through the histories,
compared with tests/availability/reference.py, which computes the figures from the heartbeats
themselves. Covers silences, links missing from some heartbeats, several heartbeats of one agent
in one batch, reports replayed late and at the same instant, links activated and retired inside a
period, and a period cut by now."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from cloudctl import clock
from cloudctl.api.heartbeats import make_heartbeat
from cloudctl.api.ingest import apply_heartbeats
from cloudctl.api.registry import create_enrolment, exchange_token
from cloudctl.audit import Actor, verify_chain
from cloudctl.availability.period import day_start_ms, period_of
from cloudctl.availability.query import read_availability
from cloudctl.store import Store
from cloudctl.store.tables.agents import link_interval
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division
from tests.availability.reference import Expected, expected

OP = Actor("op", "pytest")
ZONE = "Asia/Shanghai"
DAY1 = date(2026, 10, 1)
TOWNS = ["110101001", "110101002", "120101001"]
LINKS = {  # link -> (town, activated_on, retired_on)
    "A1": ("110101001", date(2020, 1, 1), None),
    "A2": ("110101001", DAY1 + timedelta(days=1), None),  # activated on day 2
    "B1": ("110101002", date(2020, 1, 1), DAY1 + timedelta(days=2)),  # retired on day 3
    "B2": ("110101002", date(2020, 1, 1), None),
    "C1": ("120101001", date(2020, 1, 1), None),
    "C2": ("120101001", date(2020, 1, 1), None),  # never reported
}
SILENCE_S = 3600.0


def seed(store: Store) -> None:
    with store.begin() as conn:
        conn.execute(insert(division), [
            {"code": "11", "name": "北京市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1101", "name": "市辖区", "level": 2, "parent_code": "11", "kind": "placeholder"},
            {"code": "110101", "name": "东城区", "level": 3, "parent_code": "1101", "kind": "district"},
            {"code": "110101001", "name": "东华门街道", "level": 4, "parent_code": "110101", "kind": "subdistrict"},
            {"code": "110101002", "name": "景山街道", "level": 4, "parent_code": "110101", "kind": "subdistrict"},
            {"code": "12", "name": "天津市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1201", "name": "市辖区", "level": 2, "parent_code": "12", "kind": "placeholder"},
            {"code": "120101", "name": "和平区", "level": 3, "parent_code": "1201", "kind": "district"},
            {"code": "120101001", "name": "劝业场街道", "level": 4, "parent_code": "120101", "kind": "subdistrict"}])
        conn.execute(insert(link), [{"link_id": k, "division_code": t, "link_type": "fiber", "bandwidth_mbps": 100,
                                     "activated_on": act, "retired_on": ret} for k, (t, act, ret) in LINKS.items()])


def history(rng: random.Random, start_ms: int, hours: int) -> list[tuple[str, int, dict[str, int]]]:
    """(town, check ms, {link: up}) heartbeats: every 20-50 min, sometimes silent for hours,
    sometimes leaving a link out; states flip now and then."""
    beats = []
    for town in TOWNS[:3]:
        links = [k for k, (t, _, _) in LINKS.items() if t == town and k != "C2"]
        state = {k: 1 for k in links}
        t = start_ms + rng.randrange(3_600_000)
        while t < start_ms + hours * 3_600_000:
            for k in links:
                if rng.random() < 0.15:
                    state[k] = 1 - state[k]
            reported = {k: state[k] for k in links if rng.random() < 0.9}
            beats.append((town, t, reported))
            if rng.random() < 0.05:  # a report at the same instant, another state
                beats.append((town, t, {k: 1 - v for k, v in reported.items()}))
            t += rng.randrange(1_200_000, 3_000_000) if rng.random() < 0.85 else rng.randrange(3_700_000, 30_000_000)
    return beats


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_random_histories_match_the_reference(store: Store, seed_value: int) -> None:
    rng = random.Random(seed_value)
    seed(store)
    zone_clock = clock.Clock(ZoneInfo(ZONE))
    t0 = day_start_ms(zone_clock, DAY1) - 6 * 3_600_000
    agents = {}
    for town in TOWNS:
        who, credential = exchange_token(store, create_enrolment(store, OP, town, "access").token)
        agents[town] = (who.agent_id, credential)
    beats = history(rng, t0, 4 * 24)
    late = [(town, t - rng.randrange(1, 3_600_000), {k: 1 - v for k, v in ups.items()})
            for town, t, ups in rng.sample(beats, 8)]  # older results arriving late: ignored
    for item in late:
        beats.insert(beats.index(next(b for b in beats if b[1] > item[1] + 3_600_000)) if any(
            b[1] > item[1] + 3_600_000 for b in beats) else len(beats), item)
    beats.sort(key=lambda b: b[1] if b not in late else b[1] + 3_600_001)  # arrival order
    seqs = dict.fromkeys(TOWNS, 0)
    reports: dict[str, list[tuple[int, int]]] = {k: [] for k in LINKS}
    batch = []
    for town, t, ups in beats:
        seqs[town] += 1
        agent_id, credential = agents[town]
        results = [{"link_id": k, "up": bool(u)} for k, u in ups.items()]
        batch.append(make_heartbeat(agent_id, seqs[town], results, credential=credential, sent_at=t / 1000,
                                    now=t / 1000 + 5))
        for k, u in ups.items():
            reports[k].append((t, u))
        if len(batch) >= rng.randrange(1, 8):
            with store.begin() as conn:
                assert all(not isinstance(a, Exception) for a in apply_heartbeats(conn, batch, SILENCE_S))
            batch = []
    if batch:
        with store.begin() as conn:
            apply_heartbeats(conn, batch, SILENCE_S)

    with store.connect() as conn:
        rows = conn.execute(select(link_interval.c.link_id)).all()
        assert verify_chain(conn).ok
    assert len(rows) < sum(len(r) for r in reports.values())  # rows follow changes, not heartbeats

    now_cases = [datetime(2026, 12, 1, tzinfo=ZoneInfo(ZONE)),  # after everything
                 datetime(2026, 10, 3, 13, 30, tzinfo=ZoneInfo(ZONE))]  # inside day 3: the period is cut
    periods = [(DAY1, DAY1), (DAY1 + timedelta(days=1), DAY1 + timedelta(days=2)), (DAY1, DAY1 + timedelta(days=3))]
    for now in now_cases:
        pinned = zone_clock.pinned(now)
        now_ms = round(now.timestamp() * 1000)
        for first, last in periods:
            if first > pinned.today():
                continue
            period = period_of(first, last, pinned)
            got = read_availability(store, period, level="township", worst=None)
            per_link = {lk.link_id: lk.figures for lk in got.links}
            want_links: dict[str, Expected] = {}
            for k, (_town, act, ret) in LINKS.items():
                a = max(period.start_ms, day_start_ms(zone_clock, act))
                b = min(period.end_ms, now_ms, day_start_ms(zone_clock, ret) if ret else period.end_ms)
                if act > last or (ret is not None and ret <= first) or a >= b:
                    assert k not in per_link, (k, first, last)
                    continue
                want_links[k] = expected(reports[k], round(SILENCE_S * 1000), a, b)
                f = per_link[k]
                assert (f.span_ms, f.up_ms, f.down_ms, f.outages) == (
                    want_links[k].span, want_links[k].up, want_links[k].down, want_links[k].outages), (k, first, last,
                                                                                                       now)
            towns: dict[str, Expected] = {}
            for k, e in want_links.items():
                towns.setdefault(LINKS[k][0], Expected()).add(e)
            got_towns = {d.code: d.figures for d in got.divisions}
            assert set(got_towns) == set(towns)
            for code, e in towns.items():
                assert (got_towns[code].span_ms, got_towns[code].up_ms, got_towns[code].down_ms,
                        got_towns[code].outages) == (e.span, e.up, e.down, e.outages)
            total = Expected()
            for e in want_links.values():
                total.add(e)
            assert (got.total.span_ms, got.total.up_ms, got.total.down_ms, got.total.outages) == (
                total.span, total.up, total.down, total.outages)
            ranked = [d.figures.ratio for d in got.divisions]
            known = [r for r in ranked if r is not None]
            assert known == sorted(known) and ranked[:len(known)] == known  # worst first, unknown last
