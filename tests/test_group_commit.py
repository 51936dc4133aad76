"""Group commit (cloudctl/group_commit.py): many threads' (or coroutines') items are written in
fewer flushes, each caller returns only once its own item is written, a failed flush fails
exactly its batch, a full queue refuses at once, and batched audit appends keep the chain valid
on SQLite and PostgreSQL. The heartbeat ingest built on it: tests/fleet/test_ingest.py."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cloudctl.audit import Actor, Change, list_entries, record_changes, verify_chain
from cloudctl.group_commit import AsyncGroupCommitter, GroupCommitter, Overloaded
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
    def append(_kind: str, changes: list[Change]) -> list[int]:
        with store.begin() as conn:
            return record_changes(conn, changes)

    gc: GroupCommitter[Change, int] = GroupCommitter(append, max_batch=500)
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


def test_async_committer_batches_callers_fails_a_whole_batch_and_refuses_past_its_queue() -> None:
    sent: list[list[int]] = []

    def send(items: list[int]) -> list[int]:
        time.sleep(0.02)  # a transaction: callers arriving meanwhile queue for the next batch
        sent.append(list(items))
        if 13 in items:
            raise RuntimeError("store away")
        return [i * 10 for i in items]

    gc: AsyncGroupCommitter[int, int] = AsyncGroupCommitter(send, max_batch=8, max_queue=30)

    async def run() -> list[object]:
        tasks = [asyncio.create_task(gc.submit(i)) for i in range(30)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await gc.submit(99)  # 30 already waiting
        return await asyncio.gather(*tasks, return_exceptions=True)

    answers = asyncio.run(run())
    failed = next(b for b in sent if 13 in b)
    assert [a for a in answers if isinstance(a, Exception)] != []
    for i, a in enumerate(answers):
        assert (isinstance(a, RuntimeError) if i in failed else a == i * 10), (i, a)
    assert sorted(i for b in sent for i in b) == list(range(30))
    assert max(len(b) for b in sent) <= 8 and len(sent) < 30


def test_a_window_gathers_items_into_one_batch_and_a_full_batch_leaves_without_waiting_it_out() -> None:
    def run(window: float, max_batch: int, n: int, gap: float) -> list[list[int]]:
        sent: list[list[int]] = []

        def send(items: list[int]) -> list[int]:
            sent.append(list(items))
            return items

        gc: AsyncGroupCommitter[int, int] = AsyncGroupCommitter(send, max_batch=max_batch, window=window)

        async def main() -> None:
            tasks = []
            for i in range(n):
                tasks.append(asyncio.create_task(gc.submit(i)))
                await asyncio.sleep(gap)
            assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == list(range(n))

        asyncio.run(main())
        return sent

    # items 10 ms apart: without a window the first goes alone, at once; a 1 s window gathers all
    assert run(0.0, 500, 6, 0.01)[0] == [0]
    assert run(1.0, 500, 6, 0.01) == [[0, 1, 2, 3, 4, 5]]
    # a batch that fills does not wait for the window (60 s; the wait above is bounded at 30 s)
    assert run(60.0, 3, 6, 0.0) == [[0, 1, 2], [3, 4, 5]]
