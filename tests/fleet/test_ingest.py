"""Batched heartbeat ingest (cloudctl/api/ingest.py) on SQLite and PostgreSQL: a batch answers
each heartbeat on its own (accepted, duplicate, refused) in one transaction; refusals touch
nothing; same-agent and same-link heartbeats fold in arrival order; state changes are audited
with a valid chain; two ingests (two replicas) on one PostgreSQL lose nothing and never deadlock."""

from __future__ import annotations

import asyncio
import random
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from cloudctl.api.heartbeats import HeartbeatIngest, make_heartbeat
from cloudctl.api.ingest import CredentialRejected, HeartbeatOutcome, apply_heartbeats
from cloudctl.api.registry import create_enrolment, exchange_token, revoke_agent
from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.errors import PermissionDenied
from cloudctl.store import Store, open_store
from cloudctl.store.tables.agents import agent, link_status
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

OP = Actor("op", "pytest")
TOWNS = ["110101001", "110101002", "110101003"]


def seed(store: Store, links_per_town: int = 3) -> None:
    with store.begin() as conn:
        conn.execute(insert(division), [
            {"code": "11", "name": "北京市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1101", "name": "市辖区", "level": 2, "parent_code": "11", "kind": "placeholder"},
            {"code": "110101", "name": "东城区", "level": 3, "parent_code": "1101", "kind": "district"},
            *[{"code": t, "name": f"街道{i}", "level": 4, "parent_code": "110101", "kind": "subdistrict"}
              for i, t in enumerate(TOWNS)]])
        conn.execute(insert(link), [
            {"link_id": f"L{t[-1]}-{k}", "division_code": t, "link_type": "fiber", "bandwidth_mbps": 100,
             "activated_on": date(2020, 1, 1)} for t in TOWNS for k in range(links_per_town)])


def enrol(store: Store, town: str) -> tuple[str, str]:
    who, credential = exchange_token(store, create_enrolment(store, OP, town, "access").token)
    return who.agent_id, credential


def beat(agent_id: str, credential: str | None, seq: int, ups: dict[str, bool], at: float = 1000.0):  # type: ignore[no-untyped-def]
    results = [{"link_id": k, "up": u, "loss_ratio": 0.0 if u else 1.0, "rtt_avg_s": 0.01 if u else None}
               for k, u in ups.items()]
    return make_heartbeat(agent_id, seq, results, credential=credential, sent_at=at, now=at + 0.5)


def agent_rows(store: Store) -> dict[str, tuple[int, int]]:
    with store.connect() as conn:
        return {r.agent_id: (int(r.last_seq), int(r.heartbeats))
                for r in conn.execute(select(agent.c.agent_id, agent.c.last_seq, agent.c.heartbeats))}


def status(store: Store) -> dict[str, tuple[int, float, float]]:
    with store.connect() as conn:
        return {r.link_id: (int(r.up), float(r.checked_ts), float(r.changed_ts)) for r in conn.execute(
            select(link_status.c.link_id, link_status.c.up, link_status.c.checked_ts, link_status.c.changed_ts))}


def link_state_entries(store: Store) -> list[dict]:  # type: ignore[type-arg]
    with store.connect() as conn:
        return [e for e in list_entries(conn, limit=None) if e["action"] == "link_state"]


def test_one_batch_answers_each_heartbeat_and_refusals_touch_nothing(store: Store) -> None:
    seed(store)
    a, ca = enrol(store, TOWNS[0])
    b, cb = enrol(store, TOWNS[1])
    c, cc = enrol(store, TOWNS[2])
    revoke_agent(store, OP, c)
    batch = [
        beat(a, ca, 1, {"L1-0": True, "L1-1": True}),            # new links: accepted, 2 changes
        beat(b, "ccagent." + b + ".forged", 1, {"L2-0": True}),  # wrong credential
        beat(b, cb, 1, {"L2-0": True, "L1-2": True}),             # a link of another division
        beat(c, cc, 1, {"L3-0": True}),                           # revoked agent
        beat(a, ca, 1, {"L1-0": False}),                          # seq already applied in this batch
        beat(a, ca, 2, {"L1-0": False, "L1-1": True}, at=1010.0),  # next seq: L1-0 goes down
        beat(b, cb, 3, {"L2-1": False}),                          # b's first accepted (seq may skip)
    ]
    with store.begin() as conn:
        answers = apply_heartbeats(conn, batch)
    assert answers[0] == HeartbeatOutcome(True, False, 2, 2, 1)
    assert isinstance(answers[1], CredentialRejected)
    assert isinstance(answers[2], PermissionDenied) and "L1-2" in answers[2].message
    assert isinstance(answers[3], CredentialRejected)
    assert answers[4] == HeartbeatOutcome(False, True, 0, 0, 1)
    assert answers[5] == HeartbeatOutcome(True, False, 2, 1, 2)
    assert answers[6] == HeartbeatOutcome(True, False, 1, 1, 3)
    rows = agent_rows(store)
    assert rows[a] == (2, 2) and rows[b] == (3, 1) and rows[c] == (0, 0)
    assert status(store) == {"L1-0": (0, 1010.0, 1010.0), "L1-1": (1, 1010.0, 1000.0), "L2-1": (0, 1000.0, 1000.0)}
    entries = link_state_entries(store)  # one record per heartbeat that changed something, in order
    assert [(e["object_id"], e["after"]) for e in reversed(entries)] == [
        (a, '{"up": {"L1-0": 1, "L1-1": 1}}'), (a, '{"up": {"L1-0": 0}}'), (b, '{"up": {"L2-1": 0}}')]
    with store.connect() as conn:
        assert verify_chain(conn).ok


def test_an_older_result_replayed_later_never_overrides_a_newer_one(store: Store) -> None:
    seed(store)
    a, ca = enrol(store, TOWNS[0])
    with store.begin() as conn:
        apply_heartbeats(conn, [beat(a, ca, 2, {"L1-0": False}, at=2000.0)])
    with store.begin() as conn:  # seq 3 was probed before seq 2 was (a clock step back): telemetry kept
        [answer] = apply_heartbeats(conn, [beat(a, ca, 3, {"L1-0": True}, at=1500.0)])
    assert answer == HeartbeatOutcome(True, False, 0, 0, 3)
    assert status(store)["L1-0"] == (0, 2000.0, 2000.0)
    assert agent_rows(store)[a] == (3, 2)


def test_many_agents_through_the_async_ingest_in_fewer_transactions(store: Store) -> None:
    seed(store)
    agents = [enrol(store, TOWNS[i % 3]) for i in range(12)]
    rng = random.Random(7)
    plan = [(i, seq, {f"L{TOWNS[i % 3][-1]}-{k}": rng.random() < 0.7 for k in range(rng.randint(1, 3))})
            for seq in range(1, 11) for i in range(len(agents))]
    ingest = HeartbeatIngest(store, max_batch=50)

    async def run() -> list[HeartbeatOutcome]:
        tasks = []
        for i, seq, ups in plan:
            agent_id, credential = agents[i]
            tasks.append(asyncio.create_task(ingest.submit(beat(agent_id, credential, seq, ups, at=1000.0 + seq))))
            if len(tasks) % 20 == 0:
                await asyncio.sleep(0)
        return await asyncio.gather(*tasks)

    outcomes = asyncio.run(run())
    assert all(o.accepted for o in outcomes)
    assert ingest.committer.items == len(plan) and ingest.committer.batches < len(plan) / 5
    rows = agent_rows(store)
    assert all(rows[agent_id] == (10, 10) for agent_id, _ in agents)
    assert len(link_state_entries(store)) == sum(1 for o in outcomes if o.links_changed)
    with store.connect() as conn:
        assert verify_chain(conn).ok


@pytest.mark.postgres
def test_two_replicas_ingesting_the_same_agents_lose_nothing_and_never_deadlock(pg_url: str) -> None:
    first, second = open_store(pg_url), open_store(pg_url, migrate=False)
    seed(first)
    agents = [enrol(first, TOWNS[i % 3]) for i in range(30)]
    replicas = [HeartbeatIngest(first, max_batch=40), HeartbeatIngest(second, max_batch=40)]
    rounds = 8

    def run_replica(k: int) -> list[HeartbeatOutcome]:
        async def run() -> list[HeartbeatOutcome]:
            rng = random.Random(k)
            tasks = []
            for seq in range(1, rounds + 1):
                # every agent's heartbeat goes to both replicas (an agent retrying through the other one)
                for agent_id, credential in rng.sample(agents, len(agents)):
                    i = agents.index((agent_id, credential))
                    ups = {f"L{TOWNS[i % 3][-1]}-{j}": rng.random() < 0.5 for j in range(3)}
                    tasks.append(asyncio.create_task(replicas[k].submit(beat(agent_id, credential, seq, ups,
                                                                             at=1000.0 + seq))))
                await asyncio.sleep(0.001)
            return await asyncio.gather(*tasks)
        return asyncio.run(run())

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run_replica, [0, 1]))
    try:
        rows = agent_rows(first)
        # each (agent, seq) was applied exactly once, by one replica or the other
        assert all(rows[a] == (rounds, rounds) for a, _ in agents), rows
        accepted = sum(o.accepted for r in results for o in r)
        duplicates = sum(o.duplicate for r in results for o in r)
        assert accepted == len(agents) * rounds and accepted + duplicates == 2 * len(agents) * rounds
        with first.connect() as conn:
            assert verify_chain(conn).ok
            n = conn.execute(select(func.count()).select_from(link_status)).scalar_one()
        assert n == 9
        assert len(link_state_entries(first)) == sum(1 for r in results for o in r if o.links_changed)
    finally:
        first.dispose()
        second.dispose()
