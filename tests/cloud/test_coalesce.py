"""Group commit of creates (pure logic: the send function is a plain function with a lock)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cloudctl.group_commit import GroupCommitter


class SlowServer:
    """One request at a time, like a single API worker; records the batch sizes it received."""

    def __init__(self, seconds: float = 0.05, fail_when: str | None = None) -> None:
        self.seconds = seconds
        self.fail_when = fail_when
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()

    def send(self, kind: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            time.sleep(self.seconds)
            self.batches.append([b["name"] for b in bodies])
            if self.fail_when and any(b["name"] == self.fail_when for b in bodies):
                raise ValueError(f"bad item {self.fail_when}")
            return [{"id": f"{kind}-{b['name']}", **b} for b in bodies]


def test_alone_a_create_goes_at_once_as_a_batch_of_one() -> None:
    server = SlowServer(0.0)
    c = GroupCommitter(server.send)
    assert c.submit("network", {"name": "a"})["id"] == "network-a"
    assert server.batches == [["a"]]


def test_concurrent_creates_share_requests_and_each_gets_its_own_answer() -> None:
    server = SlowServer(0.05)
    c = GroupCommitter(server.send, max_batch=50)
    names = [f"n{i}" for i in range(40)]
    with ThreadPoolExecutor(40) as pool:
        got = list(pool.map(lambda n: c.submit("network", {"name": n}), names))
    assert [g["id"] for g in got] == [f"network-{n}" for n in names]
    assert sorted(n for b in server.batches for n in b) == sorted(names)  # each exactly once
    assert len(server.batches) < 10 and c.batches == len(server.batches) and c.items == 40


def test_batches_respect_max_and_kinds_do_not_mix() -> None:
    server = SlowServer(0.05)
    c = GroupCommitter(server.send, max_batch=4)
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda i: c.submit("subnet" if i % 2 else "router", {"name": f"{i}"}), range(20)))
    assert max(len(b) for b in server.batches) <= 4
    for batch in server.batches:
        assert len({int(n) % 2 for n in batch}) == 1


def test_a_failed_batch_fails_each_of_its_items_and_later_batches_still_run() -> None:
    server = SlowServer(0.05, fail_when="bad")
    c = GroupCommitter(server.send)
    errors: dict[str, str] = {}

    def go(name: str) -> None:
        try:
            c.submit("network", {"name": name})
        except ValueError as e:
            errors[name] = str(e)

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(go, ["bad", *[f"n{i}" for i in range(9)]]))
    failed_batch = next(b for b in server.batches if "bad" in b)
    assert set(errors) == set(failed_batch)
    assert all(e == "bad item bad" for e in errors.values())
    with pytest.raises(ValueError):
        c.submit("network", {"name": "bad"})
    assert c.submit("network", {"name": "ok"})["id"] == "network-ok"
