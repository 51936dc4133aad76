"""Every route of the API, walked from its OpenAPI document (not from a hand-kept list of paths):

- every route that changes something names either its action's permission (`x-cloudctl-permission`, on the
  power list) or the agent credential that authenticates it (`x-cloudctl-auth`);
- for each operator action: no token is 401, an invalid body is 422 before authorization (no decision is
  recorded), an operator without the grant gets 403, exactly one power.deny record and no other change.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.operators import create_operator_token
from cloudctl.audit import Actor
from cloudctl.power import lookup
from tests.actions.conftest import REGION, TOWNSHIP, Seeded, audit_count, audit_rows, snapshot

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Sample = Callable[[Seeded], tuple[str, Any]]  # -> (concrete path, JSON body)
PROBE = {"division": TOWNSHIP, "name": "api-p", "kind": "icmp", "target": "192.0.2.1", "link": "L-11-1"}

# (method, templated path) -> (valid call, invalid call)
SAMPLES: dict[tuple[str, str], tuple[Sample, Sample]] = {
    ("post", "/v1/requests"): (
        lambda s: ("/v1/requests", {"kind": "quota-increase", "payload": {"vcpus": 8}, "policy_name": "standard",
                                    "region": REGION}),
        lambda s: ("/v1/requests", {"kind": "quota-increase", "payload": {"vcpus": -1}, "policy_name": "standard"})),
    ("post", "/v1/approvals/{request_id}/approve"): (
        lambda s: (f"/v1/approvals/{s.ids['request']}/approve", {}),
        lambda s: (f"/v1/approvals/{s.ids['request']}/approve", {"reason": 7, "extra": True})),
    ("post", "/v1/approvals/{request_id}/reject"): (
        lambda s: (f"/v1/approvals/{s.ids['request']}/reject", {"reason": "no budget"}),
        lambda s: (f"/v1/approvals/{s.ids['request']}/reject", {})),
    ("post", "/v1/requests/{request_id}/withdraw"): (
        lambda s: (f"/v1/requests/{s.ids['request']}/withdraw", {}),
        lambda s: ("/v1/requests/0/withdraw", {})),
    ("post", "/v1/probes"): (lambda s: ("/v1/probes", PROBE),
                             lambda s: ("/v1/probes", {**PROBE, "kind": "smtp"})),
    ("post", "/v1/probes/import"): (lambda s: ("/v1/probes/import", {"probes": [PROBE]}),
                                    lambda s: ("/v1/probes/import", {"probes": []})),
    ("delete", "/v1/probes/{division}/{name}"): (lambda s: (f"/v1/probes/{TOWNSHIP}/p1", None),
                                                 lambda s: (f"/v1/probes/{TOWNSHIP}x/p1", None)),
}


@pytest.fixture
def api(seeded: Seeded) -> TestClient:
    return TestClient(create_app(seeded.store, ApiSettings(process_metrics=False)))


def _routes() -> dict[tuple[str, str], dict[str, Any]]:
    import tempfile
    from pathlib import Path

    from tests.actions.conftest import seed  # a throwaway store: the document does not depend on it

    with tempfile.TemporaryDirectory() as tmp:
        s = seed(f"sqlite:///{tmp}/doc.sqlite3", Path(tmp))
        doc = TestClient(create_app(s.store, ApiSettings(process_metrics=False))).get("/openapi.json").json()
        s.store.dispose()
    return {(method, path): op for path, ops in doc["paths"].items() for method, op in ops.items()}


ROUTES = _routes()
CHANGING = {k: op for k, op in ROUTES.items() if k[0] in ("post", "put", "patch", "delete")}


def test_every_changing_route_names_its_permission_or_its_credential() -> None:
    assert len(CHANGING) >= 9
    for (method, path), op in CHANGING.items():
        permission, auth = op.get("x-cloudctl-permission"), op.get("x-cloudctl-auth")
        assert bool(permission) != bool(auth), f"{method.upper()} {path}: names {permission!r} and {auth!r}"
        if permission:
            assert lookup(permission) is not None, f"{method.upper()} {path}: {permission} is not on the power list"
        else:
            assert auth in ("agent-credential", "enrolment-token"), (path, auth)


def test_every_operator_route_has_samples() -> None:
    assert {k for k, op in CHANGING.items() if op.get("x-cloudctl-permission")} == set(SAMPLES)


def _call(api: TestClient, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return api.request(method.upper(), path, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "template"), sorted(SAMPLES))
def test_each_operator_route_refuses_in_order(method: str, template: str, seeded: Seeded, api: TestClient) -> None:
    permission = CHANGING[(method, template)]["x-cloudctl-permission"]
    path, body = SAMPLES[(method, template)][0](seeded)
    before, n = snapshot(seeded.store), audit_count(seeded.store)
    assert _call(api, method, path, body).status_code == 401  # no token (the refusal is audited as such)
    token, _ = create_operator_token(seeded.store, Actor("mallory", "pytest"))
    auth = {"Authorization": f"Bearer {token}"}
    before, n = snapshot(seeded.store), audit_count(seeded.store)

    bad_path, bad_body = SAMPLES[(method, template)][1](seeded)
    r = _call(api, method, bad_path, bad_body, auth)
    assert r.status_code == 422, (r.status_code, r.text)
    assert audit_count(seeded.store) == n and snapshot(seeded.store) == before

    r = _call(api, method, path, body, auth)
    assert r.status_code == 403, (r.status_code, r.text)
    new = audit_rows(seeded.store)[n:]
    assert [(x.action, x.object_id, x.actor) for x in new] == [("power.deny", permission, "mallory")]
    assert snapshot(seeded.store) == before
