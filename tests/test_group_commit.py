"""Group commit (cloudctl/group_commit.py) and batched audit appends: many threads' items
are written in fewer flushes, each caller returns only once its own item is written, a failed
flush fails exactly its batch, and the audit chain stays valid on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from cloudctl.api.heartbeats import audit_batcher
from cloudctl.audit import Actor, Change, list_entries, verify_chain
from cloudctl.group_commit import GroupCommitter
from cloudctl.store import Store


def test_every_item_is_written_once_in_fewer_flushes_and_callers_wait_for_their_own() -> None:
    written: list[int] = []
    gate = threading.Event()

    def flush(_kind: str, items: list[int]) -> list[None]:
        gate.wait(5)  # the first flush holds on until everyone has queued behind it
        time.sleep(0.01)
        written.extend(items)
        return [None] * len(items)

    gc: GroupCommitter[int, None] = GroupCommitter(flush, max_batch=500)
    returned: dict[int, bool] = {}

    def caller(i: int) -> None:
        gc.submit("n", i)
        returned[i] = i in written  # returns only after its item is written

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    gate.set()
    for t in threads:
        t.join(10)
    assert sorted(written) == list(range(40))
    assert all(returned.values()) and len(returned) == 40
    assert gc.items == 40 and gc.batches < 40  # batched: the 39 that queued behind the first share flushes


def test_a_failed_flush_fails_its_whole_batch_and_the_next_batch_proceeds() -> None:
    calls: list[list[str]] = []

    def flush(_kind: str, items: list[str]) -> list[None]:
        calls.append(list(items))
        if "bad" in items:
            raise RuntimeError("disk full")
        return [None] * len(items)

    gc: GroupCommitter[str, None] = GroupCommitter(flush)
    with pytest.raises(RuntimeError, match="disk full"):
        gc.submit("s", "bad")
    gc.submit("s", "good")
    assert calls == [["bad"], ["good"]]


def test_batched_audit_appends_keep_the_chain_valid(store: Store) -> None:
    gc = audit_batcher(store)  # the API's batcher
    changes = [Change(Actor(f"agent:{i}"), "link_state", "agent", str(i), {"up": None}, {"up": 1}) for i in range(30)]
    threads = [threading.Thread(target=gc.submit, args=("link_state", c)) for c in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with store.connect() as conn:
        entries = list_entries(conn, limit=None)
        report = verify_chain(conn)
    assert sorted(e["object_id"] for e in entries) == sorted(str(i) for i in range(30))
    assert report.ok, report
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)
