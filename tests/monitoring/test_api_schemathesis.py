"""Schemathesis against the API's OpenAPI document: generated requests (with a valid agent
credential and without) never get a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.registry import create_enrolment, exchange_token
from cloudctl.audit import Actor
from cloudctl.store import open_store
from tests.monitoring.conftest import seed


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cloudctl.sqlite3'}")
    seed(store)
    e = create_enrolment(store, Actor("op"), "110101001", "access")
    who, credential = exchange_token(store, e.token)
    app = create_app(store, ApiSettings(process_metrics=False, rate_per_second=10_000, rate_burst=10_000))
    app.state.fuzz_auth = {"Authorization": f"Bearer {credential}"}
    app.state.fuzz_agent = who.agent_id
    yield app
    store.dispose()


@pytest.fixture(scope="module")
def api_schema(api: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", api)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: Any, api: Any) -> None:
    case.call_and_validate(checks=[not_a_server_error])  # without a credential, any path
    if "agent_id" in (case.path_parameters or {}):
        case.path_parameters["agent_id"] = api.state.fuzz_agent  # reach the handlers, not only the auth checks
    case.call_and_validate(headers=api.state.fuzz_auth, checks=[not_a_server_error])
