"""Writing link intervals at the heartbeat ingest's state-change seam (api/ingest.py
record_transitions), in the batch's transaction: one read of the links' last two rows, one upsert
(and, rarely, one delete: a row undone by a report at its very instant).

The caller holds the links' status rows locked (FOR UPDATE on PostgreSQL, the one writer on
SQLite), so no other batch appends to the same links meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, text

from cloudctl.availability.intervals import IntervalRow, IntervalWrites, StateEvent, chain, to_ms

_FIELDS = ("link_id", "start_ms", "up", "cum_up_ms", "cum_down_ms", "cum_outages")

# the last two rows of each link: an index seek to the one before the last, then a short range
_LAST_SQLITE = text(
    "SELECT r.link_id, r.start_ms, r.up, r.cum_up_ms, r.cum_down_ms, r.cum_outages "
    "FROM json_each(:ids) AS k CROSS JOIN link_interval AS r ON r.link_id = k.value "
    "AND r.start_ms >= COALESCE((SELECT j.start_ms FROM link_interval AS j WHERE j.link_id = k.value "
    "ORDER BY j.start_ms DESC LIMIT 1 OFFSET 1), -9223372036854775808) ORDER BY r.link_id, r.start_ms")
_LAST_PG = text(
    "SELECT r.link_id, r.start_ms, r.up, r.cum_up_ms, r.cum_down_ms, r.cum_outages "
    "FROM unnest(CAST(:ids AS text[])) AS k(id) CROSS JOIN LATERAL ("
    "SELECT * FROM link_interval AS j WHERE j.link_id = k.id ORDER BY j.start_ms DESC LIMIT 2) AS r "
    "ORDER BY r.link_id, r.start_ms")
_DELETE = text("DELETE FROM link_interval WHERE link_id = :link_id AND start_ms = :start_ms")
_UPDATE = ", ".join(f"{c} = excluded.{c}" for c in _FIELDS[2:])
_UPSERT_SQLITE = text(
    f"INSERT INTO link_interval ({', '.join(_FIELDS)}) VALUES ({', '.join(':' + c for c in _FIELDS)}) "
    f"ON CONFLICT (link_id, start_ms) DO UPDATE SET {_UPDATE}")
_UPSERT_PG = text(
    f"INSERT INTO link_interval ({', '.join(_FIELDS)}) SELECT * FROM unnest(CAST(:link_id AS text[]), "
    "CAST(:start_ms AS bigint[]), CAST(:up AS smallint[]), CAST(:cum_up_ms AS bigint[]), "
    "CAST(:cum_down_ms AS bigint[]), CAST(:cum_outages AS integer[])) "
    f"ON CONFLICT (link_id, start_ms) DO UPDATE SET {_UPDATE}")


class StateChange(Protocol):
    """What the ingest knows of a link's change (api.ingest.Transition)."""

    link_id: str
    after: int
    at: float
    silent_since: float | None


def events_of(changes: Sequence[StateChange]) -> list[StateEvent]:
    return [StateEvent(c.link_id, to_ms(c.at), int(c.after),
                       None if c.silent_since is None else to_ms(c.silent_since)) for c in changes]


def last_rows(conn: Connection, link_ids: Sequence[str]) -> dict[str, list[IntervalRow]]:
    """Each link's last two rows, in time order."""
    if not link_ids:
        return {}
    pg = conn.dialect.name == "postgresql"
    out: dict[str, list[IntervalRow]] = {}
    for r in conn.execute(_LAST_PG if pg else _LAST_SQLITE, {"ids": list(link_ids) if pg else json.dumps(link_ids)}):
        out.setdefault(r[0], []).append(
            IntervalRow(r[0], int(r[1]), None if r[2] is None else int(r[2]), int(r[3]), int(r[4]), int(r[5])))
    return out


def upsert_rows(conn: Connection, rows: Sequence[IntervalRow]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        params: dict[str, Any] = {f: [getattr(r, f) for r in rows] for f in _FIELDS}
        conn.execute(_UPSERT_PG, params)
    else:
        conn.execute(_UPSERT_SQLITE, [{f: getattr(r, f) for f in _FIELDS} for r in rows])


def write_intervals(conn: Connection, changes: Sequence[StateChange]) -> IntervalWrites:
    """Append the interval rows of the changes, in arrival order (a report at a row's very instant
    replaces or removes it)."""
    events = events_of(changes)
    writes = chain(events, last_rows(conn, sorted({e.link_id for e in events})))
    if writes.delete:
        conn.execute(_DELETE, [{"link_id": k, "start_ms": t} for k, t in writes.delete])
    upsert_rows(conn, writes.upsert)
    return writes
