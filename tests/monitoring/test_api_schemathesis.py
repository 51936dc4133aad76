"""Schemathesis against the API's OpenAPI document: generated requests, valid (positive) and
invalid (negative), with a valid agent or operator credential and without, get answers that
conform to the document — documented status codes, content types, headers and response
schemas — invalid data is refused with a 4xx and valid data is not; never a server error.
Beside the generated cases, every operation with a body gets NaN, Infinity and -Infinity in
each field and bodies over the size limit (by Content-Length and chunked), checked the same way."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.operators import create_operator_token
from cloudctl.api.registry import create_enrolment, exchange_token
from cloudctl.audit import Actor
from cloudctl.store import open_store
from tests.monitoring.conftest import seed

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MAX_BODY = 64 * 1024
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_headers_conformance, response_schema_conformance]
CHECKS = [*CONFORMANCE, negative_data_rejection, positive_data_acceptance]
CONFIG = SchemathesisConfig.from_str("""
[generation]
mode = "all"

# Any request may also be refused for its size (413: the body limit answers before parsing,
# and JSON Schema cannot state a size in bytes); no server error is ever expected.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "413", "429"]

# The summary's rules that OpenAPI cannot state are 400 with the field (documented): `online`
# excludes `as_of`, and `exclude_kind` must name a kind the store knows.
[[operations]]
include-path = "/v1/coverage/summary"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404", "413", "429"]
""")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cloudctl.sqlite3'}")
    seed(store)
    e = create_enrolment(store, Actor("op"), "110101001", "access")
    who, credential = exchange_token(store, e.token)
    operator_token, _ = create_operator_token(store, Actor("alice", "pytest"))
    app = create_app(store, ApiSettings(process_metrics=False, rate_per_second=100_000, rate_burst=100_000,
                                        max_body_bytes=MAX_BODY))
    app.state.fuzz_agent = who.agent_id
    app.state.fuzz_auth = {"/v1/agents/": {"Authorization": f"Bearer {credential}"},
                           "/v1/approvals/": {"Authorization": f"Bearer {operator_token}"}}
    yield app
    store.dispose()


@pytest.fixture(scope="module")
def api_schema(api: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", api, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


def _auth_for(api: Any, path: str) -> dict[str, str] | None:
    return next((h for prefix, h in api.state.fuzz_auth.items() if path.startswith(prefix)), None)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case: Any, api: Any) -> None:
    case.call_and_validate(checks=CHECKS)  # without a credential, any path
    auth = _auth_for(api, case.path)
    if auth is None:
        return
    if "agent_id" in (case.path_parameters or {}):
        case.path_parameters["agent_id"] = api.state.fuzz_agent  # reach the handlers, not only the auth checks
    case.call_and_validate(headers=auth, checks=CHECKS)


def _body_operations(api_schema: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, a valid example body) of every operation that takes a JSON body."""
    examples = {"/v1/agents/enrol": {"token": "ccenrol.agt-0.x", "hostname": "ash-ap1", "agent_version": "1"},
                "/v1/agents/{agent_id}/heartbeats": {"seq": 1, "sent_at": 1.7e9, "results": [
                    {"name": "p", "kind": "tcp", "target": "a:1", "link_id": "L-ASH", "up": True, "sent": 1,
                     "received": 1, "loss_ratio": 0.0, "rtt_avg_s": 0.01}]},
                "/v1/approvals/{request_id}/approve": {"reason": "ok"},
                "/v1/approvals/{request_id}/reject": {"reason": "no"},
                "/v1/requests": {"kind": "quota-increase", "payload": {"vcpus": 1}, "policy_name": "standard"},
                "/v1/requests/{request_id}/withdraw": {"reason": "not needed"},
                "/v1/probes": {"division": "110101001", "name": "p", "kind": "icmp", "target": "192.0.2.1",
                               "link": "L-1"},
                "/v1/probes/import": {"probes": [{"division": "110101001", "name": "p", "kind": "icmp",
                                                  "target": "192.0.2.1", "link": "L-1"}]}}
    found = []
    for path, item in api_schema.raw_schema["paths"].items():
        for method, op in item.items():
            if "requestBody" in op:
                assert path in examples, f"{method.upper()} {path} takes a body: add an example here"
                found.append((path, method.upper(), examples[path]))
    return found


def _positions(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value where a number (or anything) could stand."""
    if path:
        yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _positions(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _positions(v, (*path, i))


def _with_marker(value: Any, where: tuple[Any, ...]) -> Any:
    value = json.loads(json.dumps(value))
    target = value
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "@@MARK@@"
    return value


def test_nan_infinity_and_oversized_bodies_get_documented_4xx(api: Any, api_schema: Any) -> None:
    client = TestClient(api, raise_server_exceptions=False)
    sent = 0
    for path, method, example in _body_operations(api_schema):
        operation = api_schema[path][method]
        concrete = path.replace("{agent_id}", api.state.fuzz_agent).replace("{request_id}", "1")
        for auth in (None, _auth_for(api, path)):
            headers = {"Content-Type": "application/json", **(auth or {})}
            bodies = [json.dumps(_with_marker(example, where)).replace('"@@MARK@@"', const).encode()
                      for where in _positions(example) for const in ("NaN", "Infinity", "-Infinity")]
            big = json.dumps({**example, "pad": "x" * MAX_BODY}).encode()
            for body in bodies:
                r = client.request(method, concrete, content=body, headers=headers)
                assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid", (body, r.text)
                operation.Case(path_parameters=_path_params(path, api)).validate_response(r, checks=CONFORMANCE)
            for oversized in (
                    {"content": big},  # Content-Length over the limit
                    {"content": iter([big[:MAX_BODY // 2], big[MAX_BODY // 2:]])}):  # chunked, no length
                r = client.request(method, concrete, headers=headers, **oversized)
                assert r.status_code == 413, r.text
                operation.Case(path_parameters=_path_params(path, api)).validate_response(r, checks=CONFORMANCE)
            sent += len(bodies) + 2
    assert sent >= 100  # every field of every body, three constants each, with and without a credential


def _path_params(path: str, api: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "{agent_id}" in path:
        params["agent_id"] = api.state.fuzz_agent
    if "{request_id}" in path:
        params["request_id"] = 1
    return params
