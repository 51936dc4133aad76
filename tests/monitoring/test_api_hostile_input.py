"""Hostile request bodies get a 4xx that describes them, never a 500, whatever their shape; a
validation error never echoes what was sent; rate-limit buckets belong to verified callers."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.operators import create_operator_token
from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OP = Actor("op", "pytest")
NON_FINITE = ("NaN", "Infinity", "-Infinity")


def _client(store: Any, **settings: Any) -> TestClient:
    app = create_app(store, ApiSettings(process_metrics=False, **settings))
    return TestClient(app, raise_server_exceptions=False)


def _enrol(client: TestClient, store: Any) -> dict[str, Any]:
    r = client.post("/v1/agents/enrol", json={"token": create_enrolment(store, OP, "110101001", "access").token})
    assert r.status_code == 200, r.text
    return r.json()


def _is_validation_error(r: Any) -> bool:
    body = r.json()
    return r.status_code == 422 and isinstance(body["detail"], list) and all(
        {"loc", "msg", "type"} <= set(item) and "input" not in item for item in body["detail"])


@pytest.fixture
def api(seeded: Any) -> tuple[TestClient, dict[str, Any], str]:
    client = _client(seeded, rate_per_second=1000, rate_burst=1000)
    agent = _enrol(client, seeded)
    op_token, _ = create_operator_token(seeded, Actor("alice", "pytest"))
    return client, agent, op_token


def test_nan_and_infinity_are_refused_as_422_at_the_position_they_stand(api: Any) -> None:
    client, agent, op_token = api
    auth = {"Authorization": f"Bearer {agent['credential']}"}
    beats = f"/v1/agents/{agent['agent_id']}/heartbeats"
    probe = '{"name": "p", "kind": "tcp", "target": "a:1", "link_id": "L-ASH", "up": true, "loss_ratio": @}'
    templates = [
        ("/v1/agents/enrol", {}, '{"token": @}'),  # no authentication needed to reach it
        ("/v1/agents/enrol", {}, '{"token": "ccenrol.agt-1.x", "hostname": @}'),
        (beats, auth, '{"seq": @}'),
        (beats, auth, '{"seq": 2, "sent_at": @}'),
        (beats, auth, '{"seq": 2, "results": [' + probe + "]}"),  # nested
        ("/v1/approvals/1/approve", {"Authorization": f"Bearer {op_token}"}, '{"reason": @}'),
    ]
    for const in NON_FINITE:
        cases = [(path, headers, template.replace("@", const)) for path, headers, template in templates]
        for path, headers, body in cases:
            r = client.post(path, content=body.encode(), headers={**headers, "Content-Type": "application/json"})
            assert _is_validation_error(r), (path, body, r.status_code, r.text)
            err = r.json()["detail"][0]
            assert err["type"] == "json_invalid" and const in err["msg"], r.text
            assert err["loc"] == ["body", body.index(const)], (body, err)


MALFORMED: list[tuple[bytes, str | None]] = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b'{"token": "x"', "application/json"),
    (b"[1, 2]", "application/json"),
    (b'"token"', "application/json"),
    (b"null", "application/json"),
    (b"\xff\xfe{\x00}", "application/json"),  # not UTF-8
    (b"\xff\xfe{\x00}", "text/plain"),  # bytes that are no text, sent as text
    (b'{"token": "\\ud800"}', "application/json"),  # a lone surrogate: not text
    (b'{"token": ' + b"9" * 5000 + b"}", "application/json"),  # past Python's int-digits limit
    (b"[" * 50_000 + b"]" * 50_000, "application/json"),  # deeper than the decoder's recursion limit
    (b'{"token": {"a": [1, {"b": null}]}}', "application/json"),
    (b'{"token": "x", "token": 5}', "application/json"),
    (b"token=abc&hostname=%00", "application/x-www-form-urlencoded"),
    (b'{"token": "x"}', "application/xml"),
    (b'{"token": "x"}', "application/json; charset=latin-1"),
    (b'{"token": "x"}', None),
    (b'{"token": "ccenrol.agt-1.x", "hostname": "ash\\u001b[31m"}', "application/json"),  # terminal escape
]


def test_a_malformed_body_of_any_shape_gets_a_4xx_that_renders(api: Any) -> None:
    client, agent, op_token = api
    targets = [("/v1/agents/enrol", {}),
               (f"/v1/agents/{agent['agent_id']}/heartbeats", {"Authorization": f"Bearer {agent['credential']}"}),
               ("/v1/approvals/1/reject", {"Authorization": f"Bearer {op_token}"})]
    for path, headers in targets:
        for body, content_type in MALFORMED:
            h = dict(headers) | ({"Content-Type": content_type} if content_type else {})
            r = client.post(path, content=body, headers=h)
            assert 400 <= r.status_code < 500, (path, body[:40], content_type, r.status_code, r.text[:300])
            assert isinstance(r.json()["detail"], list | str)  # a JSON body, whatever was sent


def test_a_validation_error_never_echoes_the_input(api: Any) -> None:
    client, _, _ = api
    secret = "ccenrol.agt-0123456789abcdef.SECRET-part-of-a-token"
    for body in ({"token": secret, "unknown": secret}, {"token": secret * 10}, {"token": [secret]}):
        r = client.post("/v1/agents/enrol", json=body)
        assert _is_validation_error(r), r.text
        assert "SECRET" not in r.text


def test_rotating_claimed_agent_ids_is_rate_limited_by_address(seeded: Any) -> None:
    client = _client(seeded, rate_per_second=0.01, rate_burst=5)
    ash = _enrol(client, seeded)  # one request of the address's burst
    codes = [client.get(f"/v1/agents/agt-{i:016x}/config",
                        headers={"Authorization": f"Bearer ccagent.agt-{i:016x}.guess{i}"}).status_code
             for i in range(12)]  # a fresh claimed id each time
    assert codes[:4] == [401] * 4 and codes[4:] == [429] * 8, codes
    # a verified agent has its own bucket: a stranger at the same address does not starve it ...
    own = [client.get(f"/v1/agents/{ash['agent_id']}/config",
                      headers={"Authorization": f"Bearer {ash['credential']}"}).status_code for _ in range(7)]
    # ... and it is limited itself
    assert own[:5] == [200] * 5 and own[5:] == [429] * 2, own
    metrics = client.get("/metrics").text
    assert 'cloudctl_api_rejected_requests_total{reason="rate_limited"} 10' in metrics


def test_operators_are_limited_as_themselves(seeded: Any) -> None:
    client = _client(seeded, rate_per_second=0.01, rate_burst=3)
    token, _ = create_operator_token(seeded, Actor("alice", "pytest"))
    other, _ = create_operator_token(seeded, Actor("alice", "pytest"))  # the same operator, another token
    codes = [client.post("/v1/approvals/999/approve", json={},
                         headers={"Authorization": f"Bearer {t}"}).status_code for t in (token, other) * 3]
    assert codes[:3] == [404] * 3 and codes[3:] == [429] * 3, codes
    assert client.post("/v1/agents/enrol", json={"token": "x"}).status_code == 403  # the address's own bucket


def test_strict_decoding_keeps_valid_json(api: Any) -> None:
    client, agent, _ = api
    body = {"seq": 1, "sent_at": 1.5e9, "agent_version": "1.0 — 版本", "results": [
        {"name": "p", "kind": "tcp", "target": "a:1", "link_id": "L-ASH", "up": True, "loss_ratio": 0.0,
         "rtt_avg_s": 1e-3, "note": "😀: json.dumps escapes it as a surrogate pair, which is text"}]}
    r = client.post(f"/v1/agents/{agent['agent_id']}/heartbeats", content=json.dumps(body).encode(),
                    headers={"Authorization": f"Bearer {agent['credential']}", "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] and r.json()["last_seq"] == 1, r.text


def test_rotating_claimed_ids_on_heartbeats_is_limited_by_address(seeded: Any) -> None:
    """Heartbeats verify the credential in the ingest batch; until then no bucket is charged by
    the claimed id: a failed credential is charged to the address."""
    client = _client(seeded, rate_per_second=0.01, rate_burst=4)
    ash = _enrol(client, seeded)
    codes = []
    for i in range(10):
        claimed = f"agt-{i:016x}"  # path and credential agree, so the request reaches the batch
        codes.append(client.post(f"/v1/agents/{claimed}/heartbeats", json={"seq": 1},
                                 headers={"Authorization": f"Bearer ccagent.{claimed}.guess"}).status_code)
    assert codes[:3] == [401] * 3 and codes[3:] == [429] * 7, codes  # the enrolment took one of 4
    url, auth = f"/v1/agents/{ash['agent_id']}/heartbeats", {"Authorization": f"Bearer {ash['credential']}"}
    own = [client.post(url, json={"seq": seq}, headers=auth) for seq in range(1, 7)]
    assert [r.status_code for r in own] == [200] * 4 + [429] * 2, [r.text for r in own]
    assert [r.json()["last_seq"] for r in own[:4]] == [1, 2, 3, 4]
    dup = client.post(url, json={"seq": 2}, headers=auth)  # a duplicate answers the last seq seen
    assert dup.status_code == 429  # still limited: the bucket is the agent's, not the seq's


def test_a_duplicate_answers_the_last_seq_the_api_has_seen(api: Any) -> None:
    client, agent, _ = api
    url, auth = f"/v1/agents/{agent['agent_id']}/heartbeats", {"Authorization": f"Bearer {agent['credential']}"}
    assert client.post(url, json={"seq": 7}, headers=auth).json()["last_seq"] == 7
    dup = client.post(url, json={"seq": 3}, headers=auth).json()  # an agent whose counter went back
    assert dup["duplicate"] and not dup["accepted"] and dup["last_seq"] == 7
    cfg = client.get(f"/v1/agents/{agent['agent_id']}/config", headers=auth).json()
    assert cfg["last_seq"] == 7


@pytest.mark.parametrize("fast_path", [True, False])
def test_hostile_heartbeats_are_422_with_or_without_the_fast_path(seeded_sqlite: Any, fast_path: bool) -> None:
    client = _client(seeded_sqlite, rate_per_second=1000, rate_burst=1000, heartbeat_fast_path=fast_path)
    agent = _enrol(client, seeded_sqlite)
    headers = {"Authorization": f"Bearer {agent['credential']}", "Content-Type": "application/json"}
    probe = '{"name": "p", "kind": "tcp", "target": "a:1", "link_id": "L-ASH", "up": true, "error": @}'
    for seq, body in enumerate([
            '{"seq": @, "agent_version": "\\ud800"}', '{"seq": @, "sent_at": NaN}', '{"seq": @, "sent_at": -Infinity}',
            '{"seq": @, "agent_version": "a\\u0000"}', '{"seq": @, "sent_at": 1e400}',
            '{"seq": @, "results": [' + probe.replace("@", '"\\udc00"') + "]}"], start=1):
        r = client.post(f"/v1/agents/{agent['agent_id']}/heartbeats", content=body.replace("@", str(seq)).encode(),
                        headers=headers)
        assert _is_validation_error(r), (body, r.status_code, r.text)
    with seeded_sqlite.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT heartbeats FROM agent")).scalar() == 0
