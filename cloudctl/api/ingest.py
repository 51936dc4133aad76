"""Batched heartbeat ingest: many agents' heartbeats applied in one write transaction.

`apply_heartbeats(conn, beats)` answers each heartbeat (a HeartbeatOutcome, or the error that
refuses it alone) with a fixed number of statements whatever the batch size:

1. the batch's agents, locked in agent-id order (`FOR UPDATE` on PostgreSQL);
2. the divisions of every link the batch reports (one read), and their status rows (locked in
   link-id order on PostgreSQL; on SQLite, the accepted heartbeats' links, read after step 3);
3. in arrival order, per heartbeat (pure, `decide`): credential, state, seq (a seq already seen
   is acknowledged, not applied), links of the agent's own division;
4. the accepted heartbeats folded into the status rows in arrival order (`fold_links`: a replayed
   older result never overrides a newer one); one multi-row update of the agents and one
   multi-row upsert of the status rows;
5. the transitions (a link's up/down changed, it reported for the first time, or it is heard of
   again after a silence) are written by `record_transitions`: the links' interval rows
   (cloudctl/availability/record.py: one read of the links' last rows, one upsert), then one
   summarising audit record per heartbeat that changed an up/down state, appended last, so the
   audit chain's head (one row lock on PostgreSQL) is held only from there to the commit.

Silence: each status row keeps `known_until_ts` = its check time + `silence_s` (the API's
heartbeat interval times its silence-after count, 3 x 15 s by default); a report checked later
than that ends a silence, and the link's state in between is unknown (docs/availability.md).

On PostgreSQL steps 1-2 are one round trip and step 4 another (psycopg's pipeline mode), with
constant statement texts psycopg prepares once per connection and each list sent as one JSON
text (`json_to_recordset`): the client's cost per batch and per heartbeat is a fraction of
statements built per batch with per-element array parameters.

Lock order (one for every batch, every replica): agent rows, link_status rows, audit_head; the
same order as `api/registry.py`'s writers (agent row, then the head). So concurrent batches of
several processes never deadlock, whatever agents they share.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select, text

from cloudctl.api import credentials as cred
from cloudctl.audit import Actor, Change, record_changes
from cloudctl.availability.intervals import DEFAULT_SILENCE_S
from cloudctl.availability.record import write_intervals
from cloudctl.errors import CloudctlError, PermissionDenied
from cloudctl.store.tables.agents import agent, link_status
from cloudctl.store.tables.coverage import link

STATUS_COLUMNS = ("up", "loss_ratio", "rtt_min_seconds", "rtt_avg_seconds", "rtt_max_seconds", "rtt_stddev_seconds")


class CredentialRejected(PermissionDenied):
    """The credential is not the agent's (or the agent is revoked): HTTP 401."""


@dataclass(frozen=True)
class Heartbeat:
    """One heartbeat to apply. `credential` None: the caller has authenticated the agent."""

    agent_id: str
    seq: int
    per_link: dict[str, dict[str, Any]]  # heartbeats.combine(results)
    received: float
    checked: float
    credential: str | None = None
    metrics_address: str | None = None
    agent_version: str | None = None


@dataclass(frozen=True)
class HeartbeatOutcome:
    accepted: bool
    duplicate: bool
    links_updated: int
    links_changed: int
    last_seq: int = 0  # the agent's last seq the store holds after this heartbeat


@dataclass(frozen=True)
class Transition:
    """A link's up/down at `at` (epoch seconds): `before` None when it reports for the first time;
    `silent_since` the previous report's known_until when this one ends a silence (else None)."""

    link_id: str
    agent_id: str
    seq: int
    division_code: str
    before: int | None
    after: int
    at: float
    silent_since: float | None = None

    @property
    def flipped(self) -> bool:
        return self.before != self.after


@dataclass
class _AgentState:
    division_code: str
    state: str
    credential_hash: str | None
    last_seq: int
    accepted: list[int] = field(default_factory=list)  # indexes into the batch


Answer = HeartbeatOutcome | CloudctlError


def decide(beats: Sequence[Heartbeat], agents: dict[str, _AgentState],
           link_divisions: dict[str, str]) -> list[Answer | None]:
    """Per heartbeat in arrival order: an error, a duplicate's outcome, or None (to apply). Pure;
    advances each agent's last_seq as its heartbeats are accepted."""
    answers: list[Answer | None] = []
    for i, b in enumerate(beats):
        a = agents.get(b.agent_id)
        if b.credential is not None and (a is None or not cred.matches(b.credential, a.credential_hash)
                                         or a.state != "active"):
            answers.append(CredentialRejected("invalid or revoked credential"))
            continue
        if a is None or a.state != "active":
            answers.append(PermissionDenied(f"agent {b.agent_id} is {a.state if a else 'unknown'}"))
            continue
        if b.seq <= a.last_seq:
            answers.append(HeartbeatOutcome(False, True, 0, 0, a.last_seq))
            continue
        foreign = sorted(k for k in b.per_link if link_divisions.get(k) != a.division_code)
        if foreign:
            answers.append(PermissionDenied(
                f"links {', '.join(foreign[:5])} are not links of division {a.division_code}"))
            continue
        a.last_seq = b.seq
        a.accepted.append(i)
        answers.append(None)
    return answers


def fold_links(beats: Sequence[Heartbeat], order: Sequence[int], agents: dict[str, _AgentState],
               existing: dict[str, dict[str, Any]], silence_s: float = DEFAULT_SILENCE_S,
               ) -> tuple[dict[str, dict[str, Any]], dict[int, tuple[int, int]], list[Transition]]:
    """Apply the accepted heartbeats (`order`: batch indexes, arrival order) to the links' status
    rows (pure). Returns the rows to write, per heartbeat (links updated, links changed), and the
    transitions in order (up/down changes, first reports, reports after a silence)."""
    rows: dict[str, dict[str, Any]] = {}
    counts: dict[int, tuple[int, int]] = {}
    transitions: list[Transition] = []
    for i in order:
        b = beats[i]
        division = agents[b.agent_id].division_code
        updated = changed = 0
        for link_id, v in b.per_link.items():
            old = rows.get(link_id) or existing.get(link_id)
            if old is not None and b.checked < float(old["checked_ts"]):
                continue  # a replayed older result never overrides a newer one
            flipped = old is None or int(old["up"]) != v["up"]
            known_until = old.get("known_until_ts") if old is not None else None
            silent_since = float(known_until) if known_until is not None and b.checked > float(known_until) else None
            rows[link_id] = {"link_id": link_id, "division_code": division, "agent_id": b.agent_id,
                             "checked_ts": b.checked,
                             "changed_ts": b.checked if flipped else float(old["changed_ts"]),  # type: ignore[index]
                             "known_until_ts": b.checked + silence_s,
                             **{c: v[c] for c in STATUS_COLUMNS}}
            updated += 1
            changed += flipped
            if flipped or silent_since is not None:
                transitions.append(Transition(link_id, b.agent_id, b.seq, division,
                                              None if old is None else int(old["up"]), v["up"], b.checked,
                                              silent_since))
        counts[i] = (updated, changed)
    return rows, counts, transitions


def apply_heartbeats(conn: Connection, beats: Sequence[Heartbeat], silence_s: float = DEFAULT_SILENCE_S,
                     ) -> list[Answer]:
    """Apply a batch inside the caller's write transaction; one answer per heartbeat, in order.
    `silence_s`: how long a link's report holds (its state is unknown after that).

    On PostgreSQL the reads and the writes are one round trip each (psycopg's pipeline mode: the
    statements go out together and their answers come back together), with constant statement
    texts that psycopg prepares once per connection; SQLite runs in-process."""
    pg = conn.dialect.name == "postgresql"
    agent_ids = sorted({b.agent_id for b in beats})
    link_ids = sorted({k for b in beats for k in b.per_link})
    existing: dict[str, dict[str, Any]] | None = None
    if pg:  # the batch's agents, its links' divisions and their status rows (locked) at once
        agents, link_divisions, existing = _read_pg(conn, agent_ids, link_ids)
    else:
        agents, link_divisions = _lock_agents(conn, agent_ids), _link_divisions(conn, link_ids)
    answers = decide(beats, agents, link_divisions)
    order = [i for i, a in enumerate(answers) if a is None]
    if not order:
        return answers  # type: ignore[return-value]
    if existing is None:
        existing = _status_sqlite(conn, sorted({k for i in order for k in beats[i].per_link}))
    rows, counts, transitions = fold_links(beats, order, agents, existing, silence_s)
    agent_rows = _agent_rows([beats[i] for i in order])
    if pg:
        _write_pg(conn, agent_rows, list(rows.values()))
    else:
        conn.execute(_AGENTS_SQLITE, agent_rows)
        if rows:
            conn.execute(_STATUS_SQLITE, list(rows.values()))
    record_transitions(conn, transitions)
    for i in order:
        updated, changed = counts[i]
        answers[i] = HeartbeatOutcome(True, False, updated, changed, beats[i].seq)
    return answers  # type: ignore[return-value]


def record_transitions(conn: Connection, transitions: Sequence[Transition]) -> None:
    """Everything a link's state change writes, in the batch's transaction: the links' interval
    rows (their status rows are locked already, so no other batch writes the same links'), then one
    audit record per heartbeat that changed an up/down state (its links' before/after), appended
    last, so the chain's head stays locked only from the append to the commit."""
    if not transitions:
        return
    write_intervals(conn, transitions)
    per_beat: dict[tuple[str, int], list[Transition]] = {}
    for t in transitions:
        if t.flipped:
            per_beat.setdefault((t.agent_id, t.seq), []).append(t)
    changes = []
    for (agent_id, _seq), ts in per_beat.items():
        ts = sorted(ts, key=lambda t: t.link_id)
        changes.append(Change(Actor(f"agent:{agent_id}", "POST /v1/agents/{id}/heartbeats"), "link_state", "agent",
                              agent_id, {"up": {t.link_id: t.before for t in ts}},
                              {"up": {t.link_id: t.after for t in ts}}))
    if changes:
        record_changes(conn, changes)


def _lock_agents(conn: Connection, ids: list[str]) -> dict[str, _AgentState]:
    q = (select(agent.c.agent_id, agent.c.division_code, agent.c.state, agent.c.credential_hash, agent.c.last_seq)
         .where(agent.c.agent_id.in_(ids)).order_by(agent.c.agent_id))
    return {r.agent_id: _AgentState(r.division_code, r.state, r.credential_hash, int(r.last_seq))
            for r in conn.execute(q)}


def _link_divisions(conn: Connection, link_ids: list[str]) -> dict[str, str]:
    if not link_ids:
        return {}
    return dict(conn.execute(select(link.c.link_id, link.c.division_code).where(link.c.link_id.in_(link_ids))).all())


_STATUS_READ = ("link_id", "up", "checked_ts", "changed_ts", "known_until_ts")


def _status_sqlite(conn: Connection, link_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not link_ids:
        return {}
    q = (select(*(link_status.c[c] for c in _STATUS_READ)).where(link_status.c.link_id.in_(link_ids))
         .order_by(link_status.c.link_id))
    return {r.link_id: dict(r._mapping) for r in conn.execute(q)}


# PostgreSQL: constant statement texts, prepared once per connection. Lists travel as one JSON
# text (orjson), which costs the client a fraction of psycopg's per-element array escaping.
_IDS = "ARRAY(SELECT json_array_elements_text(%s::json))"
_AGENTS_LOCK_PG = ("SELECT agent_id, division_code, state, credential_hash, last_seq FROM agent "
                   f"WHERE agent_id = ANY({_IDS}) ORDER BY agent_id FOR UPDATE")
_LINKS_PG = f"SELECT link_id, division_code FROM link WHERE link_id = ANY({_IDS})"
_STATUS_LOCK_PG = (f"SELECT {', '.join(_STATUS_READ)} FROM link_status WHERE link_id = ANY({_IDS}) "
                   "ORDER BY link_id FOR UPDATE")


def _read_pg(conn: Connection, agent_ids: list[str], link_ids: list[str],
             ) -> tuple[dict[str, _AgentState], dict[str, str], dict[str, dict[str, Any]]]:
    """One round trip: the agents locked (id order), the links' divisions, then the status rows of
    every link reported locked (id order; the lock order of every batch: agents, then links)."""
    with _pg_errors():
        pg = conn.connection.driver_connection
        agents_cur, links_cur, status_cur = pg.cursor(), pg.cursor(), pg.cursor()
        with pg.pipeline():
            agents_cur.execute(_AGENTS_LOCK_PG, (orjson.dumps(agent_ids).decode(),), prepare=True)
            if link_ids:
                links = orjson.dumps(link_ids).decode()
                links_cur.execute(_LINKS_PG, (links,), prepare=True)
                status_cur.execute(_STATUS_LOCK_PG, (links,), prepare=True)
        agents = {r[0]: _AgentState(r[1], r[2], r[3], int(r[4])) for r in agents_cur.fetchall()}
        if not link_ids:
            return agents, {}, {}
        divisions = dict(links_cur.fetchall())
        existing = {r[0]: dict(zip(_STATUS_READ, r, strict=True)) for r in status_cur.fetchall()}
    return agents, divisions, existing


def _agent_rows(accepted: list[Heartbeat]) -> list[dict[str, Any]]:
    """Per agent: its last seq, time and addresses in arrival order, and how many were accepted."""
    per: dict[str, dict[str, Any]] = {}
    for b in accepted:
        p = per.setdefault(b.agent_id, {"id": b.agent_id, "n": 0, "ma": None, "av": None})
        p.update(seq=b.seq, ts=b.received, n=p["n"] + 1)
        p["ma"] = b.metrics_address or p["ma"]
        p["av"] = b.agent_version or p["av"]
    return list(per.values())


_AGENTS_PG = """
UPDATE agent AS a SET last_seq = v.seq, heartbeats = a.heartbeats + v.n, last_heartbeat_ts = v.ts,
       metrics_address = COALESCE(v.ma, a.metrics_address), agent_version = COALESCE(v.av, a.agent_version)
FROM json_to_recordset(%s::json) AS v(id text, seq bigint, n bigint, ts float8, ma text, av text)
WHERE a.agent_id = v.id"""
_AGENTS_SQLITE = text("""
UPDATE agent SET last_seq = :seq, heartbeats = heartbeats + :n, last_heartbeat_ts = :ts,
       metrics_address = COALESCE(:ma, metrics_address), agent_version = COALESCE(:av, agent_version)
WHERE agent_id = :id""")

_COLUMNS = ("link_id", "division_code", "agent_id", "checked_ts", "changed_ts", "known_until_ts", *STATUS_COLUMNS)
_SET = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
_TYPES = ("text", "text", "text", "float8", "float8", "float8", "smallint", "float8", "float8", "float8", "float8",
          "float8")
_STATUS_PG = (f"INSERT INTO link_status ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM json_to_recordset("
              "%s::json) AS v(" + ", ".join(f"{c} {t}" for c, t in zip(_COLUMNS, _TYPES, strict=True))
              + f") ON CONFLICT (link_id) DO UPDATE SET {_SET}")
_STATUS_SQLITE = text(
    f"INSERT INTO link_status ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    f"ON CONFLICT (link_id) DO UPDATE SET {_SET}")


def _write_pg(conn: Connection, agents: list[dict[str, Any]], status: list[dict[str, Any]]) -> None:
    """One round trip: the agents' multi-row update and the status rows' multi-row upsert."""
    with _pg_errors():
        pg = conn.connection.driver_connection
        cur = pg.cursor()
        with pg.pipeline():
            cur.execute(_AGENTS_PG, (orjson.dumps(agents).decode(),), prepare=True)
            if status:
                cur.execute(_STATUS_PG, (orjson.dumps(status).decode(),), prepare=True)


@contextmanager
def _pg_errors() -> Iterator[None]:
    """psycopg's errors as SQLAlchemy's (what the store's transaction translates: the server away
    is OperationFailed, answered 503), as if the statements had gone through SQLAlchemy."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except psycopg.Error as e:
        raise DBAPIError.instance(None, None, e, psycopg.Error) from e
