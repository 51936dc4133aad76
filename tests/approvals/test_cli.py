"""`cloudctl request|role|power ...` end to end through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cloudctl.audit import list_entries
from cloudctl.store import open_store

from .conftest import POLICY

PROVINCES = Path(__file__).parents[1] / "fixtures" / "divisions" / "provinces.csv"


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    open_store(sqlite_url).dispose()  # only `cloudctl init` creates a store from the CLI
    monkeypatch.setenv("CLOUDCTL_DB", sqlite_url)
    monkeypatch.setenv("CLOUDCTL_AS", "boss")
    return sqlite_url


def test_power_list_is_published(run_cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run_cli("power", "list", "--format", "json").out)
    names = {r["permission"] for r in rows}
    assert {"links.import", "coverage.target.set", "ipam.allocate", "quota.set", "role.grant"} <= names


def test_request_flow_and_denial(db: str, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("role", "bootstrap", "--operator", "boss").code == 0
    assert run_cli("role", "create", "reviewer", "--allow", "request.approve", "--allow", "request.reject").code == 0
    assert run_cli("role", "create", "requester", "--allow", "request.create").code == 0
    for who in ("fin-a", "fin-b", "sec-a", "net-a"):
        assert run_cli("role", "grant", "reviewer", who).code == 0
    assert run_cli("role", "grant", "requester", "alice", "--region", "11").code == 0
    assert run_cli("divisions", "import", str(PROVINCES)).code == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    assert run_cli("request", "policy", "set", str(policy)).code == 0

    r = run_cli("--as", "alice", "request", "create", "--kind", "quota-increase", "--region", "11",
                "--payload", '{"vcpus": 64}', "--policy", "standard", "--format", "json")
    assert r.code == 0, r.err
    rid = str(json.loads(r.out)["id"])
    r = run_cli("--as", "alice", "request", "create", "--kind", "quota-increase", "--region", "11",
                "--payload", "{bad json", "--policy", "standard")
    assert r.code == 2 and "--payload" in r.err and "JSON" in r.err

    pending = json.loads(run_cli("--as", "fin-a", "request", "list", "--to-review", "--format", "json").out)
    assert [p["id"] for p in pending] == [int(rid)]
    for who in ("fin-a", "fin-b", "sec-a"):
        assert run_cli("--as", who, "request", "approve", rid).code == 0

    store = open_store(db)
    with store.connect() as conn:
        before = list_entries(conn, limit=None)
    r = run_cli("--as", "alice", "request", "approve", rid)  # alice holds no reviewer role
    assert r.code == 1 and "'alice' may not request.approve" in r.err
    with store.connect() as conn:
        after = list_entries(conn, limit=None)
    assert len(after) == len(before) + 1 and after[0]["action"] == "power.deny"

    decisive = run_cli("--as", "net-a", "request", "approve", rid, "--reason", "ok")
    # the vote stands; applying it fails (no cloud is configured here) and says so: partly done, exit 3
    assert decisive.code == 3, decisive.err
    assert "approved, but applying it failed" in decisive.err and "no cloud selected" in decisive.err
    shown = json.loads(run_cli("request", "show", rid, "--history", "--format", "json").out)
    assert shown["status"] == "approved" and shown["replayed_status"] == "approved"
    assert shown["apply_status"] == "failed"
    assert [e["kind"] for e in shown["history"]] == ["created", "vote", "vote", "vote", "vote", "decided", "applied"]
    assert run_cli("request", "sweep", "--format", "json").code == 0

    assert run_cli("role", "create", "delegator", "--allow", "request.delegate").code == 0
    assert run_cli("role", "grant", "delegator", "fin-a").code == 0
    r = run_cli("--as", "fin-a", "request", "delegate", "--to", "deputy", "--until", "2099-01-01")
    assert r.code == 0, r.err
    rows = json.loads(run_cli("--as", "deputy", "request", "delegations", "--format", "json").out)
    assert [(d["delegator"], d["delegate"]) for d in rows] == [("fin-a", "deputy")]
    store.dispose()
