"""Requests in a real store (SQLite and PostgreSQL): votes, decisions, withdrawal, sweep, appliers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudctl.approvals import (
    APPLIERS,
    apply_approved,
    cast_vote,
    create_request,
    delegate_votes,
    events_of,
    register_applier,
    replay,
    set_policy,
    show_request,
    sweep,
    withdraw,
)
from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.errors import ConflictError, InputError
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


def _new(store: Store, payload: dict | None = None, kind: str = "server", now: datetime = T0) -> int:
    with store.begin() as conn:
        return create_request(conn, A("alice"), kind=kind, payload=payload or {"vcpus": 16}, policy="standard",
                              dept="health", now=now)["id"]


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
    rid = _new(st, {"vcpus": 2, "ram_mb": 4096}, kind="quota-increase")
    with st.connect() as conn:
        req = show_request(conn, rid)
        assert replay(events_of(conn, rid)).problems == []
    assert req["status"] == "approved" and "auto-approved" in req["decision_reason"]


def test_appliers_hook(st: Store) -> None:
    calls: list[int] = []

    @register_applier("test-kind")
    def _apply(store: Store, request: dict) -> dict:
        calls.append(request["id"])
        if request["payload"].get("fail"):
            raise RuntimeError("cloud said no")
        return {"done": request["payload"]["n"]}

    try:
        ok = _new(st, {"n": 1}, kind="test-kind")
        bad = _new(st, {"fail": True}, kind="test-kind")
        for rid in (ok, bad):
            for who in ("fin-a", "fin-b", "sec-a", "net-a"):
                _vote(st, who, rid)
        results = {r["id"]: r for r in apply_approved(st, A("cron"))}
        assert results[ok]["apply_status"] == "ok" and results[ok]["result"] == {"done": 1}
        assert results[bad]["apply_status"] == "failed" and "cloud said no" in results[bad]["result"]["error"]
        assert apply_approved(st, A("cron")) == []  # applied once only
        assert sorted(calls) == sorted([ok, bad])
    finally:
        APPLIERS.pop("test-kind", None)
