"""Approvers vote over HTTP with their own API token; the power list decides, and the votes
land in the one approval engine exactly as `cloudctl request approve/reject` would cast them."""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy import text

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.operators import create_operator_token
from cloudctl.approvals import create_request, set_policy, show_request
from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.power.roles import create_role, grant_role

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN = Actor("admin", "pytest")
POLICY = {"name": "two-keys", "deadline": "48h",
          "groups": [{"name": "owners", "members": ["alice", "bob", "carol"], "rule": "all"}]}


def _setup(store: Any) -> int:
    with store.begin() as conn:
        create_role(conn, "approver", ["request.approve", "request.reject"], ADMIN)
        grant_role(conn, "approver", "alice", ADMIN)
        grant_role(conn, "approver", "bob", ADMIN)  # carol is a listed reviewer without the permission
        set_policy(conn, POLICY, ADMIN)
        return int(create_request(conn, Actor("dave"), kind="quota-increase", payload={"vcpus": 8},
                                  policy="two-keys")["id"])


def _token(store: Any, who: str) -> dict[str, str]:
    token, _ = create_operator_token(store, Actor(who, "pytest"))
    return {"Authorization": f"Bearer {token}"}


def test_votes_over_http_follow_the_power_list(store) -> None:  # type: ignore[no-untyped-def]
    rid = _setup(store)
    client = TestClient(create_app(store, ApiSettings(process_metrics=False)))
    url = f"/v1/approvals/{rid}"
    assert client.post(f"{url}/approve", json={}).status_code == 401
    assert client.post(f"{url}/approve", json={}, headers={"Authorization": "Bearer ccop.opt-1.x"}).status_code == 401

    alice = client.post(f"{url}/approve", json={"reason": "sized right"}, headers=_token(store, "alice"))
    assert alice.status_code == 200 and alice.json()["status"] == "pending", alice.text
    carol = client.post(f"{url}/approve", json={}, headers=_token(store, "carol"))
    assert carol.status_code == 403  # reviewer, but the power list does not grant request.approve
    bob_token = _token(store, "bob")
    no_reason = client.post(f"{url}/reject", json={}, headers=bob_token)
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    bob = client.post(f"{url}/reject", json={"reason": "no budget"}, headers=bob_token)
    assert bob.status_code == 200 and bob.json()["status"] == "rejected"
    again = client.post(f"{url}/approve", json={}, headers=_token(store, "alice"))
    assert again.status_code == 409
    assert client.post("/v1/approvals/999/approve", json={}, headers=bob_token).status_code == 404

    with store.connect() as conn:
        req = show_request(conn, rid)
        entries = list_entries(conn, limit=None)
        tokens = conn.execute(text("SELECT token_hash FROM api_token")).scalars().all()
        assert verify_chain(conn).ok
    assert req["status"] == "rejected" and {v["reviewer"] for v in req["votes"]} == {"alice", "bob"}
    votes = [e for e in entries if e["action"].startswith("request.") and e["action"] != "request.create"]
    assert {(e["actor"], e["action"]) for e in votes} == {("alice", "request.approve"), ("bob", "request.reject")}
    assert votes[0]["command"].startswith("POST /v1/approvals/")
    assert any(e["actor"] == "carol" and "deny" in (e["after"] or "") for e in entries)  # the power decision
    assert all(len(h) == 64 for h in tokens)
    assert not any(bob_token["Authorization"].split()[1] in str(e.values()) for e in entries)


def test_revoked_or_expired_operator_tokens_are_refused(sqlite_store) -> None:  # type: ignore[no-untyped-def]
    rid = _setup(sqlite_store)
    client = TestClient(create_app(sqlite_store, ApiSettings(process_metrics=False)))
    headers = _token(sqlite_store, "alice")
    with sqlite_store.begin() as conn:
        conn.execute(text("UPDATE api_token SET expires_at = '2000-01-01T00:00:00+00:00'"))
    assert client.post(f"/v1/approvals/{rid}/approve", json={}, headers=headers).status_code == 401
    headers = _token(sqlite_store, "alice")
    with sqlite_store.begin() as conn:
        conn.execute(text("UPDATE api_token SET revoked_at = 'now' WHERE expires_at > '2001'"))
    assert client.post(f"/v1/approvals/{rid}/approve", json={}, headers=headers).status_code == 401
