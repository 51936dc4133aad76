"""The heartbeat batch's reads and writes (api/ingest.py decides; this module talks to the store).

Both dialects run constant statement texts on the driver's own connection, inside the caller's
SQLAlchemy transaction, and pass each list as one JSON text (orjson) that the database unpacks
(`json_array_elements_text` / `json_to_recordset` on PostgreSQL, `json_each` on SQLite):
per-element parameter binding in Python (psycopg's array escaping, SQLAlchemy's executemany
rows) cost the client more than the rest of the batch.

PostgreSQL: the reads are one round trip and the writes another (psycopg's pipeline mode: the
statements go out together, their answers come back together); psycopg prepares each statement
once per connection. Rows are locked in the order every batch and every replica uses: agents
(id order), then their links' status rows (id order). SQLite: the writer holds the database
(BEGIN IMMEDIATE), the statements run in-process (sqlite3's statement cache, executemany in C).

Driver errors come out as SQLAlchemy's, as if the statements had gone through SQLAlchemy, so the
store's transaction translates them the same way (the server away: OperationFailed, HTTP 503).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection

AGENT_READ = ("agent_id", "division_code", "state", "credential_hash", "last_seq")
STATUS_READ = ("link_id", "up", "checked_ts", "changed_ts", "known_until_ts")
AGENT_WRITE = ("id", "seq", "n", "ts", "ma", "av")
STATUS_WRITE = ("link_id", "division_code", "agent_id", "checked_ts", "changed_ts", "known_until_ts", "up",
                  "loss_ratio", "rtt_min_seconds", "rtt_avg_seconds", "rtt_max_seconds", "rtt_stddev_seconds")
_TYPES = ("text", "text", "text", "float8", "float8", "float8", "smallint", "float8", "float8", "float8", "float8",
          "float8")
_SET = ", ".join(f"{c} = excluded.{c}" for c in STATUS_WRITE[1:])

_PG_IDS = "ARRAY(SELECT json_array_elements_text(%s::json))"
_PG_READ = (
    f"SELECT {', '.join(AGENT_READ)} FROM agent WHERE agent_id = ANY({_PG_IDS}) ORDER BY agent_id FOR UPDATE",
    f"SELECT link_id, division_code FROM link WHERE link_id = ANY({_PG_IDS})",
    f"SELECT {', '.join(STATUS_READ)} FROM link_status WHERE link_id = ANY({_PG_IDS}) ORDER BY link_id FOR UPDATE")
_PG_AGENTS = (
    "UPDATE agent AS a SET last_seq = v.seq, heartbeats = a.heartbeats + v.n, last_heartbeat_ts = v.ts, "
    "metrics_address = COALESCE(v.ma, a.metrics_address), agent_version = COALESCE(v.av, a.agent_version) "
    "FROM json_to_recordset(%s::json) AS v(id text, seq bigint, n bigint, ts float8, ma text, av text) "
    "WHERE a.agent_id = v.id")
_PG_STATUS = (
    f"INSERT INTO link_status ({', '.join(STATUS_WRITE)}) SELECT {', '.join(STATUS_WRITE)} "
    "FROM json_to_recordset(%s::json) AS v("
    + ", ".join(f"{c} {t}" for c, t in zip(STATUS_WRITE, _TYPES, strict=True))
    + f") ON CONFLICT (link_id) DO UPDATE SET {_SET}")

_SQLITE_IDS = "(SELECT value FROM json_each(?))"
_SQLITE_READ = (
    f"SELECT {', '.join(AGENT_READ)} FROM agent WHERE agent_id IN {_SQLITE_IDS} ORDER BY agent_id",
    f"SELECT link_id, division_code FROM link WHERE link_id IN {_SQLITE_IDS}",
    f"SELECT {', '.join(STATUS_READ)} FROM link_status WHERE link_id IN {_SQLITE_IDS}")
_SQLITE_AGENTS = (
    "UPDATE agent SET last_seq = :seq, heartbeats = heartbeats + :n, last_heartbeat_ts = :ts, "
    "metrics_address = COALESCE(:ma, metrics_address), agent_version = COALESCE(:av, agent_version) "
    "WHERE agent_id = :id")
_SQLITE_STATUS = (
    f"INSERT INTO link_status ({', '.join(STATUS_WRITE)}) VALUES ({', '.join(':' + c for c in STATUS_WRITE)}) "
    f"ON CONFLICT (link_id) DO UPDATE SET {_SET}")


def read_batch(conn: Connection, agent_ids: list[str], link_ids: list[str],
               ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The agents' rows (AGENT_READ, locked), the links' (link_id, division_code) and the links'
    status rows (STATUS_READ, locked)."""
    agents, links = orjson.dumps(agent_ids).decode(), orjson.dumps(link_ids).decode()
    with driver_errors(conn) as (raw, pg):
        if not pg:
            out = [raw.execute(q, (ids,)).fetchall() for q, ids in zip(_SQLITE_READ, (agents, links, links),
                                                                          strict=True)]
            return out[0], out[1], out[2]
        cursors = [raw.cursor() for _ in _PG_READ]
        with raw.pipeline():
            for cur, q, ids in zip(cursors, _PG_READ, (agents, links, links), strict=True):
                cur.execute(q, (ids,), prepare=True)
        return cursors[0].fetchall(), cursors[1].fetchall(), cursors[2].fetchall()


def write_batch(conn: Connection, agents: list[dict[str, Any]], status: list[dict[str, Any]]) -> None:
    """The agents' update (AGENT_WRITE keys) and the status rows' upsert (STATUS_WRITE keys)."""
    with driver_errors(conn) as (raw, pg):
        if not pg:
            raw.executemany(_SQLITE_AGENTS, agents)
            if status:
                raw.executemany(_SQLITE_STATUS, status)
            return
        cur = raw.cursor()
        with raw.pipeline():
            cur.execute(_PG_AGENTS, (orjson.dumps(agents).decode(),), prepare=True)
            if status:
                cur.execute(_PG_STATUS, (orjson.dumps(status).decode(),), prepare=True)


@contextmanager
def driver_errors(conn: Connection) -> Iterator[tuple[Any, bool]]:
    """(the driver's connection, whether it is PostgreSQL); its errors raised as SQLAlchemy's."""
    from sqlalchemy.exc import DBAPIError

    pg = conn.dialect.name == "postgresql"
    base: type[Exception]
    if pg:
        import psycopg

        base = psycopg.Error
    else:
        import sqlite3

        base = sqlite3.Error
    try:
        yield conn.connection.driver_connection, pg
    except base as e:
        raise DBAPIError.instance(None, None, e, base) from e
