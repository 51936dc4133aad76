"""Signed checkpoints catch what the bare hash chain cannot: a chain recomputed after an edit,
deleted checkpoints (through the external file), a rollback; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert

from cloudctl.audit import verify_chain
from cloudctl.audit.checkpoints import sign_checkpoint
from cloudctl.audit.keys import generate_key, load_private_key
from cloudctl.audit.signer import stored_checkpoints
from cloudctl.errors import ConflictError
from cloudctl.store.tables.core import audit_checkpoint
from tests.audit.conftest import Signer, write
from tests.audit.tamper import delete_checkpoints, rewrite_row, truncate_after


def _three_checkpoints(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    """Checkpoints 1, 2, 3 at rows 3, 6 and 8."""
    for n in (3, 3, 2):
        write(store, n)
        assert signer.checkpoint(store).created


def test_checkpoint_signs_the_head_and_a_rerun_is_a_no_op(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    write(store, 5)
    first = signer.checkpoint(store)
    assert first.created and first.newest is not None
    assert (first.newest.number, first.newest.seq) == (1, 5)
    again = signer.checkpoint(store)
    assert not again.created and again.newest == first.newest
    lines = signer.file.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == 5
    with store.connect() as conn:
        assert stored_checkpoints(conn) == [first.newest]
    report = signer.verify(store)
    assert report.ok and report.chain.checkpoints_checked == 1 and report.unsigned_entries == 0
    write(store, 2)
    assert signer.verify(store).unsigned_entries == 2


def test_a_recomputed_chain_fails_at_the_first_checkpoint_it_contradicts(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    _three_checkpoints(store, signer)
    with store.begin() as conn:  # the attack: edit row 5, recompute every later hash and the head
        rewrite_row(conn, 5, actor="mallory")
    with store.connect() as conn:
        assert verify_chain(conn).ok  # the bare chain links up: this is what the checkpoints are for
    for source in ("store", "file", "both"):
        report = signer.verify(store, source)
        assert not report.ok, source
        assert report.chain.checkpoint == 2 and report.chain.first_bad_seq == 6, source
        problem = report.chain.problem
        assert "checkpoint 2" in problem and "rows 4..6, after checkpoint 1 (row 3)" in problem
        assert report.chain.checkpoints_checked == 1  # checkpoint 1 (row 3) still holds
    with pytest.raises(ConflictError, match="refusing to sign"):
        signer.checkpoint(store)  # the signer never vouches for a rewritten history


def test_the_external_file_catches_deleted_store_checkpoints(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    _three_checkpoints(store, signer)
    with store.begin() as conn:
        rewrite_row(conn, 2, action="nothing-to-see")
        delete_checkpoints(conn)  # and remove the store's copy of the evidence
    store_only = signer.verify(store, "store")
    assert store_only.ok and store_only.chain.checkpoints_checked == 0  # the store alone cannot tell
    assert any("no signed checkpoints" in n for n in store_only.notes)
    file_only = signer.verify(store, "file")
    assert not file_only.ok and file_only.chain.checkpoint == 1 and file_only.chain.first_bad_seq == 3
    both = signer.verify(store, "both")
    assert not both.ok and both.chain.checkpoint == 1
    assert any("the store lacks checkpoint(s) 1..3" in p for p in both.problems)


def test_a_rollback_to_an_older_consistent_state_is_caught_by_the_file(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    _three_checkpoints(store, signer)
    with store.begin() as conn:  # a restored backup: rows 1..6 and checkpoints 1..2, all consistent
        truncate_after(conn, 6)
        delete_checkpoints(conn, after=2)
    assert signer.verify(store, "store").ok  # consistent with itself
    report = signer.verify(store, "both")
    assert not report.ok and report.chain.checkpoint == 3 and report.chain.first_bad_seq == 7
    assert "rows 7..8 were deleted" in report.chain.problem
    with pytest.raises(ConflictError, match="behind checkpoint 3"):
        signer.checkpoint(store)


def test_truncating_after_the_newest_checkpoint_goes_unseen(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    """The documented limit (docs/audit.md): rows not yet signed can still vanish without a trace."""
    write(store, 4)
    signer.checkpoint(store)
    write(store, 3)
    with store.begin() as conn:
        truncate_after(conn, 4)
    report = signer.verify(store)
    assert report.ok and report.unsigned_entries == 0


def test_a_checkpoint_signed_by_another_key_is_not_trusted(store, signer: Signer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write(store, 3)
    generate_key(tmp_path / "mallory.key")
    mallory = load_private_key(tmp_path / "mallory.key")
    with store.connect() as conn:
        head = conn.exec_driver_sql("SELECT seq, hash FROM audit_head").one()
    forged = sign_checkpoint(mallory, 1, head.seq, head.hash, "2026-01-01T00:00:00.000000+00:00", None)
    with store.begin() as conn:
        conn.execute(insert(audit_checkpoint).values(**forged.as_dict()))
    report = signer.verify(store, "store")
    assert not report.ok and "not a trusted public key" in report.problems[0]
    with pytest.raises(ConflictError, match="not signed by a trusted key"):
        signer.checkpoint(store)


def test_a_crash_between_the_append_and_the_commit_is_repaired(store, signer: Signer,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from cloudctl.audit import external

    write(store, 2)
    signer.checkpoint(store)
    write(store, 2)
    real_append = external.append

    def append_then_fail(*args, **kw):  # type: ignore[no-untyped-def]
        real_append(*args, **kw)  # durable in the file ...
        raise RuntimeError("power lost before the commit")  # ... never committed in the store

    monkeypatch.setattr(external, "append", append_then_fail)
    with pytest.raises(RuntimeError):
        signer.checkpoint(store)
    monkeypatch.setattr(external, "append", real_append)
    report = signer.verify(store)
    assert not report.ok and "the store lacks checkpoint(s) 2" in report.problems[0]
    repaired = signer.checkpoint(store)
    assert repaired.imported == 1 and not repaired.created and repaired.newest.number == 2
    assert signer.verify(store).ok


def test_a_new_file_is_caught_up_and_a_torn_last_line_is_skipped(store, signer: Signer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write(store, 2)
    signer.checkpoint(store)
    write(store, 1)
    signer.checkpoint(store)
    signer.file = tmp_path / "new-share" / "checkpoints.jsonl"
    write(store, 1)
    result = signer.checkpoint(store)
    assert result.created and result.appended_missing == 2
    assert [json.loads(x)["number"] for x in signer.file.read_text().splitlines()] == [1, 2, 3]
    with signer.file.open("a") as f:
        f.write('{"number": 4, "seq"')  # a write cut short by a crash
    assert signer.verify(store).ok
    write(store, 1)
    assert signer.checkpoint(store).newest.number == 4
    report = signer.verify(store, "file")
    assert report.ok and report.chain.checkpoints_checked == 4
    assert any("not a checkpoint" in n for n in report.notes)


def test_a_forked_checkpoint_in_the_file_is_named(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    write(store, 2)
    signer.checkpoint(store)
    write(store, 2)
    second = signer.checkpoint(store).newest
    lines = signer.file.read_text().splitlines()
    first = json.loads(lines[0])
    with store.connect() as conn:
        row3 = conn.exec_driver_sql("SELECT hash FROM audit_log WHERE seq = 3").scalar_one()
    from cloudctl.audit.checkpoints import parse_checkpoint

    fork = sign_checkpoint(signer.key, 2, 3, row3, second.at, parse_checkpoint(first))
    signer.file.write_text(lines[0] + "\n" + fork.to_line() + "\n")  # the file's copy says row 3
    report = signer.verify(store, "both")
    assert not report.ok and any("checkpoint 2 differs between the store and" in p for p in report.problems)
    with pytest.raises(ConflictError, match="checkpoint 2 differs"):
        signer.checkpoint(store)



def test_a_clock_stepped_back_never_reorders_checkpoints(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from cloudctl import clock

    write(store, 1)
    first = signer.checkpoint(store).newest
    write(store, 1)
    second = signer.checkpoint(store, clock=clock.current().pinned(datetime(2001, 1, 1, tzinfo=UTC))).newest
    assert second.number == 2 and second.at == first.at
    assert signer.verify(store).ok
