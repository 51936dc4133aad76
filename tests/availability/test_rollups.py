"""The roll-ups of `read_availability` over links at several levels (county, township, village),
two links in one township, links activated and retired inside the period, a link silent before
the period ends and one never heard of: total, levels, divisions at township and county level
(worst first), the worst links and the count of divisions below a target, against sums computed
here from the state changes themselves (on SQLite and PostgreSQL). The interval rows are those the
ingest writes (availability/intervals.py chain)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from cloudctl import clock
from cloudctl.availability.intervals import StateEvent, chain
from cloudctl.availability.period import day_start_ms, period_of
from cloudctl.availability.query import one_link_each, read_availability
from cloudctl.coverage.model import Target
from cloudctl.store import Store
from cloudctl.store.tables.agents import link_interval, link_status
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

ZONE = ZoneInfo("Asia/Shanghai")
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 4)
H = 3_600_000
LINKS = {  # link -> (division, activated_on, retired_on)
    "K1": ("110101", date(2020, 1, 1), None),  # a county's own link
    "T1": ("110101001", date(2020, 1, 1), None),
    "T2": ("110101001", date(2020, 1, 1), None),  # a second link in the township
    "V1": ("110101001001", date(2020, 1, 1), None),  # a village's link, under the township
    "T3": ("110101002", date(2026, 10, 2), None),  # activated inside the period
    "T4": ("120101001", date(2020, 1, 1), date(2026, 10, 3)),  # retired inside the period
    "N1": ("120101001", date(2020, 1, 1), None),  # never reported: all unknown
    "T5": ("120101002", date(2020, 1, 1), None),  # down while known, like T6: more downtime, worse
    "T6": ("120101002", date(2020, 1, 1), None),
}
DIVISIONS = [("11", 1, None), ("1101", 2, "11"), ("110101", 3, "1101"), ("110101001", 4, "110101"),
             ("110101002", 4, "110101"), ("110101001001", 5, "110101001"), ("12", 1, None), ("1201", 2, "12"),
             ("120101", 3, "1201"), ("120101001", 4, "120101"), ("120101002", 4, "120101")]


def changes(start: int) -> dict[str, tuple[list[tuple[int, int]], int]]:
    """link -> (state changes (ms, up), known_until ms): alternating states, some before the period."""
    return {"K1": ([(start - 30 * H, 1), (start + 5 * H, 0), (start + 9 * H, 1)], start + 200 * H),
            "T1": ([(start - 2 * H, 0), (start + 1 * H, 1), (start + 50 * H, 0), (start + 51 * H, 1)], start + 200 * H),
            "T2": ([(start + 3 * H, 1), (start + 70 * H, 0)], start + 80 * H),  # silent from 80 h on
            "V1": ([(start - 5 * H, 1)], start + 200 * H),
            "T3": ([(start + 10 * H, 0), (start + 30 * H, 1), (start + 40 * H, 0)], start + 200 * H),
            "T4": ([(start - H, 1), (start + 20 * H, 0), (start + 60 * H, 1)], start + 200 * H),
            "T5": ([(start + 3 * H, 0)], start + 23 * H), "T6": ([(start + 2 * H, 0)], start + 12 * H)}


def seed(store: Store, start: int, kept: set[str]) -> None:
    rows, status = [], []
    for k, (states, known_until) in changes(start).items():
        if k not in kept:
            continue
        events = [StateEvent(k, t, up) for t, up in states]
        rows += [r.__dict__ for r in chain(events, {}).upsert]
        status.append({"link_id": k, "division_code": LINKS[k][0], "agent_id": "a", "up": states[-1][1],
                       "checked_ts": states[-1][0] / 1000, "changed_ts": states[-1][0] / 1000,
                       "known_until_ts": known_until / 1000})
    with store.begin() as conn:
        conn.execute(insert(division), [{"code": c, "name": f"d{c}", "level": lv, "parent_code": p, "kind": "x"}
                                        for c, lv, p in DIVISIONS])
        conn.execute(insert(link), [{"link_id": k, "division_code": d, "link_type": "fiber", "bandwidth_mbps": 100,
                                     "activated_on": a, "retired_on": r} for k, (d, a, r) in LINKS.items()
                                    if k in kept])
        conn.execute(insert(link_interval), rows)
        conn.execute(insert(link_status), status)


def expected(start: int, spans: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int, int, int]]:
    """link -> (span, up, down, outages) over its span [a, b), from the state changes."""
    out = {k: (b - a, 0, 0, 0) for k, (a, b) in spans.items()}
    for k, (states, known_until) in changes(start).items():
        if k not in spans:
            continue
        a, b = spans[k]
        span, up, down, outages = out[k]
        for i, (t, state) in enumerate(states):
            end = states[i + 1][0] if i + 1 < len(states) else known_until
            overlap = min(end, b) - max(t, a)
            if overlap > 0:
                up, down, outages = up + overlap * state, down + overlap * (1 - state), outages + (1 - state)
        out[k] = (span, up, down, outages)
    return out


def add(figures: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int, int]:
    return (len(figures), *(sum(f[i] for f in figures) for i in range(4)))  # type: ignore[return-value]


def worst_key(key: str, f: tuple[int, int, int, int, int]) -> tuple[object, ...]:
    _, span, up, down, _ = f
    known = up + down
    return (known == 0, float(up) / float(known) if known else 0.0, -down, -(span - known), key)


ONE_EACH = {"K1", "T1", "T3", "T4", "T5"}  # one link per township, the county's own: no grouping needed


@pytest.mark.parametrize("kept", [set(LINKS), ONE_EACH], ids=["all-links", "one-link-per-township"])
def test_levels_divisions_and_worst_links_add_up(store: Store, kept: set[str]) -> None:
    pinned = clock.Clock(ZONE).pinned(datetime(2026, 12, 1, tzinfo=ZONE))
    start = day_start_ms(pinned, FIRST)
    seed(store, start, kept)
    assert one_link_each(store, 9) == (kept == ONE_EACH) and not one_link_each(store, 6)
    period = period_of(FIRST, LAST, pinned)
    spans = {k: (max(period.start_ms, day_start_ms(pinned, act)),
                 min(period.end_ms, day_start_ms(pinned, ret) if ret else period.end_ms))
             for k, (_, act, ret) in LINKS.items() if k in kept}
    per_link = expected(start, spans)
    if kept == set(LINKS):
        assert per_link["T2"][1] + per_link["T2"][2] < per_link["T2"][0]  # the silence is unknown time
        assert per_link["N1"][1:] == (0, 0, 0)

    def figures(f: object) -> tuple[int, ...]:
        return (f.links, f.span_ms, f.up_ms, f.down_ms, f.outages)  # type: ignore[attr-defined]

    target = Target(level="township", ratio=0.99, by=date(2027, 1, 1), region="", metric="availability")
    for level, length in (("township", 9), ("county", 6)):
        got = read_availability(store, period, level=level, worst=None, targets=[target])
        assert figures(got.total) == add(list(per_link.values()))
        lengths = sorted({len(LINKS[k][0]) for k in per_link})
        want_levels = [add([f for k, f in per_link.items() if len(LINKS[k][0]) == n]) for n in lengths]
        assert [name for name, _ in got.levels] == ["county", "township", "village"][:len(lengths)]
        assert [figures(f) for _, f in got.levels] == want_levels
        groups: dict[str, list[tuple[int, int, int, int]]] = {}
        for k, f in per_link.items():
            if len(LINKS[k][0]) >= length:
                groups.setdefault(LINKS[k][0][:length], []).append(f)
        want = sorted(((c, add(fs)) for c, fs in groups.items()), key=lambda cf: worst_key(*cf))
        assert [(d.code, figures(d.figures)) for d in got.divisions] == want
        below = sum(1 for _, f in want if f[2] + f[3] and f[2] / (f[2] + f[3]) < 0.99)
        ranked = sorted(((k, (1, *f)) for k, f in per_link.items()), key=lambda kf: worst_key(*kf))
        assert [(lk.link_id, figures(lk.figures)) for lk in got.links] == ranked
        ids = [lk.link_id for lk in got.links]
        if kept == set(LINKS):
            assert ids[:2] == ["T5", "T6"] and ids[-1] == "N1"  # never up, more downtime first; nothing known last
        assert [t.divisions_below for t in got.targets] == ([below] if level == "township" else [None])
    got = read_availability(store, period, level="township", worst=3)
    want_links = sorted(((k, (1, *f)) for k, f in per_link.items()), key=lambda kf: worst_key(*kf))[:3]
    assert [(lk.link_id, figures(lk.figures)) for lk in got.links] == want_links
    assert len(got.divisions) == 3
