"""Group commit: items handed in by many threads go out together, each caller waiting for its own
answer. Used for Neutron bulk creates of concurrent departments (cloud/openstack_apply.py) and
for the audit records of concurrent heartbeats (api/heartbeats.py: on PostgreSQL every audit append
locks the chain's head row until commit; a batch takes that lock once).

No timer thread and no fixed batch window: the first caller of a kind sends at once; callers that
arrive while that batch is in flight queue up, and the next leader (the oldest waiting caller)
sends everything queued as one batch (at most `max_batch`). Under load the batches grow by
themselves; alone, a caller waits for nothing. A failed send fails every item of its batch with
the same error (the send is atomic: one bulk request or one transaction, so nothing of a batch
that got a definite error exists); the caller decides how to recover.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Item:
    body: Any
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommitter(Generic[T, R]):
    """submit(kind, item) -> its answer; send(kind, items) -> answers in the same order."""

    def __init__(self, send: Callable[[str, list[T]], Sequence[R]], *, max_batch: int = 50) -> None:
        self._send = send
        self.max_batch = max(1, max_batch)
        self._lock = threading.Lock()
        self._queues: dict[str, list[_Item]] = {}
        self._busy: set[str] = set()
        self.batches = 0  # sends made
        self.items = 0  # items sent in them

    def submit(self, kind: str, item: T) -> R:
        """Send `item` with whatever else of its kind is waiting; returns its answer once sent, or raises."""
        me = _Item(item)
        with self._lock:
            queue = self._queues.setdefault(kind, [])
            queue.append(me)
            if kind not in self._busy:
                self._busy.add(kind)
                me.lead = True
        while not me.finished:
            if me.lead:
                self._lead(kind, queue)
            else:
                me.done.wait()
                me.done.clear()
        if me.error is not None:
            raise me.error
        return me.result  # type: ignore[no-any-return]

    def _lead(self, kind: str, queue: list[_Item]) -> None:
        with self._lock:
            batch = queue[: self.max_batch]
            del queue[: self.max_batch]
            self.batches += 1
            self.items += len(batch)
        try:
            results = self._send(kind, [i.body for i in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"group commit of {kind}: {len(results)} answers for {len(batch)} items")
            for i, r in zip(batch, results, strict=True):
                i.result = r
        except BaseException as e:  # handed to every waiting caller
            for i in batch:
                i.error = e
        with self._lock:
            nxt = queue[0] if queue else None
            if nxt is None:
                self._busy.discard(kind)
            else:
                nxt.lead = True
        for i in batch:
            i.lead = False
            i.finished = True
            i.done.set()
        if nxt is not None:
            nxt.done.set()


class Overloaded(Exception):
    """More items are waiting than the committer accepts: the caller should answer 'retry later'."""


class AsyncGroupCommitter(Generic[T, R]):
    """The same group commit for coroutines of one event loop (the API's heartbeat ingest).

    `await submit(item)` -> its answer. At most `in_flight` batches are being sent at a time,
    each by `send` in a worker thread (it blocks on the database) while the loop keeps parsing
    requests, which queue for the next batch. With one in flight a caller waits for at most the
    batch in flight plus its own; with two, the next batch is written while the previous one
    waits for its commit (its WAL flush), which hides that wait. A batch holds at most
    `max_batch` items, so latency is bounded by about two batch transactions as long as the
    queue stays under `max_queue`; beyond it `submit` raises Overloaded at once (the API answers
    503 and agents spool) instead of letting every caller's wait grow without bound.
    `send` answers per item; an exception it raises fails the whole batch (one transaction).

    `window` (seconds, default 0): a batch leaves once its oldest item has waited that long, or
    once it is full, not before. Each batch has a fixed cost, so a stream of lone items costs
    several times a batch's worth; the window bounds what gathering them adds to an item's wait
    (under load, when the previous batch took longer than the window, nothing is added).
    """

    def __init__(self, send: Callable[[list[T]], Sequence[R]], *, max_batch: int = 500,
                 max_queue: int = 20_000, in_flight: int = 1, window: float = 0.0) -> None:
        self._send = send
        self.max_batch, self.max_queue, self.in_flight = max(1, max_batch), max(1, max_queue), max(1, in_flight)
        self.window = max(0.0, window)
        self._queue: list[tuple[T, Any, float]] = []
        self._gathering: list[Any] = []  # futures of senders waiting out the window
        self._drainers: set[Any] = set()
        self._senders = 0
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        import asyncio

        if len(self._queue) >= self.max_queue:
            raise Overloaded(f"{len(self._queue)} items waiting")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((item, future, loop.time()))
        if self._senders < self.in_flight:
            self._senders += 1
            task = loop.create_task(self._drain())
            self._drainers.add(task)  # a reference, so the running task is not collected
            task.add_done_callback(self._drainers.discard)
        if len(self._queue) >= self.max_batch:
            for waiting in self._gathering:  # a full batch does not wait out the window
                if not waiting.done():
                    waiting.set_result(None)
        return await future  # type: ignore[no-any-return]

    async def _gather(self) -> None:
        """Wait until the oldest queued item has waited `window`, or a batch is full."""
        import asyncio

        loop = asyncio.get_running_loop()
        wait = self._queue[0][2] + self.window - loop.time()
        if wait <= 0 or len(self._queue) >= self.max_batch:
            return
        waiting = loop.create_future()
        timer = loop.call_later(wait, lambda: waiting.done() or waiting.set_result(None))
        self._gathering.append(waiting)
        try:
            await waiting
        finally:
            timer.cancel()
            self._gathering.remove(waiting)

    async def _drain(self) -> None:
        import anyio.to_thread

        try:
            while self._queue:
                if self.window:
                    await self._gather()
                    if not self._queue:  # another sender took them
                        break
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                self.batches += 1
                self.items += len(batch)
                try:
                    results = await anyio.to_thread.run_sync(self._send, [body for body, _, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"group commit: {len(results)} answers for {len(batch)} items")
                except Exception as e:  # the batch's one transaction failed: every item with it
                    for _, future, _ in batch:
                        if not future.done():
                            future.set_exception(e)
                    continue
                for (_, future, _), result in zip(batch, results, strict=True):
                    if not future.done():  # its caller may have gone (client disconnected)
                        future.set_result(result)
        finally:
            self._senders -= 1
