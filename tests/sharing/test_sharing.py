"""The catalogue, requests through the approval engine, revocation and the stored gateway's flows, on
SQLite and PostgreSQL, through the real CLI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from cloudctl import clock
from cloudctl.gateway.query import query_flow
from cloudctl.gateway.semantics import build_semantics
from cloudctl.gateway.stored import load_stored_policy
from cloudctl.store.tables.approvals import approval_request
from cloudctl.store.tables.core import audit_log
from tests.sharing.conftest import as_json

UNTIL = (clock.current().today() + dt.timedelta(days=90)).isoformat()
ADD = ["share", "resource", "add", "fin-payments", "--dept", "finance", "--gateway", "gw-lab", "--service", "fin-api"]


def _request(cli: Any, *extra: str, who: str = "tax-clerk", resource: str = "fin-payments") -> Any:
    return cli(who, "share", "request", resource, "--dept", "tax", "--purpose", "reconciliation", "--until", UNTIL,
               *extra, "--format", "json")


def _grant_clerk(store: Any) -> None:
    from cloudctl.power import create_role, grant_role
    from tests.sharing.conftest import BOSS

    with store.begin() as conn:
        create_role(conn, "clerk", ["share.request"], BOSS)
        grant_role(conn, "clerk", "tax-clerk", BOSS, "dept:tax")


def _flow(store: Any, port: int = 443, at: dt.date | None = None) -> Any:
    sem = build_semantics(load_stored_policy(store, "gw-lab"))
    return query_flow(sem, "10.22.0.20", "10.21.0.5", "tcp", port, at or clock.current().today())


def test_a_conditional_share_is_asked_of_three_groups_at_once_and_opens_after_the_votes(shared, cli) -> None:
    store, _ = shared
    _grant_clerk(store)
    assert cli("boss", *ADD, "--class", "conditional").code == 0
    assert _flow(store).verdict == "deny"
    filed = as_json(_request(cli, "--ports", "443"))
    assert (filed["status"], filed["class"], filed["ports"]) == ("pending", "conditional", [443])
    shown = as_json(cli("boss", "request", "show", str(filed["id"]), "--format", "json"))
    assert shown["kind"] == "data-share" and shown["dept"] == "finance"
    assert [g["group"] for g in shown["groups"]] == ["owner", "data-authority", "security"]
    assert {m for g in shown["groups"] for m in g["waiting_for"]} == {"fin-head", "fin-deputy", "data-office",
                                                                      "sec-a", "sec-b"}
    for who in ("fin-head", "data-office"):
        assert as_json(cli(who, "request", "approve", str(filed["id"]), "--format", "json"))["status"] == "pending"
        assert _flow(store).verdict == "deny"  # pending opens nothing
    assert as_json(cli("sec-b", "request", "approve", str(filed["id"]), "--format", "json"))["status"] == "approved"
    allowed = _flow(store)
    assert (allowed.verdict, allowed.rule, allowed.decided_by) == ("allow", "share", f"share-{filed['id']}")
    assert _flow(store, 8443).verdict == "deny"  # a port not granted
    listed = as_json(cli("boss", "share", "list", "--dept", "tax", "--format", "json"))
    assert [(s["id"], s["state"]) for s in listed] == [(filed["id"], "active")]
    assert listed[0]["approval_seconds"] is not None and listed[0]["approval_seconds"] >= 0
    after = dt.date.fromisoformat(UNTIL) + dt.timedelta(days=1)
    assert _flow(store, at=after).rule == "expired"
    assert as_json(cli("boss", "share", "list", "--at", after.isoformat(), "--format", "json"))[0]["state"] \
        == "expired"


def test_a_conditional_share_needs_votes_even_when_a_tier_names_data_share(db_url: str, capsys) -> None:
    from cloudctl.action import Context, perform
    from cloudctl.sharing.actions import ADD_RESOURCE, REQUEST_SHARE
    from cloudctl.store import open_store
    from tests.sharing.conftest import BOSS, setup_sharing

    store = open_store(db_url)
    setup_sharing(store, tier_kinds=["data-share"])
    ctx = Context(store, BOSS)
    out = {}
    for name, cls, service in (("fin-open", "open", "fin-api"), ("fin-cond", "conditional", "fin-push")):
        perform(ctx, ADD_RESOURCE, {"name": name, "dept": "finance", "gateway": "gw-lab", "service": service,
                                    "share_class": cls})
        out[cls] = perform(ctx, REQUEST_SHARE, {"resource": name, "dept": "tax", "purpose": "x", "until": UNTIL})
    assert out["open"]["status"] == "approved"  # the tier names data-share: open is approved at once
    assert out["conditional"]["status"] == "pending"  # conditional: always votes
    store.dispose()


def test_an_open_share_is_not_auto_approved_unless_the_tier_names_the_kind(shared, cli) -> None:
    assert cli("boss", *ADD, "--class", "open").code == 0
    assert as_json(_request(cli, who="boss"))["status"] == "pending"


def test_a_closed_resource_refuses_the_request_at_once_with_its_basis(shared, cli) -> None:
    store, _ = shared
    assert cli("boss", *ADD, "--class", "closed").code == 2  # a closed resource records its basis
    assert cli("boss", *ADD, "--class", "closed", "--description", "涉及国家秘密 (保密法)").code == 0
    with store.connect() as conn:
        requests, audit = (conn.execute(select(func.count()).select_from(t)).scalar() for t in
                           (approval_request, audit_log))
    refused = _request(cli, who="boss")
    assert refused.code == 2 and "closed (不予共享)" in refused.err and "保密法" in refused.err
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(approval_request)).scalar() == requests
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == audit


@pytest.mark.parametrize("change, message", [
    (["--service", "tax-api"], "belongs to department 'tax'"),
    (["--service", "nope"], "has no service 'nope'"),
    (["--gateway", "gw-none"], "no stored gateway"),
    (["--policy", "gateway"], "has no group 'owner', 'data-authority'"),
    (["--policy", "missing"], "no approval policy named 'missing'"),
])
def test_resource_add_refuses_what_cannot_be_shared(shared, cli, change, message) -> None:
    args = list(ADD)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    r = cli("boss", *args, "--class", "open")
    assert r.code == 2 and message in r.err, r.err


@pytest.mark.parametrize("args, message", [
    (["--dept", "finance"], "needs no share with itself"),
    (["--dept", "health", "--ports", "9999"], "are not all the service's"),
    (["--dept", "health", "--ports", "44x"], "--ports"),
    (["--dept", "nosuch"], "no active department 'nosuch'"),
    (["--dept", "health", "--until", "2001-01-01"], "in the past"),
])
def test_request_refuses_bad_input_before_authorization(shared, cli, args, message) -> None:
    assert cli("boss", *ADD, "--class", "open").code == 0
    base = {"--dept": "tax", "--purpose": "x", "--until": UNTIL}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    r = cli("mallory", "share", "request", "fin-payments", *[x for kv in base.items() for x in kv])
    assert r.code == 2 and message in r.err and "may not" not in r.err, r.err


def test_a_consumer_without_subnets_on_the_gateway_is_refused(shared, cli) -> None:
    from cloudctl.cloud.departments import create_department
    from tests.sharing.conftest import BOSS

    create_department(shared[0], BOSS, code="audit", name="审计厅", division="53")
    assert cli("boss", *ADD, "--class", "open").code == 0
    r = cli("boss", "share", "request", "fin-payments", "--dept", "audit", "--purpose", "x", "--until", UNTIL)
    assert r.code == 2 and "no subnets on gateway 'gw-lab'" in r.err


def test_a_consumer_in_the_services_own_zone_is_refused(shared, cli) -> None:
    """health's subnets are in the public zone, like citizen-api: the gateway carries nothing between them."""
    from cloudctl.approvals import set_policy
    from tests.sharing.conftest import BOSS, SHARE_POLICY

    with shared[0].begin() as conn:
        set_policy(conn, {**SHARE_POLICY, "name": "share-health"}, BOSS)
    assert cli("boss", "share", "resource", "add", "citizen", "--dept", "health", "--gateway", "gw-lab", "--service",
               "citizen-api", "--class", "open").code == 0
    r = cli("boss", "share", "request", "citizen", "--dept", "tax", "--purpose", "x", "--until", UNTIL)
    assert r.code == 0, r.err  # tax's dedicated zone -> the public zone crosses the gateway
    from cloudctl.cloud.departments import create_department

    create_department(shared[0], BOSS, code="edu", name="教育厅", division="53")  # class A, public zone
    r = cli("boss", "share", "request", "citizen", "--dept", "edu", "--purpose", "x", "--until", UNTIL)
    assert r.code == 2 and "without gateway 'gw-lab'" in r.err, r.err


def test_revoke_closes_an_active_share_and_withdraws_a_pending_one(shared, cli) -> None:
    store, _ = shared
    assert cli("boss", *ADD, "--class", "conditional").code == 0
    active = as_json(_request(cli, who="boss"))["id"]
    for who in ("fin-head", "data-office", "sec-a"):
        assert cli(who, "request", "approve", str(active)).code == 0
    assert _flow(store).verdict == "allow"
    assert cli("boss", "share", "revoke", str(active), "--reason", "done").code == 2  # --yes in a pipe
    revoked = as_json(cli("boss", "share", "revoke", str(active), "--reason", "audit closed", "--yes",
                          "--format", "json"))
    assert (revoked["was"], revoked["state"]) == ("active", "revoked")
    assert _flow(store).rule == "revoked"
    assert cli("boss", "share", "revoke", str(active), "--reason", "again", "--yes").code == 1
    pending = as_json(cli("boss", "share", "request", "fin-payments", "--dept", "health", "--purpose", "x",
                          "--until", UNTIL, "--format", "json"))["id"]
    assert as_json(cli("boss", "share", "revoke", str(pending), "--reason", "no longer needed", "--yes",
                       "--format", "json"))["was"] == "pending"
    assert as_json(cli("boss", "request", "show", str(pending), "--format", "json"))["status"] == "withdrawn"
    assert cli("fin-head", "request", "approve", str(pending)).code == 1  # the reviewers are no longer asked
    states = {s["id"]: s["state"] for s in as_json(cli("boss", "share", "list", "--format", "json"))}
    assert states == {active: "revoked", pending: "revoked"}
    actions = _audited(store)
    assert actions.count("share.revoke") == 2 and "share.request" in actions


def test_retiring_a_resource_closes_its_shares(shared, cli) -> None:
    store, _ = shared
    assert cli("boss", *ADD, "--class", "conditional").code == 0
    sid = as_json(_request(cli, who="boss"))["id"]
    for who in ("fin-head", "data-office", "sec-a"):
        cli(who, "request", "approve", str(sid))
    assert _flow(store).verdict == "allow"
    retired = as_json(cli("boss", "share", "resource", "retire", "fin-payments", "--yes", "--format", "json"))
    assert retired["closed_shares"] == [sid]
    assert _flow(store).verdict == "deny"
    assert _request(cli, who="boss").code == 2  # retired: no new requests


def test_a_share_the_reimported_policy_cannot_place_opens_nothing(shared, cli, tmp_path) -> None:
    import yaml

    from cloudctl.gateway.policy import load_policy
    from cloudctl.gateway.stored import import_policy
    from tests.sharing.conftest import BOSS, LAB_POLICY

    store, _ = shared
    assert cli("boss", *ADD, "--class", "conditional").code == 0
    sid = as_json(_request(cli, who="boss"))["id"]
    for who in ("fin-head", "data-office", "sec-a"):
        cli(who, "request", "approve", str(sid))
    data = yaml.safe_load(LAB_POLICY.read_text())
    data["departments"] = [d for d in data["departments"] if d["name"] != "tax"]
    data["zones"]["tax"]["department"] = "finance"  # the tax zone now belongs to nobody sharing
    data["zones"].pop("tax")
    data["gateway"]["interfaces"] = [i for i in data["gateway"]["interfaces"] if i["name"] != "ccgw-tax"]
    data["services"] = [s for s in data["services"] if s["department"] != "tax"]
    data["publications"] = [p for p in data["publications"] if not p["service"].startswith("tax")]
    path = tmp_path / "v2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    import_policy(store, BOSS, load_policy(path), approval_policy="gateway")
    policy = load_stored_policy(store, "gw-lab")
    assert policy.shares == [] and len(policy.dropped_shares) == 1 and "unknown department 'tax'" in \
        policy.dropped_shares[0]
    analyzed = cli("boss", "gateway", "analyze", "gw-lab", "--format", "json")
    assert analyzed.code == 0 and f"left out: share {sid}" in analyzed.err
    assert len(json.loads(analyzed.out)["dropped_shares"]) == 1


def test_a_policy_file_with_shares_is_not_imported(shared, cli, tmp_path) -> None:
    import yaml

    from tests.sharing.conftest import LAB_POLICY

    data = yaml.safe_load(LAB_POLICY.read_text())
    data["shares"] = [{"id": 1, "service": "fin-api", "consumer": "tax", "until": "2030-01-01"}]
    path = tmp_path / "with-shares.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    r = cli("boss", "gateway", "import", str(path))
    assert r.code == 2 and "data shares are not imported" in r.err and "may not" not in r.err


def _audited(store: Any) -> list[str]:
    with store.connect() as conn:
        return [r[0] for r in conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq))]


def test_share_list_json_shape(shared, cli) -> None:
    assert cli("boss", *ADD, "--class", "open").code == 0
    as_json(_request(cli, who="boss"))
    rows = as_json(cli("boss", "share", "list", "--format", "json"))
    assert set(rows[0]) >= {"id", "resource", "class", "owner", "consumer", "gateway", "service", "ports", "until",
                            "state", "requested_at", "decided_at", "approval_seconds", "deadline_at", "overdue"}
    assert json.dumps(rows)  # plain data
