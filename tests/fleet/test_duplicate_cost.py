"""A heartbeat answered `duplicate` costs the rate limiter a fifth of a token (api/limits.py
DUPLICATE_COST): a replaying agent's duplicates do not eat the budget of its new heartbeats, and
a stream of duplicates is still stopped, at five times the budget. The same through the fast path
and through the FastAPI route."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.limits import DUPLICATE_COST, RateLimiter
from cloudctl.store import open_store

from .test_ingest import TOWNS, enrol, seed


def test_a_duplicate_costs_a_fraction_of_a_token() -> None:
    now = [0.0]
    limiter = RateLimiter(1.0, 10, clock=lambda: now[0])
    limiter.charge("a")
    limiter.charge("a", DUPLICATE_COST)
    limiter.charge("b")
    limiter.charge("b")
    tokens = {k: v[0] for k, v in limiter._buckets.items()}
    assert tokens == pytest.approx({"a": 10 - 1 - DUPLICATE_COST, "b": 8.0})
    for _ in range(100):  # a stream of duplicates runs the bucket dry all the same
        limiter.charge("a", DUPLICATE_COST)
    assert limiter.peek("a")[0] is False
    assert limiter._buckets["a"][0] == -10.0  # in debt down to -burst, waited out at the rate


@pytest.mark.parametrize("fast", [True, False])
def test_duplicates_are_cheaper_than_new_heartbeats_and_still_bounded(fast: bool, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'dup.db'}")
    seed(store)
    agent_id, credential = enrol(store, TOWNS[0])
    burst = 4
    app = create_app(store, ApiSettings(heartbeat_fast_path=fast, process_metrics=False, rate_per_second=0.001,
                                        rate_burst=burst))
    auth = {"Authorization": f"Bearer {credential}"}

    def send(client: TestClient, seq: int) -> int:
        body = {"seq": seq, "results": [{"name": "p", "kind": "tcp", "target": "t", "link_id": "L1-0", "up": True}]}
        return client.post(f"/v1/agents/{agent_id}/heartbeats", json=body, headers=auth).status_code

    with TestClient(app) as client:
        assert [send(client, s) for s in (1, 2)] == [200, 200]  # two tokens of four
        replays = [send(client, 1) for _ in range(40)]  # answered duplicate while a token is there
        after = send(client, 3)
    # the two tokens left carry about 2 / 0.2 duplicates (each one peeks for a whole token first)
    passed = replays.index(429)
    assert (burst - 2 - 1) / DUPLICATE_COST <= passed <= (burst - 2) / DUPLICATE_COST + 1
    assert set(replays[passed:]) == {429}  # and then the stream is stopped
    assert after == 429  # its debt is the agent's: new heartbeats wait too
    store.dispose()
