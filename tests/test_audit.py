"""The audit chain detects edited, inserted and deleted rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, text, update

from cloudctl.audit import Actor, list_entries, record_change, verify_chain
from cloudctl.audit.chain import entry_hash
from cloudctl.store.tables.core import audit_head, audit_log
from tests.audit.tamper import as_database_owner


def _write(store, n: int) -> None:  # type: ignore[no-untyped-def]
    with store.begin() as conn:
        for i in range(n):
            record_change(conn, Actor("alice", "cloudctl test"), "update", "thing", f"t{i}",
                          before={"v": i}, after={"v": i + 1})


def test_intact_chain_verifies(store) -> None:  # type: ignore[no-untyped-def]
    _write(store, 5)
    with store.connect() as conn:
        report = verify_chain(conn)
        entries = list_entries(conn, limit=None)
    assert report.ok and report.rows_checked == 5
    assert [e["seq"] for e in entries] == [5, 4, 3, 2, 1]
    assert entries[-1]["before"] == '{"v": 0}' and entries[-1]["actor"] == "alice"


def test_edited_row_is_named(store) -> None:  # type: ignore[no-untyped-def]
    _write(store, 5)
    with store.begin() as conn:
        as_database_owner(conn)  # on PostgreSQL the audit tables are append-only for everyone else
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(after='{"v": 99}'))
    with store.connect() as conn:
        report = verify_chain(conn)
    assert not report.ok and report.first_bad_seq == 3 and "edited" in report.problem


def test_edit_with_recomputed_hash_breaks_the_next_link(store) -> None:  # type: ignore[no-untyped-def]
    _write(store, 5)
    with store.begin() as conn:
        as_database_owner(conn)
        row = dict(conn.execute(select(audit_log).where(audit_log.c.seq == 2)).one()._mapping)
        row["actor"] = "mallory"
        row["hash"] = entry_hash(row)
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory", hash=row["hash"]))
    with store.connect() as conn:
        report = verify_chain(conn)
    assert not report.ok and report.first_bad_seq == 3


def test_deleted_middle_row_is_named(store) -> None:  # type: ignore[no-untyped-def]
    _write(store, 5)
    with store.begin() as conn:
        as_database_owner(conn)
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
    with store.connect() as conn:
        report = verify_chain(conn)
    assert not report.ok and report.first_bad_seq == 3 and "missing" in report.problem


def test_deleted_tail_is_detected_through_the_head(store) -> None:  # type: ignore[no-untyped-def]
    _write(store, 5)
    with store.begin() as conn:
        as_database_owner(conn)
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    with store.connect() as conn:
        report = verify_chain(conn)
    assert not report.ok and report.first_bad_seq == 5


def test_inserted_row_is_named(store) -> None:  # type: ignore[no-untyped-def]
    _write(store, 3)
    with store.begin() as conn:
        as_database_owner(conn)
        # shift rows 2..3 up and insert a forged row 2 with a valid-looking own hash
        conn.execute(update(audit_log).where(audit_log.c.seq >= 2).values(seq=audit_log.c.seq + 10))
        conn.execute(update(audit_log).where(audit_log.c.seq >= 12).values(seq=audit_log.c.seq - 9))
        first = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == 1)).scalar_one()
        forged = {"seq": 2, "at": "2026-01-01T00:00:00+00:00", "actor": "mallory", "command": "x",
                  "action": "grant", "object_type": "role", "object_id": "admin", "before": None,
                  "after": None, "prev_hash": first}
        forged["hash"] = entry_hash(forged)
        conn.execute(insert(audit_log).values(**forged))
        conn.execute(update(audit_head).values(seq=4))
    with store.connect() as conn:
        report = verify_chain(conn)
    assert not report.ok and report.first_bad_seq == 3


def test_rollback_leaves_no_entry(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), store.begin() as conn:
        record_change(conn, Actor("a"), "create", "thing", "x")
        raise RuntimeError("boom")
    with store.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
        assert verify_chain(conn).ok
