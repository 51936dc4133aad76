"""`cloudctl demo`'s agent reports: a deterministic, synthetic state history of every link active in
the last 30 days, so the demo report's availability section and the availability metrics have
figures. The rows are what the heartbeat ingest writes for such reports (intervals.chain); the
demo's agents fall silent at the start of today. Demo links only (link ids DEMO-...): their rows
are replaced on every run, nothing else is touched.

Per link: up for Exp(mean 12 days), down for Exp(mean 75 min), and after one report in 25 a
silence of Exp(mean 4 h) before the next; links of the western provinces and of townships fail
more often (longer lines, harsher terrain).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from cloudctl.availability.intervals import IntervalRow, StateEvent, chain

DAYS = 32
DAY_MS = 86_400_000
WESTERN = {"15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
DEMO_AGENT = "demo-agents"
SILENCE_MS = 45_000  # the API's default: three 15 s heartbeats


def demo_rows(links: Sequence[tuple[str, str]], start_ms: int, stop_ms: int, seed: int,
              ) -> tuple[list[IntervalRow], list[tuple[str, str, int, int, int]]]:
    """(interval rows, status (link_id, division, up, last report ms, changed ms)) of the links'
    histories from start_ms until the agents fall silent at stop_ms (pure, deterministic)."""
    rng = random.Random(seed)
    rows: list[IntervalRow] = []
    status = []
    for link_id, code in sorted(links):
        harsh = (1.6 if code[:2] in WESTERN else 1.0) * (1.3 if len(code) >= 9 else 1.0)
        t, up, silent, events = start_ms + rng.randrange(DAY_MS // 4), 1, None, []
        while t < stop_ms:
            events.append(StateEvent(link_id, t, up, silent))
            held = rng.expovariate(harsh / (12 * DAY_MS) if up else 1 / (75 * 60_000))
            silent = None
            if rng.random() < 0.04:
                silent = t + int(held * rng.random()) + 1
                t = silent + int(rng.expovariate(1 / (4 * 3_600_000))) + 1
            else:
                t += int(held) + 1
            up = 1 - up
        rows += chain(events, {}).upsert
        last = events[-1]  # its state holds until the agents fall silent, at stop_ms
        status.append((link_id, code, last.up, max(last.at_ms, stop_ms - SILENCE_MS), last.at_ms))
    return rows, status


def store_demo_availability(store: Any, links: Sequence[tuple[str, str]], today_start_ms: int, seed: int) -> int:
    """Replace the demo links' interval and status rows with their generated history (one transaction)."""
    from sqlalchemy import delete, insert

    from cloudctl.store.tables.agents import link_interval, link_status

    rows, status = demo_rows(links, today_start_ms - DAYS * DAY_MS, today_start_ms, seed)
    with store.begin() as conn:
        conn.execute(delete(link_interval).where(link_interval.c.link_id.like("DEMO-%")))
        conn.execute(delete(link_status).where(link_status.c.link_id.like("DEMO-%")))
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(link_interval), [
                {"link_id": r.link_id, "start_ms": r.start_ms, "up": r.up, "cum_up_ms": r.cum_up_ms,
                 "cum_down_ms": r.cum_down_ms, "cum_outages": r.cum_outages} for r in rows[start:start + 20_000]])
        conn.execute(insert(link_status), [
            {"link_id": k, "division_code": code, "agent_id": DEMO_AGENT, "up": up, "checked_ts": checked / 1000,
             "changed_ts": changed / 1000, "known_until_ts": (checked + SILENCE_MS) / 1000}
            for k, code, up, checked, changed in status])
    return len(rows)
