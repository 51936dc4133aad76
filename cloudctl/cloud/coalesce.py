"""Group commit for creates: same-kind creates from concurrent department workers go out as one
bulk request.

No timer thread and no fixed batch window: the first caller of a kind sends at once; callers that
arrive while that request is in flight queue up, and the next leader (the oldest waiting caller)
sends everything queued as one request. Under load the batches grow by themselves; alone, a
caller waits for nothing. A failed bulk request fails every item in it with the same error (the
caller decides how to recover: Neutron's bulk creates are atomic, so nothing of a batch that got
a definite error exists).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Item:
    body: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    result: Any = None
    error: BaseException | None = None


class Coalescer:
    """submit(kind, body) -> the created object; send(kind, bodies) -> objects in the same order."""

    def __init__(self, send: Callable[[str, list[dict[str, Any]]], list[Any]], *, max_batch: int = 50) -> None:
        self._send = send
        self.max_batch = max(1, max_batch)
        self._lock = threading.Lock()
        self._queues: dict[str, list[_Item]] = {}
        self._busy: set[str] = set()
        self.requests = 0  # bulk requests sent
        self.items = 0  # items sent in them

    def submit(self, kind: str, body: dict[str, Any]) -> Any:
        item = _Item(body)
        with self._lock:
            queue = self._queues.setdefault(kind, [])
            queue.append(item)
            if kind not in self._busy:
                self._busy.add(kind)
                item.lead = True
        while not item.finished:
            if item.lead:
                self._lead(kind, queue)
            else:
                item.done.wait()
                item.done.clear()
        if item.error is not None:
            raise item.error
        return item.result

    def _lead(self, kind: str, queue: list[_Item]) -> None:
        with self._lock:
            batch = queue[: self.max_batch]
            del queue[: self.max_batch]
            self.requests += 1
            self.items += len(batch)
        try:
            results = self._send(kind, [i.body for i in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"bulk create of {kind}: {len(results)} answers for {len(batch)} items")
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
