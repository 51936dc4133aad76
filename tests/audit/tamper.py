"""What someone who can write the database directly does to the audit log (tests only).

On PostgreSQL the audit tables are append-only for operator logins (triggers and revoked
privileges); the table owner and superusers can still switch the triggers off, and
`as_database_owner` does that for one transaction, as such an attacker would.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, update

from cloudctl.audit.chain import entry_hash
from cloudctl.store.tables.core import audit_checkpoint, audit_head, audit_log


def as_database_owner(conn: Connection) -> None:
    """Skip the append-only triggers for the rest of this transaction (PostgreSQL superuser)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")


def rewrite_row(conn: Connection, seq: int, **changes: Any) -> None:
    """Edit row SEQ, recompute the hash of every later row and the head: the chain links up."""
    as_database_owner(conn)
    rows = [dict(r._mapping) for r in conn.execute(select(audit_log).where(audit_log.c.seq >= seq)
                                                   .order_by(audit_log.c.seq))]
    prev = rows[0]["prev_hash"]
    for i, row in enumerate(rows):
        if i == 0:
            row.update(changes)
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(row)
        conn.execute(update(audit_log).where(audit_log.c.seq == row["seq"])
                     .values(**{k: v for k, v in row.items() if k != "seq"}))
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=rows[-1]["seq"], hash=prev))


def truncate_after(conn: Connection, seq: int) -> None:
    """Delete every row after SEQ and move the head back to it (consistent, and shorter)."""
    as_database_owner(conn)
    conn.execute(delete(audit_log).where(audit_log.c.seq > seq))
    last = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar_one()
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=last))


def delete_checkpoints(conn: Connection, after: int = 0) -> None:
    as_database_owner(conn)
    conn.execute(delete(audit_checkpoint).where(audit_checkpoint.c.number > after))
