"""Heartbeats: an agent's probe results become link status. An agent reports only for links
of its own division; a replayed (already seen) sequence number is acknowledged, not applied.

Per link, several probes combine: up when any probe of the link got a reply; loss the mean,
RTT min of mins, mean of means, max of maxes and the largest stddev. An unchanged heartbeat
updates telemetry only; a heartbeat that changes a link's up/down state (or reports a link
for the first time) writes one summarising audit record. In the API that record is appended
by a group commit just after the heartbeat's own transaction (many agents' records share one
turn on the audit chain's head); the heartbeat is answered only once it is written. A crash
between the two would leave that telemetry change unaudited; the link state itself is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from cloudctl.api.registry import AgentRecord, division_link_ids
from cloudctl.audit import Actor, Change, record_changes
from cloudctl.errors import PermissionDenied
from cloudctl.group_commit import GroupCommitter
from cloudctl.store.tables.agents import agent, link_status


@dataclass(frozen=True)
class HeartbeatOutcome:
    accepted: bool
    duplicate: bool
    links_updated: int
    links_changed: int


def combine(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per link id: up, loss_ratio and RTT statistics combined over its probes (pure)."""
    per: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r.get("link_id"):
            per.setdefault(r["link_id"], []).append(r)
    out = {}
    for link_id, rs in per.items():
        def vals(key: str, rs: list[dict[str, Any]] = rs) -> list[float]:
            return [float(r[key]) for r in rs if r.get(key) is not None]
        loss, mins, avgs, maxs, devs = (vals(k) for k in ("loss_ratio", "rtt_min_s", "rtt_avg_s", "rtt_max_s",
                                                           "rtt_stddev_s"))
        out[link_id] = {"up": int(any(bool(r.get("up")) for r in rs)),
                        "loss_ratio": sum(loss) / len(loss) if loss else None,
                        "rtt_min_seconds": min(mins) if mins else None,
                        "rtt_avg_seconds": sum(avgs) / len(avgs) if avgs else None,
                        "rtt_max_seconds": max(maxs) if maxs else None,
                        "rtt_stddev_seconds": max(devs) if devs else None}
    return out


def audit_batcher(store: Any) -> GroupCommitter[Change, int]:
    """Link-state audit records of concurrent heartbeats appended together (cloudctl/group_commit.py)."""

    def append(_kind: str, changes: list[Change]) -> list[int]:
        with store.begin() as conn:
            return record_changes(conn, changes)

    return GroupCommitter(append, max_batch=500)


def record_heartbeat(store: Any, who: AgentRecord, seq: int, results: list[dict[str, Any]], *,
                     sent_at: float | None = None, metrics_address: str | None = None,
                     agent_version: str | None = None, now: float | None = None,
                     audit: GroupCommitter[Change, int] | None = None) -> HeartbeatOutcome:
    """Apply one heartbeat. Its link-state audit record goes into the same transaction, or, with
    `audit` (the API's batcher), into the next group commit right after it: the call returns once
    the record is written either way."""
    received = now if now is not None else time.time()
    checked = min(sent_at, received) if sent_at is not None else received
    per_link = combine(results)
    with store.begin() as conn:
        outcome, change = _apply_heartbeat(conn, who, seq, per_link, received, checked, metrics_address,
                                           agent_version)
        if change is not None and audit is None:
            record_changes(conn, [change])
    if change is not None and audit is not None:
        audit.submit("link_state", change)
    return outcome


def _apply_heartbeat(conn: Any, who: AgentRecord, seq: int, per_link: dict[str, dict[str, Any]], received: float,
                     checked: float, metrics_address: str | None,
                     agent_version: str | None) -> tuple[HeartbeatOutcome, Change | None]:
    row = conn.execute(select(agent.c.last_seq, agent.c.state).where(agent.c.agent_id == who.agent_id)).one()
    if row.state != "active":
        raise PermissionDenied(f"agent {who.agent_id} is {row.state}")
    if seq <= int(row.last_seq):
        return HeartbeatOutcome(False, True, 0, 0), None
    foreign = sorted(set(per_link) - division_link_ids(conn, who.division_code))
    if foreign:
        raise PermissionDenied(f"links {', '.join(foreign[:5])} are not links of division {who.division_code}")
    values: dict[str, Any] = {"last_seq": seq, "last_heartbeat_ts": received, "heartbeats": agent.c.heartbeats + 1}
    if metrics_address is not None:
        values["metrics_address"] = metrics_address
    if agent_version is not None:
        values["agent_version"] = agent_version
    conn.execute(update(agent).where(agent.c.agent_id == who.agent_id).values(**values))
    updated, changes = _apply_links(conn, who, per_link, checked)
    change = None
    if changes:
        before = {k: b for k, (b, _) in sorted(changes.items())}
        after = {k: a for k, (_, a) in sorted(changes.items())}
        change = Change(Actor(f"agent:{who.agent_id}", "POST /v1/agents/{id}/heartbeats"), "link_state", "agent",
                        who.agent_id, {"up": before}, {"up": after})
    return HeartbeatOutcome(True, False, updated, len(changes)), change


def _apply_links(conn: Any, who: AgentRecord, per_link: dict[str, dict[str, Any]],
                 checked: float) -> tuple[int, dict[str, tuple[int | None, int]]]:
    if not per_link:
        return 0, {}
    existing = {r.link_id: r for r in conn.execute(
        select(link_status.c.link_id, link_status.c.up, link_status.c.checked_ts, link_status.c.changed_ts)
        .where(link_status.c.link_id.in_(list(per_link))))}
    inserts, updates, changes = [], [], {}
    for link_id, v in per_link.items():
        old = existing.get(link_id)
        if old is None:
            inserts.append({"link_id": link_id, "division_code": who.division_code, "agent_id": who.agent_id,
                            "checked_ts": checked, "changed_ts": checked, **v})
            changes[link_id] = (None, v["up"])
        elif checked >= float(old.checked_ts):  # a replayed older result never overrides a newer one
            changed = int(old.up) != v["up"]
            updates.append({"k": link_id, "agent_id": who.agent_id, "checked_ts": checked,
                            "changed_ts": checked if changed else float(old.changed_ts), **v})
            if changed:
                changes[link_id] = (int(old.up), v["up"])
    if inserts:
        conn.execute(insert(link_status), inserts)
    if updates:
        from sqlalchemy import bindparam

        stmt = update(link_status).where(link_status.c.link_id == bindparam("k")).values(
            {c: bindparam(c) for c in updates[0] if c != "k"})
        conn.execute(stmt, updates)
    return len(inserts) + len(updates), changes
