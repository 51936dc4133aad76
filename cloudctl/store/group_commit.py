"""Group commit: items from many threads written together, each caller waiting for its own.

A caller hands in an item and blocks until it is written. Whoever finds no flush in progress
becomes the leader: it takes every waiting item (up to `max_batch`) and calls `flush(items)`
once — typically one transaction — then the next leader takes what arrived meanwhile. If the
flush raises, every caller of that batch gets the exception (the flush is one transaction:
nothing of the batch was written). The API uses it for the audit records of heartbeats: on
PostgreSQL every audit append locks the chain's head row until commit, so 1,000 agents' first
reports queued behind one another for seconds; a batch takes the lock once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Waiting(Generic[T]):
    item: T
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommitter(Generic[T]):
    """Write items from many threads with one `flush` per batch (see the module doc)."""

    def __init__(self, flush: Callable[[Sequence[T]], None], max_batch: int = 500) -> None:
        self.flush = flush
        self.max_batch = max_batch
        self._cv = threading.Condition()
        self._queue: list[_Waiting[T]] = []
        self._leading = False
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> None:
        """Write `item` with whatever else is waiting; returns once it is written, or raises."""
        me = _Waiting(item)
        with self._cv:
            self._queue.append(me)
        while not me.done.is_set():
            with self._cv:
                if me.done.is_set():
                    break
                if self._leading:
                    self._cv.wait(timeout=0.5)
                    continue
                self._leading = True
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            try:
                self._flush(batch)
            finally:
                with self._cv:
                    self._leading = False
                    self._cv.notify_all()
        if me.error is not None:
            raise me.error

    def _flush(self, batch: list[_Waiting[T]]) -> None:
        try:
            self.flush([w.item for w in batch])
        except BaseException as e:
            for w in batch:
                w.error = e
        finally:
            self.batches += 1
            self.items += len(batch)
            for w in batch:
                w.done.set()
