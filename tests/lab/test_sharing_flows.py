"""Data shares with real packets: a client in the tax department's dedicated zone and finance's fin-api
in finance's, through the gateway deployed by `cloudctl gateway deploy gw-lab` (the stored gateway:
approved publications and approved shares) → ansible-runner → ssh → nft, as an operator would.

In file order, on the lab the gateway tests left (they run first; each test here redeploys):
1. before approval (even with the request filed) the client cannot reach the service;
2. after the approving votes and a deploy it connects, to the granted port only, and only that way;
3. `share revoke` closes it at the next deploy;
4. a share past its last day (`gateway deploy --at` after `until`) is closed too.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from .conftest import GATEWAY, LAB_POLICY, REPO, LabContext, PacketLab

pytestmark = [pytest.mark.netns, pytest.mark.ansible]

CLIENT, SERVICE = "10.22.0.20", "10.21.0.5"  # tax's dedicated zone -> finance's dedicated zone
GRANTED = (CLIENT, SERVICE, 443, "tcp")
NOT_GRANTED = [(CLIENT, SERVICE, 8443, "tcp"),  # a port of fin-api the share does not grant
               ("10.21.0.20", "10.22.0.5", 443, "tcp"),  # the reverse direction
               (CLIENT, "10.21.0.6", 8443, "tcp")]  # another service of finance
PUBLISHED = ("172.30.0.10", "10.10.0.5", 443, "tcp")  # citizen-https: the approved publications still work
REVIEWERS = ("fin-head", "data-office", "sec-a")
SHARE_POLICY = {"name": "share-finance", "deadline": "48h",
                "groups": [{"name": "owner", "members": ["fin-head"], "rule": "any"},
                           {"name": "data-authority", "members": ["data-office"], "rule": "any"},
                           {"name": "security", "members": ["sec-a"], "rule": "any"}]}


def cli_json(lab: LabContext, *args: str) -> dict[str, Any]:
    out = lab.cli(*args, "--format", "json")
    assert out.returncode == 0, f"cloudctl {' '.join(args)}: exit {out.returncode}: {out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def deploy(lab: LabContext, *extra: str) -> None:
    result = cli_json(lab, "gateway", "deploy", GATEWAY, "--confirm-within", "0", *extra)
    assert result["status"] == "confirmed", result


def connects(pl: PacketLab, *flows: tuple[str, str, int, str]) -> list[bool]:
    return [r["ok"] for r in pl.probe(list(flows))]


@pytest.fixture(scope="module")
def sharing(lab: LabContext) -> dict[str, Any]:
    """Departments, reviewers and policies in the lab's store; the lab policy imported, its publications
    approved by a tier that names gateway-publication; fin-api of finance in the catalogue."""
    from cloudctl.approvals import set_policy
    from cloudctl.audit import Actor
    from cloudctl.cloud.departments import create_department
    from cloudctl.divisions.importer import import_division_files
    from cloudctl.ipam import create_pool
    from cloudctl.power import create_role, grant_role

    actor = Actor("lab-tester", "pytest tests/lab/test_sharing_flows.py")
    store = lab.store
    import_division_files(store, [REPO / "tests" / "fixtures" / "divisions" / "provinces.csv"], actor)
    with store.begin() as conn:
        create_pool(conn, "10.0.0.0/16", "departments", None, actor)
        set_policy(conn, {"name": "gateway-lab", "groups": [{"name": "security", "members": ["sec-a"],
                                                               "rule": "any"}],
                          "auto_approve": {"kinds": ["gateway-publication"]}}, actor)
        set_policy(conn, SHARE_POLICY, actor)
        create_role(conn, "share-reviewer", ["request.approve", "request.reject"], actor)
        for who in REVIEWERS:
            grant_role(conn, "share-reviewer", who, actor)
    for code, name in (("finance", "财政厅"), ("tax", "税务局")):
        create_department(store, actor, code=code, name=name, division="53")
    imported = lab.cli("gateway", "import", str(LAB_POLICY), "--approval-policy", "gateway-lab", "--format", "json")
    assert imported.returncode == 0, imported.stderr
    assert {r["status"] for r in json.loads(imported.stdout)} == {"approved"}
    cli_json(lab, "share", "resource", "add", "fin-payments", "--dept", "finance", "--gateway", GATEWAY,
             "--service", "fin-api", "--class", "conditional", "--description", "payment status of taxpayers")
    return {}


def _until() -> dt.date:
    from cloudctl import clock

    return clock.current().today() + dt.timedelta(days=30)


def test_1_before_approval_the_client_cannot_reach_the_service(lab: LabContext, packet_lab: PacketLab,
                                                                 sharing: dict[str, Any]) -> None:
    deploy(lab)
    assert connects(packet_lab, GRANTED, PUBLISHED) == [False, True]
    filed = cli_json(lab, "share", "request", "fin-payments", "--dept", "tax", "--purpose", "tax reconciliation",
                     "--until", _until().isoformat(), "--ports", "443")
    assert filed["status"] == "pending"
    sharing["id"] = filed["id"]
    deploy(lab)  # a pending share opens nothing
    assert connects(packet_lab, GRANTED) == [False]


def test_2_after_the_approving_votes_and_a_deploy_it_connects(lab: LabContext, packet_lab: PacketLab,
                                                               sharing: dict[str, Any]) -> None:
    sid = str(sharing["id"])
    for who in REVIEWERS:
        vote = cli_json(lab, "--as", who, "request", "approve", sid)
    assert vote["status"] == "approved"
    assert connects(packet_lab, GRANTED) == [False]  # approval takes effect at the next deploy
    deploy(lab)
    results = packet_lab.probe([GRANTED, *NOT_GRANTED, PUBLISHED])
    assert [r["ok"] for r in results] == [True, False, False, False, True], results
    assert results[0]["peer"] == CLIENT  # no NAT: the service sees the consumer's own address
    query = cli_json(lab, "gateway", "query", GATEWAY, "--src", CLIENT, "--dst", SERVICE, "--port", "443")
    assert (query["rule"], query["decided_by"]) == ("share", f"share-{sid}")


def test_3_revoked_it_is_refused_again_after_a_redeploy(lab: LabContext, packet_lab: PacketLab,
                                                         sharing: dict[str, Any]) -> None:
    revoked = cli_json(lab, "share", "revoke", str(sharing["id"]), "--reason", "reconciliation done", "--yes")
    assert revoked["state"] == "revoked"
    deploy(lab)
    assert connects(packet_lab, GRANTED, PUBLISHED) == [False, True]


def test_4_past_its_last_day_it_is_refused(lab: LabContext, packet_lab: PacketLab, sharing: dict[str, Any]) -> None:
    until = _until()
    sid = cli_json(lab, "share", "request", "fin-payments", "--dept", "tax", "--purpose", "next quarter",
                   "--until", until.isoformat())["id"]
    for who in REVIEWERS:
        cli_json(lab, "--as", who, "request", "approve", str(sid))
    deploy(lab, "--at", until.isoformat())  # the last day: still in effect
    assert connects(packet_lab, GRANTED) == [True]
    deploy(lab, "--at", (until + dt.timedelta(days=1)).isoformat())
    assert connects(packet_lab, GRANTED, PUBLISHED) == [False, True]


def test_5_leave_the_lab_policy_running(lab: LabContext, packet_lab: PacketLab) -> None:
    """Later tests expect the lab policy as the gateway tests left it."""
    result = cli_json(lab, "gateway", "deploy", str(LAB_POLICY), "--confirm-within", "0")
    assert result["status"] == "confirmed"
    assert connects(packet_lab, GRANTED) == [False]
