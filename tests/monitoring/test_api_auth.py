"""The central API's auth matrix on SQLite and PostgreSQL: enrolment tokens work once,
credentials are stored only as hashes, agents act only for themselves and their own links,
and every refused write leaves an audit record."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.registry import create_enrolment, revoke_agent
from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.errors import InputError, NotFoundError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OP = Actor("op", "pytest")


def _client(store: Any, **settings: Any) -> TestClient:
    return TestClient(create_app(store, ApiSettings(process_metrics=False, **settings)))


def _enrol(client: TestClient, store: Any, code: str = "110101001", **body: Any) -> dict[str, Any]:
    e = create_enrolment(store, OP, code, "access")
    r = client.post("/v1/agents/enrol", json={"token": e.token, **body})
    assert r.status_code == 200, r.text
    return {**r.json(), "token": e.token}


def _auth(agent: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent['credential']}"}


def _probe(link_id: str, up: bool = True) -> dict[str, Any]:
    return {"name": link_id, "kind": "tcp", "target": "10.0.0.1:443", "link_id": link_id, "up": up, "sent": 3,
            "received": 3 if up else 0, "loss_ratio": 0.0 if up else 1.0, "rtt_avg_s": 0.01 if up else None}


def _rejections(store: Any) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [e for e in list_entries(conn, limit=None) if e["action"] == "reject"]


def test_enrolment_token_works_once_and_is_never_stored(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded)
    agent = _enrol(client, seeded, hostname="ash-ap1", metrics_address="10.9.0.1:9101")
    assert agent["division"] == "110101001" and agent["credential"].startswith("ccagent.")
    again = client.post("/v1/agents/enrol", json={"token": agent["token"]})
    assert again.status_code == 403
    with seeded.connect() as conn:
        row = conn.execute(text("SELECT * FROM agent")).one()._mapping
        audit_text = " ".join(str(v) for e in list_entries(conn, limit=None) for v in e.values())
    assert row["state"] == "active" and row["enrol_token_hash"] is None
    assert len(row["credential_hash"]) == 64
    for secret in (agent["token"], agent["credential"], agent["credential"].split(".")[2]):
        assert secret not in " ".join(str(v) for v in row.values()) and secret not in audit_text
    assert [r["object_id"] for r in _rejections(seeded)] == ["POST /v1/agents/enrol"]


def test_expired_and_forged_tokens_are_refused_and_audited(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded)
    expired = create_enrolment(seeded, OP, "110101001", "access", ttl=timedelta(seconds=1))
    with seeded.begin() as conn:
        conn.execute(text("UPDATE agent SET enrol_expires_at = '2000-01-01T00:00:00+00:00'"))
    assert client.post("/v1/agents/enrol", json={"token": expired.token}).status_code == 403
    forged = expired.token[:-4] + "AAAA"
    assert client.post("/v1/agents/enrol", json={"token": forged}).status_code == 403
    assert client.post("/v1/agents/enrol", json={"token": "not-a-token"}).status_code == 403
    reasons = [r["after"] for r in _rejections(seeded)]
    assert len(reasons) == 3 and "expired" in reasons[-1]
    with seeded.connect() as conn:
        assert verify_chain(conn).ok


def test_heartbeat_auth_matrix(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded)
    ash, birch = _enrol(client, seeded, "110101001"), _enrol(client, seeded, "110101002")
    url = f"/v1/agents/{ash['agent_id']}/heartbeats"
    beat = {"seq": 1, "results": [_probe("L-ASH")]}

    assert client.post(url, json=beat).status_code == 401  # no credential
    bad = {"Authorization": f"Bearer ccagent.{ash['agent_id']}.wrong"}
    assert client.post(url, json=beat, headers=bad).status_code == 401  # wrong secret
    assert client.post(url, json=beat, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.post(url, json=beat, headers=_auth(birch)).status_code == 403  # another agent's path
    foreign = {"seq": 1, "results": [_probe("L-BIRCH")]}  # birch's link, reported by ash
    assert client.post(url, json=foreign, headers=_auth(ash)).status_code == 403
    with seeded.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM link_status")).scalar() == 0

    ok = client.post(url, json=beat, headers=_auth(ash))
    assert ok.status_code == 200 and ok.json()["links_updated"] == 1 and ok.json()["links_changed"] == 1
    rejected = _rejections(seeded)
    assert len(rejected) == 5
    assert {r["actor"] for r in rejected} >= {"anonymous@testclient", f"agent:{ash['agent_id']}",
                                               f"agent:{birch['agent_id']}"}
    # config: own only
    cfg = client.get(f"/v1/agents/{ash['agent_id']}/config", headers=_auth(ash))
    assert cfg.status_code == 200 and [lk["link_id"] for lk in cfg.json()["links"]] == ["L-ASH"]
    assert client.get(f"/v1/agents/{ash['agent_id']}/config", headers=_auth(birch)).status_code == 403
    # revoked: refused at once
    revoke_agent(seeded, OP, ash["agent_id"])
    assert client.post(url, json={"seq": 2, "results": []}, headers=_auth(ash)).status_code == 401
    with seeded.connect() as conn:
        assert verify_chain(conn).ok


def test_replayed_heartbeats_are_acknowledged_not_applied(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded)
    ash = _enrol(client, seeded)
    url = f"/v1/agents/{ash['agent_id']}/heartbeats"
    assert client.post(url, json={"seq": 1, "sent_at": 1000.0, "results": [_probe("L-ASH", True)]},
                       headers=_auth(ash)).json()["accepted"]
    assert client.post(url, json={"seq": 3, "sent_at": 3000.0, "results": [_probe("L-ASH", False)]},
                       headers=_auth(ash)).json()["links_changed"] == 1
    dup = client.post(url, json={"seq": 3, "sent_at": 3000.0, "results": [_probe("L-ASH", True)]},
                      headers=_auth(ash)).json()
    assert dup["duplicate"] and not dup["accepted"]
    late = client.post(url, json={"seq": 4, "sent_at": 2000.0, "results": [_probe("L-ASH", True)]},
                       headers=_auth(ash)).json()  # an older spooled round arrives late
    assert late["accepted"] and late["links_changed"] == 0
    with seeded.connect() as conn:
        up, checked = conn.execute(text("SELECT up, checked_ts FROM link_status")).one()
        beats = conn.execute(text("SELECT heartbeats, last_seq FROM agent")).one()
    assert (up, checked) == (0, 3000.0) and tuple(beats) == (3, 4)


def test_body_size_and_rate_limits(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded, max_body_bytes=2048, rate_per_second=0.01, rate_burst=3)
    ash = _enrol(client, seeded)
    big = {"seq": 1, "results": [_probe("L-ASH")] * 50}
    r = client.post(f"/v1/agents/{ash['agent_id']}/heartbeats", json=big, headers=_auth(ash))
    assert r.status_code == 413
    codes = [client.get(f"/v1/agents/{ash['agent_id']}/config", headers=_auth(ash)).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]  # the agent's own bucket (the enrolment was the address's)
    # an unverified caller is limited by its address
    assert client.get("/v1/agents/agt-00/config", headers={"Authorization": "Bearer ccagent.agt-00.x"}
                      ).status_code == 401
    metrics = client.get("/metrics").text
    assert 'cloudctl_api_rejected_requests_total{reason="too_large"} 1' in metrics
    assert 'cloudctl_api_rejected_requests_total{reason="rate_limited"} ' in metrics


def test_invalid_input_is_422_and_enrolment_checks_its_arguments(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded)
    ash = _enrol(client, seeded)
    url = f"/v1/agents/{ash['agent_id']}/heartbeats"
    for body in ({"seq": 0}, {"seq": 1, "sent_at": "NaN"}, {"seq": 1, "unknown": 1},
                 {"seq": 1, "results": [{**_probe("L-ASH"), "loss_ratio": 2}]}):
        assert client.post(url, json=body, headers=_auth(ash)).status_code == 422, body
    with pytest.raises(NotFoundError):
        create_enrolment(seeded, OP, "999999999", "access")
    with pytest.raises(InputError):
        create_enrolment(seeded, OP, "110101001", "router")


def test_coverage_summary_matches_the_rollup(seeded) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from cloudctl.coverage.rollup import rollup_coverage

    client = _client(seeded)
    r = client.get("/v1/coverage/summary", params={"as_of": "2025-01-01", "region": "11", "by_child": "true"})
    assert r.status_code == 200
    assert r.json() == rollup_coverage(seeded, date(2025, 1, 1), region="11", by_child=True).to_json()
    missing = client.get("/v1/coverage/summary", params={"region": "99"})
    assert missing.status_code == 404 and missing.json()["field"] == "--region"


def test_refusals_are_rate_limited_per_address_whatever_id_is_claimed(seeded) -> None:  # type: ignore[no-untyped-def]
    client = _client(seeded, rate_per_second=0.01, rate_burst=4)
    codes = [client.post(f"/v1/agents/agt-{i:04x}/heartbeats", json={"seq": 1},
                         headers={"Authorization": f"Bearer ccagent.agt-{i:04x}.guess"}).status_code
             for i in range(8)]  # a fresh claimed id each time: fresh request buckets
    assert codes[:4] == [401] * 4 and codes[4:] == [429] * 4
    assert len(_rejections(seeded)) == 4  # the audit log records only what the refusal budget allows
