"""Requests in a real store (SQLite and PostgreSQL): votes, decisions, withdrawal, sweep, appliers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudctl.action import Context
from cloudctl.approvals import (
    cast_vote,
    create_request,
    delegate_votes,
    events_of,
    replay,
    set_policy,
    show_request,
    sweep,
    withdraw,
)
from cloudctl.approvals.appliers import apply_approved, apply_request
from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.store import Store

from .conftest import POLICY

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def A(name: str) -> Actor:
    return Actor(name, "pytest")


@pytest.fixture
def st(store: Store) -> Store:
    with store.begin() as conn:
        set_policy(conn, POLICY, A("admin"))
    return store


def _new(store: Store, payload: dict | None = None, kind: str = "quota-increase", now: datetime = T0,
         requester: str = "alice", **where: str) -> int:
    with store.begin() as conn:
        return create_request(conn, A(requester), kind=kind, payload={"vcpus": 16} if payload is None else payload,
                              policy="standard", now=now, **where)["id"]


def _vote(store: Store, who: str, rid: int, decision: str = "approve", reason: str | None = None,
          now: datetime | None = None) -> dict:
    with store.begin() as conn:
        return cast_vote(conn, A(who), rid, decision, reason, now)


def test_parallel_approval_to_one_decision(st: Store) -> None:
    rid = _new(st)
    for who in ("fin-a", "sec-b", "net-a"):
        assert _vote(st, who, rid)["status"] == "pending"
    assert _vote(st, "fin-c", rid, reason="fine")["status"] == "approved"
    with pytest.raises(ConflictError, match="already approved"):
        _vote(st, "fin-b", rid, "reject", "too late")
    with st.connect() as conn:
        req = show_request(conn, rid)
        events = events_of(conn, rid)
        assert verify_chain(conn).ok
    assert req["status"] == "approved" and all(g["holds"] for g in req["groups"])
    assert [(x["reviewer"], x["reason"]) for x in req["votes"]][-1] == ("fin-c", "fine")
    assert replay(events).status == "approved" and replay(events).problems == []
    assert [e["kind"] for e in events].count("decided") == 1


def test_rejection_and_its_reason(st: Store) -> None:
    rid = _new(st)
    _vote(st, "fin-a", rid)
    with pytest.raises(InputError, match="needs a reason"):
        _vote(st, "sec-a", rid, "reject")
    out = _vote(st, "sec-a", rid, "reject", "no budget this year")
    assert out["status"] == "rejected" and out["reason"] == "rejected by sec-a: no budget this year"
    with pytest.raises(ConflictError, match="not a reviewer"):
        _vote(st, "mallory", _new(st))


def test_withdrawal_only_by_the_requester(st: Store) -> None:
    rid = _new(st)
    with st.begin() as conn, pytest.raises(ConflictError, match="only the requester"):
        withdraw(conn, A("fin-a"), rid)
    with st.begin() as conn:
        assert withdraw(conn, A("alice"), rid, "not needed")["status"] == "withdrawn"
    with pytest.raises(ConflictError, match="withdrawn"):
        _vote(st, "fin-a", rid)
    with st.connect() as conn:
        assert replay(events_of(conn, rid)).status == "withdrawn"


def test_delegation_for_a_period(st: Store) -> None:
    rid = _new(st)
    with st.begin() as conn:
        delegate_votes(conn, A("fin-a"), "deputy", T0, T0 + timedelta(days=1))
    out = _vote(st, "deputy", rid, now=T0 + timedelta(hours=1))
    assert out["for"] == ["fin-a"]
    with pytest.raises(ConflictError, match="already voted"):
        _vote(st, "fin-a", rid)
    # after the period the delegate votes for nobody
    with pytest.raises(ConflictError, match="not a reviewer"):
        _vote(st, "deputy", _new(st), now=T0 + timedelta(days=2))
    with st.connect() as conn:
        votes = show_request(conn, rid)["votes"]
    assert (votes[0]["reviewer"], votes[0]["cast_by"]) == ("fin-a", "deputy")


def test_sweep_escalates_once_and_is_idempotent(st: Store) -> None:
    rid = _new(st)
    late = T0 + timedelta(hours=49)
    with st.begin() as conn:
        assert sweep(conn, A("cron"), T0 + timedelta(hours=47))["escalated"] == []
    with st.begin() as conn:
        assert sweep(conn, A("cron"), late)["escalated"] == [rid]
    with st.connect() as conn:
        n = len(list_entries(conn, limit=None))
    with st.begin() as conn:
        assert sweep(conn, A("cron"), late + timedelta(hours=1))["escalated"] == []
    with st.connect() as conn:
        assert len(list_entries(conn, limit=None)) == n  # nothing changed, nothing recorded
    assert _vote(st, "cio", rid, reason="urgent")["status"] == "approved"
    with st.connect() as conn:
        assert replay(events_of(conn, rid)).status == "approved"


def test_auto_approval_inside_the_tier(st: Store) -> None:
    rid = _new(st, {"vcpus": 2, "ram": 4096})
    with st.connect() as conn:
        req = show_request(conn, rid)
        assert replay(events_of(conn, rid)).problems == []
    assert req["status"] == "approved" and "auto-approved" in req["decision_reason"]
    # every size field is stored, so what the tier judged can be read back
    assert req["payload"]["instances"] == 0 and req["payload"]["vcpus"] == 2


def test_auto_approval_fails_closed(st: Store) -> None:
    """The README's policy must not approve 500 instances because it only names vcpus and ram."""
    big = _new(st, {"instances": 500, "gigabytes": 100000})
    with st.connect() as conn:
        assert show_request(conn, big)["status"] == "pending"
    for payload, field in (({"vcpus": -100}, "payload.vcpus"), ({}, "payload"), ({"cpus": 1}, "payload.cpus"),
                           ({"vcpus": True}, "payload.vcpus")):
        with pytest.raises(InputError) as e:
            _new(st, payload)
        assert e.value.field == field
    with pytest.raises(InputError, match="unknown request kind"):
        _new(st, {"n": 1}, kind="anything")


def test_targets_must_exist_when_filed(st: Store) -> None:
    with pytest.raises(NotFoundError, match="no active department 'nosuchdept'"):
        _new(st, dept="nosuchdept")
    with pytest.raises(NotFoundError, match="no division with code '99'"):
        _new(st, region="99")
    with st.connect() as conn:
        assert not conn.exec_driver_sql("SELECT count(*) FROM approval_request").scalar()


def test_four_eyes_in_the_store(st: Store) -> None:
    rid = _new(st, requester="fin-c")
    with pytest.raises(ConflictError, match="may not vote on it"):
        _vote(st, "fin-c", rid)
    with st.begin() as conn:
        delegate_votes(conn, A("fin-a"), "fin-b", T0, T0 + timedelta(days=1))
    out = _vote(st, "fin-b", rid, now=T0 + timedelta(hours=1))
    assert sorted(out["for"]) == ["fin-a", "fin-b"]
    for who in ("sec-a", "net-a"):
        _vote(st, who, rid)
    with st.connect() as conn:
        req = show_request(conn, rid)
    finance = next(g for g in req["groups"] if g["group"] == "finance")
    # fin-a and fin-b approved, but one person cast both: quorum:2 does not hold, fin-c may not vote
    assert req["status"] == "pending" and not finance["holds"]
    # a requester who is all of a group cannot file under that policy
    with st.begin() as conn:
        set_policy(conn, {"name": "solo", "groups": [{"name": "net", "members": ["net-a"], "rule": "any"}]},
                   A("admin"))
    with st.begin() as conn, pytest.raises(InputError, match="could never approve it"):
        create_request(conn, A("net-a"), kind="quota-increase", payload={"vcpus": 1}, policy="solo")


def _context(store: Store) -> Context:
    return Context(store=store, actor=A("cron"), cloud=lambda: "the-cloud")


def test_appliers_are_passed_in_and_get_the_cloud(st: Store) -> None:
    calls: list[tuple[int, str]] = []

    def apply_quota(store: Store, request: dict, cloud: str) -> dict:
        calls.append((request["id"], cloud))
        if request["payload"]["vcpus"] == 13:
            raise RuntimeError("cloud said no")
        return {"done": request["payload"]["vcpus"]}

    ok = _new(st, {"vcpus": 12})
    bad = _new(st, {"vcpus": 13})
    for rid in (ok, bad):
        for who in ("fin-a", "fin-b", "sec-a", "net-a"):
            _vote(st, who, rid)
    results = {r["id"]: r for r in apply_approved(_context(st), {"quota-increase": apply_quota})}
    assert results[ok]["apply_status"] == "ok" and results[ok]["result"] == {"done": 12}
    assert results[bad]["apply_status"] == "failed" and "cloud said no" in results[bad]["result"]["error"]
    assert apply_approved(_context(st), {"quota-increase": apply_quota}) == []  # applied once only
    assert sorted(calls) == sorted([(ok, "the-cloud"), (bad, "the-cloud")])


def test_an_approved_kind_without_applier_fails_out_loud(st: Store) -> None:
    rid = _new(st, {"vcpus": 2})  # auto-approved
    out = apply_request(_context(st), {}, rid)
    assert out is not None and out["apply_status"] == "failed"
    assert "no applier for request kind 'quota-increase'" in out["result"]["error"]
