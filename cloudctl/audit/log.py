"""Recording and reading the audit log. Every change in cloudctl goes through record_change,
inside the same transaction as the change it describes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cloudctl import clock
from cloudctl.audit.chain import ChainReport, check_chain, entry_hash
from cloudctl.store.tables.core import audit_head, audit_log


@dataclass(frozen=True)
class Actor:
    """Who acts and through which command (the command line as typed)."""

    name: str
    command: str = ""


def _summary(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def now_utc() -> str:
    """Now, as the audit log keeps it: UTC ISO 8601 from the one clock."""
    return clock.stamp()


@dataclass(frozen=True)
class Change:
    """One audit entry to append (see record_change)."""

    actor: Actor
    action: str
    object_type: str
    object_id: str
    before: Any = None
    after: Any = None
    at: str | None = None


def record_change(
    conn: Connection,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
    *,
    at: str | None = None,
) -> int:
    """Append one entry to the chain; returns its seq. Call inside the change's transaction."""
    return record_changes(conn, [Change(actor, action, object_type, str(object_id), before, after, at)])[0]


def record_changes(conn: Connection, changes: list[Change]) -> list[int]:
    """Append entries in order with one head lock, one (multi-row) insert and one head update;
    returns their seqs. Call inside the transaction of the changes they describe."""
    # Lock the head row: PostgreSQL serialises appenders here; SQLite already holds the
    # write lock (BEGIN IMMEDIATE).
    head_q = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if conn.dialect.name != "sqlite":
        head_q = head_q.with_for_update()
    head = conn.execute(head_q).one()
    seq, prev = int(head.seq), head.hash
    entries: list[dict[str, object]] = []
    for c in changes:
        seq += 1
        entry: dict[str, object] = {
            "seq": seq,
            "at": c.at or now_utc(),
            "actor": c.actor.name,
            "command": c.actor.command,
            "action": c.action,
            "object_type": c.object_type,
            "object_id": str(c.object_id),
            "before": _summary(c.before),
            "after": _summary(c.after),
            "prev_hash": prev,
        }
        entry["hash"] = prev = entry_hash(entry)
        entries.append(entry)
    if entries:
        conn.execute(insert(audit_log), entries)
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))
    return [int(e["seq"]) for e in entries]  # type: ignore[call-overload]


def list_entries(
    conn: Connection,
    *,
    limit: int | None = 50,
    object_type: str | None = None,
    actor: str | None = None,
    since_seq: int | None = None,
) -> list[dict[str, Any]]:
    """The newest entries first (limit=None for all)."""
    q = select(audit_log).order_by(audit_log.c.seq.desc())
    if object_type:
        q = q.where(audit_log.c.object_type == object_type)
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if since_seq is not None:
        q = q.where(audit_log.c.seq > since_seq)
    if limit is not None:
        q = q.limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def _rows(conn: Connection) -> Iterator[dict[str, object]]:
    result = conn.execution_options(stream_results=True).execute(
        select(audit_log).order_by(audit_log.c.seq)
    )
    for r in result:
        yield dict(r._mapping)


def verify_chain(conn: Connection) -> ChainReport:
    """Check every row and the head; the report names the first bad row."""
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
    return check_chain(_rows(conn), int(head.seq), head.hash)


def count_entries(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
