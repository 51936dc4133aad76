"""Resource requests through the approval engine, applied to the real cloud."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloudctl.action import Context
from cloudctl.approvals import cast_vote, set_policy, show_request
from cloudctl.approvals.appliers import apply_approved, apply_request
from cloudctl.audit import Actor
from cloudctl.cloud.departments import show_department
from cloudctl.cloud_ops import requests as resource_requests
from cloudctl.cloud_ops.openstack_ops import CloudOps
from cloudctl.store.tables.approvals import approval_request
from cloudctl.store.tables.core import audit_log
from tests.cloud.helpers import ACTOR, admin_conn, run_cli
from tests.cloud_ops.conftest import Dept

pytestmark = pytest.mark.openstack
POLICY = {"name": "res", "deadline": "48h",
          "groups": [{"name": "finance", "members": ["fin"], "rule": "any"},
                     {"name": "ops", "members": ["ops1", "ops2"], "rule": "all"}],
          "auto_approve": {"kinds": ["quota-increase", "server", "volume"],
                           "max": {"vcpus": 2, "ram": 2048, "instances": 2, "gigabytes": 10}}}


def _ctx(d: Dept) -> Context:
    return Context(store=d.store, actor=ACTOR, cloud=lambda: d.cloud)


def _appliers() -> dict:
    from cloudctl.wiring import appliers

    return appliers()


def test_auto_approved_quota_and_servers_are_applied_and_bigger_ones_wait_for_votes(applied_dept: Dept,
                                                                                     tmp_path: Path) -> None:
    d = applied_dept
    with d.store.begin() as c:
        set_policy(c, POLICY, ACTOR)
        before = show_department(c, d.code)["quotas"]
    conn = admin_conn()

    # inside the tier: approved at creation and applied to OpenStack through plan/apply
    from cloudctl.approvals import create_request

    with d.store.begin() as c:
        small = create_request(c, ACTOR, kind="quota-increase", payload={"vcpus": 2}, policy="res", dept=d.code)
    assert small["status"] == "approved"
    out = apply_request(_ctx(d), _appliers(), small["id"])
    assert out and out["apply_status"] == "ok", out
    assert conn.compute.get_quota_set(d.project_id).cores == before["vcpus"] + 2
    # a retried apply (e.g. after a lost answer) does not add twice
    again = resource_requests.apply_quota_increase(d.store, show_request_payload(d, small["id"]), d.cloud)
    assert again["quotas"] == {"vcpus": before["vcpus"] + 2}
    assert conn.compute.get_quota_set(d.project_id).cores == before["vcpus"] + 2

    # above the tier: pending until every group's rule holds, then applied by the sweep's hook
    with d.store.begin() as c:
        big = create_request(c, ACTOR, kind="volume", payload={"size_gb": 6, "count": 2}, policy="res", dept=d.code)
    assert big["status"] == "pending"
    for who in ("fin", "ops1"):
        with d.store.begin() as c:
            cast_vote(c, Actor(who, "pytest"), big["id"], "approve", "ok")
    assert apply_approved(_ctx(d), _appliers()) == []  # ops2 has not voted: nothing to apply
    with d.store.begin() as c:
        assert cast_vote(c, Actor("ops2", "pytest"), big["id"], "approve", "ok")["status"] == "approved"
    applied = apply_approved(_ctx(d), _appliers())
    assert [(a["id"], a["apply_status"]) for a in applied] == [(big["id"], "ok")], applied
    vols = sorted((v.name, v.size, v.status) for v in conn.block_storage.volumes(all_projects=True,
                                                                                   project_id=d.project_id))
    assert vols == [(f"req{big['id']}-vol1", 6, "available"), (f"req{big['id']}-vol2", 6, "available")]
    with d.store.connect() as c:
        shown = show_request(c, big["id"])
    assert shown["apply_status"] == "ok"


def show_request_payload(d: Dept, rid: int) -> dict:
    with d.store.connect() as c:
        row = c.execute(select(approval_request).where(approval_request.c.id == rid)).one()
    return {"id": row.id, "requester": row.requester, "dept": row.dept, "payload": json.loads(row.payload)}


def test_server_request_creates_active_servers_on_the_department_network(applied_dept: Dept) -> None:
    d = applied_dept
    with d.store.begin() as c:
        set_policy(c, POLICY, ACTOR)
    flavor = resource_requests.find_flavor(d.cloud, "m1.tiny")
    assert flavor == CloudOps(d.cloud).find_flavor("m1.tiny")
    from cloudctl.approvals import create_request

    with d.store.begin() as c:
        req = create_request(c, ACTOR, kind="server", payload={"flavor": "m1.tiny", "image": "cloudctl-test-raw",
                                                               "count": 2}, policy="res", dept=d.code, flavor=flavor)
    assert req["status"] == "approved"  # 2 x m1.tiny is inside the tier
    assert req["payload"]["vcpus"] == 2 * flavor["vcpus"] and req["payload"]["ram"] == 2 * flavor["ram"]
    out = apply_request(_ctx(d), _appliers(), req["id"])
    assert out and out["apply_status"] == "ok", out
    conn = admin_conn()
    servers = list(conn.compute.servers(all_projects=True, project_id=d.project_id))
    assert sorted(s.name for s in servers) == [f"req{req['id']}-1", f"req{req['id']}-2"]
    assert all(s.status == "ACTIVE" for s in servers)
    net = conn.network.find_network(f"dept-{d.code}-net", project_id=d.project_id)
    ports = list(conn.network.ports(network_id=net.id, device_owner="compute:nova"))
    assert sorted(p.device_id for p in ports) == sorted(s.id for s in servers)
    # idempotent: applying the same request again creates nothing new
    resource_requests.apply_servers(d.store, show_request_payload(d, req["id"]), d.cloud)
    assert len(list(conn.compute.servers(all_projects=True, project_id=d.project_id))) == 2


def test_denied_request_creates_nothing_and_one_audit_record(applied_dept: Dept) -> None:
    d = applied_dept
    with d.store.begin() as c:
        set_policy(c, POLICY, ACTOR)
    assert run_cli(["role", "bootstrap"], d.db).returncode == 0
    with d.store.connect() as c:
        n_audit = c.execute(select(func.count()).select_from(audit_log)).scalar_one()
    from click.testing import CliRunner

    from cloudctl.cli.context import AppContext
    from cloudctl.cli.request_resources import quota_cmd

    app = AppContext(db_flag=d.db, actor_flag="mallory", argv=["request", "quota"])
    res = CliRunner().invoke(quota_cmd, ["--vcpus", "1", "--dept", d.code, "--policy", "res"], obj=app)
    assert res.exit_code != 0 and "may not request.create" in str(res.exception)
    with d.store.connect() as c:
        assert c.execute(select(func.count()).select_from(audit_log)).scalar_one() == n_audit + 1
        assert c.execute(select(func.count()).select_from(approval_request)).scalar_one() == 0


def test_the_deciding_vote_on_the_command_line_applies_the_request(applied_dept: Dept) -> None:
    """`request quota` above the tier waits; the last reviewer's `request approve` carries it out
    in the real cloud and records the result on the request (no sweep needed)."""
    d = applied_dept
    with d.store.begin() as c:
        set_policy(c, POLICY, ACTOR)
        before = show_department(c, d.code)["quotas"]
    assert run_cli(["role", "bootstrap"], d.db).returncode == 0  # the OS user administers
    assert run_cli(["role", "create", "reviewer", "--allow", "request.approve"], d.db).returncode == 0
    for who in ("fin", "ops1", "ops2"):
        assert run_cli(["role", "grant", "reviewer", who], d.db).returncode == 0
    filed = run_cli(["request", "quota", "--dept", d.code, "--vcpus", "5", "--policy", "res", "--format", "json"], d.db)
    assert filed.returncode == 0, filed.stderr
    rid = str(json.loads(filed.stdout)["id"])
    assert json.loads(filed.stdout)["status"] == "pending"  # 5 vCPUs is above the tier of 2
    conn = admin_conn()
    for who in ("fin", "ops1"):
        vote = run_cli(["request", "approve", rid, "--format", "json"], d.db, env={"CLOUDCTL_AS": who})
        assert vote.returncode == 0 and json.loads(vote.stdout)["status"] == "pending", vote.stderr
    assert conn.compute.get_quota_set(d.project_id).cores == before["vcpus"]  # nothing applied yet
    last = run_cli(["request", "approve", rid, "--format", "json"], d.db, env={"CLOUDCTL_AS": "ops2"})
    assert last.returncode == 0, last.stderr
    out = json.loads(last.stdout)
    assert (out["status"], out["apply_status"]) == ("approved", "ok"), out
    assert conn.compute.get_quota_set(d.project_id).cores == before["vcpus"] + 5
    with d.store.connect() as c:
        shown = show_request(c, int(rid))
    assert shown["apply_status"] == "ok"
    sweep = run_cli(["request", "sweep", "--format", "json"], d.db)
    assert sweep.returncode == 0 and json.loads(sweep.stdout)["applied"] == []  # applied once, not again
