"""One test per defect of issue 10 ("one path for every action"), each against the real CLI, API and store.

Scopes, order and destructive commands on every command are proven by test_every_command.py; these pin the
cases the issue names, and the ones a walk cannot see (auto-approval, the deciding vote over HTTP, the clock).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import yaml

from cloudctl import clock
from cloudctl.action import Action, Context, Declined, Inputs, perform
from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.operators import create_operator_token
from cloudctl.approvals import show_request
from cloudctl.approvals.appliers import needs_applier
from cloudctl.approvals.kinds import KINDS
from cloudctl.audit import Actor
from cloudctl.errors import PermissionDenied
from cloudctl.power import create_role, grant_role
from tests.actions.conftest import BOSS, REGION, TOWNSHIP, Seeded, audit_count, audit_rows, snapshot

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

README_POLICY = {"name": "readme", "deadline": "48h",
                 "groups": [{"name": "finance", "members": ["fin-a", "fin-b", "fin-c"], "rule": "quorum:2"},
                            {"name": "security", "members": ["sec-a", "sec-b"], "rule": "any"}],
                 "escalation": {"name": "cio", "members": ["cio"], "rule": "any"},
                 "auto_approve": {"kinds": ["quota-increase"], "max": {"vcpus": 4, "ram": 8192}}}


def _policy(seeded: Seeded, run_as: Any, body: dict[str, Any], name: str = "p.yaml") -> Any:
    path = seeded.tmp / name
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return run_as("boss", "request", "policy", "set", str(path))


def test_a_region_grant_covers_add_retire_and_import_in_that_region(seeded: Seeded, run_as: Any) -> None:
    with seeded.store.begin() as conn:
        create_role(conn, "linker", ["links.*"], BOSS)
        grant_role(conn, "linker", "alice", BOSS, f"region:{REGION}")
    add = ["links", "add", "--type", "fiber", "--bandwidth", "10", "--activated", "2014-01-01"]
    assert run_as("alice", *add, "--id", "L-new", "--division", TOWNSHIP).code == 0
    assert run_as("alice", "links", "retire", "L-new", "--on", "2020-01-01", "--yes").code == 0
    assert run_as("alice", "links", "import", str(seeded.tmp / "links.csv")).code == 0
    other = run_as("alice", *add, "--id", "L-15", "--division", "15")
    assert other.code == 1 and "region 15" in other.err


def test_a_missing_division_is_bad_input_for_everyone(seeded: Seeded, run_as: Any) -> None:
    args = ["links", "add", "--id", "L-x", "--division", "510104001", "--type", "fiber", "--bandwidth", "10",
            "--activated", "2014-01-01"]
    for who in ("alice", "boss"):  # alice holds no role: she is told the same as the admin
        r = run_as(who, *args)
        assert r.code == 2 and "no division with code '510104001'" in r.err and "may not" not in r.err


def test_the_readme_policy_does_not_approve_500_instances(seeded: Seeded, run_as: Any) -> None:
    assert _policy(seeded, run_as, README_POLICY).code == 0
    r = run_as("boss", "request", "quota", "--dept", "finance", "--instances", "500", "--gigabytes", "100000",
               "--policy", "readme", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["status"] == "pending"
    small = run_as("boss", "request", "quota", "--dept", "finance", "--vcpus", "2", "--policy", "readme",
                   "--format", "json")
    assert json.loads(small.out)["status"] == "approved"  # inside the tier (its apply then fails: no cloud here)
    negative = run_as("boss", "request", "create", "--kind", "quota-increase", "--payload", '{"vcpus": -100}',
                      "--policy", "readme", "--region", REGION)
    assert negative.code == 2 and "payload.vcpus" in negative.err


def test_a_tier_must_name_its_kinds(seeded: Seeded, run_as: Any) -> None:
    bad = _policy(seeded, run_as, {**README_POLICY, "auto_approve": {"max": {"vcpus": 4, "ram": 8192}}})
    assert bad.code == 2 and "auto_approve.kinds" in bad.err and "p.yaml:" in bad.err


def test_gateway_publications_need_votes_unless_a_tier_names_them(seeded: Seeded, run_as: Any) -> None:
    from tests.actions.conftest import GATEWAY_POLICY

    assert _policy(seeded, run_as, {**README_POLICY, "name": "gateway"}).code == 0  # a quota tier, no publication
    r = run_as("boss", "gateway", "import", str(GATEWAY_POLICY), "--format", "json")
    assert r.code == 0, r.err
    statuses = {row["status"] for row in json.loads(r.out) if row["change"] == "requested"}
    assert statuses == {"pending"}


def test_unknown_targets_are_refused_when_filed(seeded: Seeded, run_as: Any) -> None:
    before = snapshot(seeded.store)
    for where in (["--dept", "nosuchdept"], ["--region", "99"]):
        r = run_as("boss", "request", "create", "--kind", "quota-increase", "--payload", '{"vcpus": 8}',
                   "--policy", "standard", *where)
        assert r.code == 2 and "no " in r.err
    assert snapshot(seeded.store) == before


def test_sweep_exits_3_and_names_each_failed_apply(seeded: Seeded, run_as: Any) -> None:
    ids = []
    for n in (1, 2):  # auto-approved on filing; their applies fail (no cloud is configured here)
        r = run_as("boss", "request", "quota", "--dept", "finance", "--vcpus", str(n), "--policy", "standard",
                   "--format", "json")
        assert r.code == 3 and "approved, but applying it failed" in r.err
        ids.append(json.loads(r.out)["id"])
    with seeded.store.begin() as conn:  # make them due for the sweep again
        conn.exec_driver_sql("UPDATE approval_request SET apply_status = NULL")
    r = run_as("boss", "request", "sweep")
    assert r.code == 3, r.err
    for rid in ids:
        assert f"request {rid}: apply failed" in r.err
    assert "failed: [" in r.out


def test_a_deciding_vote_over_http_applies_like_the_cli(seeded: Seeded, run_as: Any) -> None:
    """Two identical requests: one decided on the CLI, one over HTTP; both end applied the same way."""
    with seeded.store.begin() as conn:
        create_role(conn, "approver", ["request.approve"], BOSS)
        for who in ("fin-a", "fin-b", "sec-a"):
            grant_role(conn, "approver", who, BOSS)
    ids = []
    for _ in range(2):
        r = run_as("alice-req", "request", "create", "--kind", "quota-increase", "--payload", '{"vcpus": 64}',
                   "--policy", "standard", "--dept", "finance", "--format", "json")
        if r.code == 1:  # alice-req needs request.create first
            with seeded.store.begin() as conn:
                create_role(conn, "filer", ["request.create"], BOSS)
                grant_role(conn, "filer", "alice-req", BOSS)
            r = run_as("alice-req", "request", "create", "--kind", "quota-increase", "--payload", '{"vcpus": 64}',
                       "--policy", "standard", "--dept", "finance", "--format", "json")
        ids.append(json.loads(r.out)["id"])
    cli_id, api_id = ids
    for who in ("fin-a", "sec-a"):
        assert run_as(who, "request", "approve", str(cli_id)).code == 0
    deciding = run_as("fin-b", "request", "approve", str(cli_id))
    assert deciding.code == 3 and "applying it failed" in deciding.err

    client = TestClient(create_app(seeded.store, ApiSettings(process_metrics=False)))
    for who in ("fin-a", "sec-a", "fin-b"):
        token, _ = create_operator_token(seeded.store, Actor(who, "pytest"))
        r = client.post(f"/v1/approvals/{api_id}/approve", json={}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["apply_status"] == "failed"
    with seeded.store.connect() as conn:
        cli_req, api_req = show_request(conn, cli_id), show_request(conn, api_id)
    for req in (cli_req, api_req):
        assert req["status"] == "approved" and req["apply_status"] == "failed"
    assert cli_req["apply_result"] == api_req["apply_result"]


def test_every_kind_that_needs_an_applier_is_wired() -> None:
    from cloudctl.wiring import appliers

    assert {k for k in KINDS if needs_applier(k)} == set(appliers())


def test_today_is_the_configured_zones_on_the_cli_and_the_api(seeded: Seeded, run_as: Any) -> None:
    """20:00 UTC on 7 December is already 8 December in Asia/Shanghai: both channels say so."""
    with clock.pinned("2026-12-07T20:00:00+00:00"):
        r = run_as("boss", "coverage", "summary", "--format", "json")
        client = TestClient(create_app(seeded.store, ApiSettings(process_metrics=False)))
        api = client.get("/v1/coverage/summary").json()
    assert json.loads(r.out)["as_of"] == api["as_of"] == "2026-12-08"
    assert run_as("boss", "settings", "set", "timezone", "UTC").code == 0
    with clock.pinned("2026-12-07T20:00:00+00:00"):
        r = run_as("boss", "coverage", "summary", "--format", "json")
        api = TestClient(create_app(seeded.store, ApiSettings(process_metrics=False))).get(
            "/v1/coverage/summary").json()
    assert json.loads(r.out)["as_of"] == api["as_of"] == "2026-12-07"


class _Recording:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def check(self, action: Action[Any]) -> None:
        return None

    def ask(self, question: str, answer: str) -> None:
        self.asked.append(question)
        raise Declined("no")


def test_confirmation_is_asked_only_after_the_power_list_allows(seeded: Seeded) -> None:
    from cloudctl.cloud.actions import RETIRE_DEPT

    asked = _Recording()
    denied = Context(store=seeded.store, actor=Actor("mallory"), confirmation=asked)
    try:
        perform(denied, RETIRE_DEPT, {"code": "finance"})
        raise AssertionError("mallory may not retire a department")
    except PermissionDenied:
        pass
    assert asked.asked == []  # never asked someone who may not do it
    n = audit_count(seeded.store)
    allowed = Context(store=seeded.store, actor=BOSS, confirmation=asked)
    try:
        perform(allowed, RETIRE_DEPT, {"code": "finance"})
        raise AssertionError("declining must stop the action")
    except Declined:
        pass
    assert len(asked.asked) == 1 and [r.action for r in audit_rows(seeded.store)[n:]] == ["power.allow"]


def test_history_table_shows_the_replayed_status(seeded: Seeded, run_as: Any) -> None:
    r = run_as("boss", "request", "show", str(seeded.ids["request"]), "--history", "--format", "csv")
    assert r.code == 0 and "replayed_status,pending" in r.out


def test_probes_through_the_cli_reach_the_agents_config(seeded: Seeded, run_as: Any) -> None:
    from cloudctl.api.registry import AgentRecord, probe_config

    add = run_as("boss", "agent", "probe", "add", "--division", TOWNSHIP, "--name", "web", "--kind", "http",
                 "--target", "https://192.0.2.1/health", "--link", "L-11-1", "--expect-status", "204")
    assert add.code == 0, add.err
    who = AgentRecord(seeded.ids["agent"], TOWNSHIP, "access", "pending", 0)
    names = {p["name"]: p for p in probe_config(seeded.store, who, 15.0)["probes"]}
    assert set(names) == {"p1", "web"} and names["web"]["expect_status"] == 204
    proposal = run_as("boss", "agent", "probe", "defaults", "--division", TOWNSHIP)
    proposed = yaml.safe_load(proposal.out)
    assert [(p["name"], p["target"], p["link"]) for p in proposed] == [("link-L-11-1", "192.0.2.1", "L-11-1")]
    out = Path(seeded.tmp / "proposed.yaml")
    out.write_text(proposal.out.replace("link-L-11-1", "gw-icmp"), encoding="utf-8")
    imported = run_as("boss", "agent", "probe", "import", str(out), "--format", "json")
    assert imported.code == 0 and json.loads(imported.out)["added"] == 1
    bad = out.read_text(encoding="utf-8").replace("192.0.2.1", "not_a host")
    out.write_text(bad, encoding="utf-8")
    r = run_as("boss", "agent", "probe", "import", str(out))
    assert r.code == 2 and f"{out}:" in r.err and "target" in r.err
    assert run_as("boss", "agent", "probe", "remove", "--division", TOWNSHIP, "--name", "web", "--yes").code == 0
    listed = json.loads(run_as("boss", "agent", "probe", "list", "--format", "json").out)
    assert {p["name"] for p in listed} == {"p1", "gw-icmp"}


def test_probes_over_the_api_follow_the_power_list(seeded: Seeded) -> None:
    client = TestClient(create_app(seeded.store, ApiSettings(process_metrics=False)))
    with seeded.store.begin() as conn:
        create_role(conn, "prober", ["agent.probe.*"], BOSS)
        grant_role(conn, "prober", "ops11", BOSS, f"region:{REGION}")
    token, _ = create_operator_token(seeded.store, Actor("ops11", "pytest"))
    auth = {"Authorization": f"Bearer {token}"}
    body = {"division": TOWNSHIP, "name": "api-tcp", "kind": "tcp", "target": "192.0.2.1:443", "link": "L-11-1"}
    assert client.post("/v1/probes", json=body).status_code == 401
    assert client.post("/v1/probes", json={**body, "target": "192.0.2.1"}, headers=auth).status_code == 422
    assert client.post("/v1/probes", json=body, headers=auth).status_code == 201
    assert client.post("/v1/probes", json=body, headers=auth).status_code == 409
    listed = client.get("/v1/probes", params={"division": TOWNSHIP}, headers=auth).json()
    assert {p["name"] for p in listed} == {"p1", "api-tcp"}
    assert client.delete(f"/v1/probes/{TOWNSHIP}/api-tcp", headers=auth).status_code == 200
    outside = {**body, "division": "15", "name": "x", "link": "L-11-1"}
    assert client.post("/v1/probes/import", json={"probes": [outside]}, headers=auth).status_code in (403, 404)


class _NoInputs(Inputs):
    pass


def test_an_action_missing_from_the_power_list_is_denied(seeded: Seeded) -> None:
    rogue = Action("links.fly", _NoInputs, lambda ctx, i: None)
    try:
        perform(Context(store=seeded.store, actor=BOSS), rogue, {})
        raise AssertionError("an unlisted action must be denied, even for admin")
    except PermissionDenied as e:
        assert "not on the power list" in e.message
