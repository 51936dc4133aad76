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

The statements are in api/ingest_sql.py: on PostgreSQL steps 1-2 are one round trip and the
writes of step 4 another (psycopg's pipeline mode), each list sent as one JSON text.

Lock order (one for every batch, every replica): agent rows, link_status rows, audit_head; the
same order as `api/registry.py`'s writers (agent row, then the head). So concurrent batches of
several processes never deadlock, whatever agents they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from cloudctl.api import credentials as cred
from cloudctl.api.ingest_sql import STATUS_READ, read_batch, write_batch
from cloudctl.audit import Actor, Change, record_changes
from cloudctl.availability.intervals import DEFAULT_SILENCE_S
from cloudctl.availability.record import write_intervals
from cloudctl.errors import CloudctlError, PermissionDenied

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
    `silence_s`: how long a link's report holds (its state is unknown after that). The reads and
    the writes are a fixed few statements each (api/ingest_sql.py)."""
    agent_rows, link_rows, status_rows = read_batch(conn, sorted({b.agent_id for b in beats}),
                                                    sorted({k for b in beats for k in b.per_link}))
    agents = {r[0]: _AgentState(r[1], r[2], r[3], int(r[4])) for r in agent_rows}
    answers = decide(beats, agents, dict(link_rows))
    order = [i for i, a in enumerate(answers) if a is None]
    if not order:
        return answers  # type: ignore[return-value]
    existing = {r[0]: dict(zip(STATUS_READ, r, strict=True)) for r in status_rows}
    rows, counts, transitions = fold_links(beats, order, agents, existing, silence_s)
    write_batch(conn, _agent_rows([beats[i] for i in order]), list(rows.values()))
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


def _agent_rows(accepted: list[Heartbeat]) -> list[dict[str, Any]]:
    """Per agent (ingest_sql.AGENT_WRITE): its last seq, time and addresses in arrival order, and
    how many of its heartbeats were accepted."""
    per: dict[str, dict[str, Any]] = {}
    for b in accepted:
        p = per.setdefault(b.agent_id, {"id": b.agent_id, "n": 0, "ma": None, "av": None})
        p.update(seq=b.seq, ts=b.received, n=p["n"] + 1)
        p["ma"] = b.metrics_address or p["ma"]
        p["av"] = b.agent_version or p["av"]
    return list(per.values())
