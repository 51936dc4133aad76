"""Idle lifecycle against the real cloud: a stopped server, an unattached volume, an unassociated
floating IP; the clock is injected from the resources' own OpenStack timestamps."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cloudctl.cloud_ops.idle import IdlePolicy
from cloudctl.cloud_ops.openstack_ops import CloudOps
from cloudctl.cloud_ops.reclaim import extend, load_records, plan_reclaim, run_reclaim, scan_cloud
from cloudctl.cloud_ops.showback import parse_time
from cloudctl.store.tables.core import audit_log
from tests.cloud.helpers import ACTOR, admin_conn, run_cli
from tests.cloud_ops.conftest import Dept
from tests.cloud_ops.helpers import make_server, make_volume, stop_server, wait_gone

pytestmark = pytest.mark.openstack
N, GRACE = 30, 7


def _audit(store, action: str | None = None) -> int:  # type: ignore[no-untyped-def]
    q = select(func.count()).select_from(audit_log)
    if action:
        q = q.where(audit_log.c.action == action)
    with store.connect() as c:
        return int(c.execute(q).scalar_one())


def test_scan_warn_extend_reclaim_against_real_resources(applied_dept: Dept) -> None:
    d = applied_dept
    ops = CloudOps(d.cloud)
    conn = admin_conn()
    server = make_server(ops, d.project_id, "idle-srv")
    busy = make_server(ops, d.project_id, "busy-srv")
    vol = make_volume(ops, d.project_id, "idle-vol", 1)
    public = conn.network.find_network("public")
    fip = conn.network.create_ip(floating_network_id=public.id, project_id=d.project_id)
    stopped = stop_server(conn, server["id"])
    since = max(parse_time(stopped.updated_at), parse_time(conn.block_storage.get_volume(vol["id"]).updated_at))
    # servers by delete here: the dev stack's fake hypervisor fails snapshots of stopped servers now and
    # then (Nova then removes the image; cloudctl keeps the server and records the failure)
    policy = IdlePolicy(days=N, grace_days=GRACE, actions={"server": "delete", "volume": "delete",
                                                            "floating_ip": "delete"})

    early = scan_cloud(d.store, ops, now=since + timedelta(days=N - 1), policy=policy, depts=[d.code])
    assert {f.id for f in early} == {fip.id}  # floating IPs: idle at once (fip_days=0)
    now = since + timedelta(days=N, minutes=1)
    found = scan_cloud(d.store, ops, now=now, policy=policy, depts=[d.code])
    assert {(f.kind, f.id) for f in found} == {("server", server["id"]), ("volume", vol["id"]),
                                               ("floating_ip", fip.id)}
    assert busy["id"] not in {f.id for f in found}

    # CLI scan agrees; reclaim --dry-run changes nothing
    now_arg = ["--now", now.isoformat(), "--days", str(N), "--dept", d.code, "--cloud", d.cloud.cloud]
    r = run_cli(["idle", "scan", *now_arg, "--format", "json"], d.db, timeout=300)
    assert r.returncode == 0, r.stderr
    assert {x["id"] for x in json.loads(r.stdout)} == {f.id for f in found}
    audit0 = _audit(d.store)
    r = run_cli(["idle", "reclaim", *now_arg, "--dry-run", "--format", "json"], d.db, timeout=300)
    assert r.returncode == 0, r.stderr
    assert {x["op"] for x in json.loads(r.stdout)} == {"warn"} and _audit(d.store) == audit0
    assert load_records(d.store) == {}

    # warn: one summarising audit record; a rerun at the same moment does nothing
    steps = plan_reclaim(d.store, ops, now=now, policy=policy, depts=[d.code])
    run_reclaim(d.store, ops, ACTOR, steps, now=now)
    recs = load_records(d.store)
    assert {k: v["state"] for k, v in recs.items()} == {server["id"]: "warned", vol["id"]: "warned",
                                                         fip.id: "warned"}
    assert _audit(d.store, "idle.warn") == 1
    again = plan_reclaim(d.store, ops, now=now, policy=policy, depts=[d.code])
    assert {s.op for s in again} == {"wait"}
    assert run_reclaim(d.store, ops, ACTOR, again, now=now) == []

    # extend the volume: at the end of the normal grace period the others are reclaimed, it waits
    extend(d.store, ACTOR, vol["id"], 3, now=now)
    assert _audit(d.store, "idle.extend") == 1
    later = now + timedelta(days=GRACE, minutes=1)
    steps = plan_reclaim(d.store, ops, now=later, policy=policy, depts=[d.code])
    assert {s.resource_id: s.op for s in steps} == {server["id"]: "reclaim", vol["id"]: "wait", fip.id: "reclaim"}
    done = run_reclaim(d.store, ops, ACTOR, steps, now=later)
    assert {x["id"]: x["result"] for x in done} == {server["id"]: "reclaimed", fip.id: "reclaimed"}
    wait_gone(lambda: conn.compute.find_server(server["id"], ignore_missing=True))
    assert conn.network.find_ip(fip.id, ignore_missing=True) is None
    assert conn.compute.get_server(busy["id"]).status == "ACTIVE"  # untouched
    assert _audit(d.store, "idle.reclaim") == 2

    # the volume goes after its extension, through the CLI (non-interactive: --yes required)
    assert run_cli(["role", "bootstrap"], d.db).returncode == 0
    final = ["--now", (later + timedelta(days=3)).isoformat(), "--days", str(N), "--dept", d.code,
             "--cloud", d.cloud.cloud, "--grace", str(GRACE), "--server-action", "delete"]
    r = run_cli(["idle", "reclaim", *final], d.db, timeout=300)
    assert r.returncode == 2 and "--yes" in r.stderr
    r = run_cli(["idle", "reclaim", *final, "--yes", "--format", "json"], d.db, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [(x["id"], x["result"]) for x in json.loads(r.stdout)] == [(vol["id"], "reclaimed")]
    r = run_cli(["idle", "reclaim", *final, "--yes", "--format", "json"], d.db, timeout=300)
    assert r.returncode == 0, r.stderr
    assert all(x["op"] == "done" for x in json.loads(r.stdout)), r.stdout  # idempotent: nothing left to do
    assert _audit(d.store, "idle.reclaim") == 3


def test_denied_reclaim_changes_nothing_and_writes_one_audit_record(applied_dept: Dept) -> None:
    d = applied_dept
    r = run_cli(["role", "bootstrap"], d.db)
    assert r.returncode == 0, r.stderr
    before = _audit(d.store)
    args = ["idle", "reclaim", "--dept", d.code, "--days", "0", "--yes", "--cloud", d.cloud.cloud]
    r = run_cli(args, d.db, env={"CLOUDCTL_AS": "mallory"})
    assert r.returncode == 1 and "may not idle.reclaim" in r.stderr
    assert _audit(d.store) == before + 1 and _audit(d.store, "power.deny") == 1
    assert load_records(d.store) == {}


def test_snapshot_reclaim_keeps_an_image_of_the_server_before_deleting_it(applied_dept: Dept) -> None:
    """The default server action against the real cloud. The dev stack's fake hypervisor fails a
    snapshot now and then: then the server must still be there (recorded as failed) and the next
    reclaim run tries again; within a few runs the image exists in Glance and the server is gone."""
    d = applied_dept
    ops = CloudOps(d.cloud)
    conn = admin_conn()
    server = make_server(ops, d.project_id, "snap-srv")
    stopped = stop_server(conn, server["id"])
    policy = IdlePolicy(days=N, grace_days=GRACE, actions={"server": "snapshot"})
    now = parse_time(stopped.updated_at) + timedelta(days=N, minutes=1)
    run_reclaim(d.store, ops, ACTOR, plan_reclaim(d.store, ops, now=now, policy=policy, depts=[d.code]), now=now)
    later = now + timedelta(days=GRACE, minutes=1)
    results = []
    for attempt in range(5):  # bounded: each failed attempt must have kept the server
        steps = [s for s in plan_reclaim(d.store, ops, now=later + timedelta(minutes=attempt), policy=policy,
                                         depts=[d.code]) if s.resource_id == server["id"]]
        assert [(s.op, s.action) for s in steps] == [("reclaim", "snapshot")], steps
        (res,) = run_reclaim(d.store, ops, ACTOR, steps, now=later + timedelta(minutes=attempt))
        results.append(res)
        if res["result"] == "reclaimed":
            break
        assert res["result"] == "failed" and res.get("error"), res
        assert conn.compute.find_server(server["id"], ignore_missing=True) is not None  # never lost
    assert results[-1]["result"] == "reclaimed", results
    image = conn.image.find_image(results[-1]["image_id"], ignore_missing=True)
    assert image is not None and image.name == f"reclaimed-{server['id']}"
    wait_gone(lambda: conn.compute.find_server(server["id"], ignore_missing=True))
    assert load_records(d.store)[server["id"]]["state"] == "reclaimed"
    conn.image.delete_image(image.id, ignore_missing=True)
