"""Onboarding, plan/apply, drift and ownership against the real OpenStack dev stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudctl.cloud.departments import retire_department, set_member, show_department
from cloudctl.cloud.model import MANAGED_TAG, dept_tag, resource_marker
from cloudctl.cloud.openstack_adapter import OpenStackCloud
from cloudctl.cloud.reconcile import apply_plan, make_plan
from tests.cloud.conftest import DevCloud
from tests.cloud.helpers import ACTOR, add_departments, admin_conn, cloud_store, run_cli

pytestmark = pytest.mark.openstack


def _apply(store, cloud: OpenStackCloud, only=None):  # type: ignore[no-untyped-def]
    result = make_plan(store, cloud, only=only)
    return result, apply_plan(store, cloud, result, ACTOR)


def test_onboard_creates_everything_and_second_apply_changes_nothing(dev_cloud: DevCloud, tmp_path: Path,
                                                                     code_prefix: str) -> None:
    store = cloud_store(tmp_path)
    codes = add_departments(store, code_prefix, 2)
    set_member(store, ACTOR, codes[0], "alice", "member")
    cloud = OpenStackCloud(dev_cloud.name)
    _, results = _apply(store, cloud)
    assert [r.ok for r in results] == [True, True], [r.error for r in results]

    conn = admin_conn()
    public = conn.network.find_network("public")
    for code in codes:
        with store.connect() as c:
            dept = show_department(c, code)
        project = conn.identity.find_project(f"dept-{code}", domain_id="default")
        assert project is not None and {MANAGED_TAG, dept_tag(code)} <= set(project.tags)
        net = conn.network.find_network(f"dept-{code}-net", project_id=project.id)
        subnet = conn.network.find_subnet(f"dept-{code}-subnet", project_id=project.id)
        router = conn.network.find_router(f"dept-{code}-router", project_id=project.id)
        sg = conn.network.find_security_group(f"dept-{code}-baseline", project_id=project.id)
        assert net and subnet and router and sg
        assert {o.description for o in (net, subnet, router, sg)} == {resource_marker(code)}
        assert subnet.cidr == dept["cidr"] and subnet.network_id == net.id
        assert router.external_gateway_info["network_id"] == public.id
        ports = list(conn.network.ports(device_id=router.id, device_owner="network:router_interface"))
        assert [ip["subnet_id"] for p in ports for ip in p.fixed_ips] == [subnet.id]
        ingress = {(r["protocol"], r["port_range_min"], r["remote_ip_prefix"])
                   for r in sg.security_group_rules if r["direction"] == "ingress"}
        assert ingress == {("icmp", None, "0.0.0.0/0"), ("tcp", 22, dept["cidr"])}
        compute = conn.compute.get_quota_set(project.id)  # Nova reports the Keystone unified limits
        volume = conn.block_storage.get_quota_set(project.id)
        network = conn.network.get_quota(project.id)
        assert (compute.cores, compute.ram, compute.instances) == (
            dept["quotas"]["vcpus"], dept["quotas"]["ram"], dept["quotas"]["instances"])
        assert (volume.volumes, volume.gigabytes) == (dept["quotas"]["volumes"], dept["quotas"]["gigabytes"])
        assert network.networks == dept["quotas"]["networks"]
        assert {r["kind"] for r in dept["resources"]} >= {"project", "network", "subnet", "router",
                                                           "security_group"}
    alice = conn.identity.find_user(f"{codes[0]}.alice", domain_id="default")
    assignments = list(conn.identity.role_assignments(user_id=alice.id))
    member_role = conn.identity.find_role("member")
    assert [(a.role["id"], a.scope["project"]["id"]) for a in assignments] == [
        (member_role.id, conn.identity.find_project(f"dept-{codes[0]}", domain_id="default").id)]

    again = make_plan(store, cloud)
    assert again.actions == []
    _, results = _apply(store, cloud)
    assert results == []


def test_drift_shows_in_plan_and_apply_repairs_it(dev_cloud: DevCloud, tmp_path: Path, code_prefix: str) -> None:
    store = cloud_store(tmp_path)
    [code] = add_departments(store, code_prefix, 1)
    cloud = OpenStackCloud(dev_cloud.name)
    _apply(store, cloud)
    conn = admin_conn()
    project = conn.identity.find_project(f"dept-{code}", domain_id="default")
    # by hand, the way an operator changes a Nova quota on a unified-limits cloud
    [vcpu] = [lim for lim in conn.identity.limits(project_id=project.id) if lim.resource_name == "class:VCPU"]
    conn.identity.update_limit(vcpu, resource_limit=77)
    router = conn.network.find_router(f"dept-{code}-router", project_id=project.id)
    subnet = conn.network.find_subnet(f"dept-{code}-subnet", project_id=project.id)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_subnet(subnet)
    conn.network.update_router(router, description="edited by hand")

    r = run_cli(["cloud", "plan", "--cloud", dev_cloud.name, "--format", "json"], store.url)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    got = {(a["op"], a["kind"], a["name"], json.dumps(a["before"]), json.dumps(a["after"]))
           for a in plan["departments"][code]}
    assert ("update", "quota", "vcpus", "77", "20") in got
    assert any(op == "create" and kind == "subnet" for op, kind, *_ in got)
    assert any(op == "create" and kind == "router_interface" for op, kind, *_ in got)
    assert ("update", "router_description", router.name, '"edited by hand"', json.dumps(resource_marker(code))) in got

    r = run_cli(["cloud", "apply", "--cloud", dev_cloud.name], store.url)
    assert r.returncode == 0, r.stderr
    [vcpu] = [lim for lim in conn.identity.limits(project_id=project.id) if lim.resource_name == "class:VCPU"]
    assert vcpu.resource_limit == 20
    assert conn.compute.get_quota_set(project.id).cores == 20  # and Nova enforces the Keystone limit
    assert conn.network.find_subnet(f"dept-{code}-subnet", project_id=project.id) is not None
    assert conn.network.get_router(router.id).description == resource_marker(code)
    r = run_cli(["cloud", "plan", "--cloud", dev_cloud.name], store.url)
    assert "No changes." in r.stdout, r.stdout


def test_foreign_resources_are_never_touched(dev_cloud: DevCloud, tmp_path: Path, code_prefix: str) -> None:
    store = cloud_store(tmp_path)
    code, other = add_departments(store, code_prefix, 2)
    conn = admin_conn()
    # someone made a project with the name cloudctl would use, without cloudctl's tag
    squatter = conn.identity.create_project(name=f"dept-{other}", domain_id="default")
    cloud = OpenStackCloud(dev_cloud.name)
    _, results = _apply(store, cloud)
    by = {r.dept: r for r in results}
    assert by[code].ok and not by[other].ok and "did not create" in (by[other].error or "")
    assert conn.identity.get_project(squatter.id).tags == []

    project = conn.identity.find_project(f"dept-{code}", domain_id="default")
    hand_net = conn.network.create_network(name="hand-made", project_id=project.id)
    plan = make_plan(store, cloud, only=[code])
    assert plan.actions == []  # the hand-made network is not in any plan

    retire_department(store, ACTOR, code)
    plan = make_plan(store, cloud, only=[code])
    deleted = {(a.kind, a.name) for a in plan.actions}
    assert ("network", f"dept-{code}-net") in deleted and ("project", f"dept-{code}") not in deleted
    _apply(store, cloud, only=[code])
    assert conn.network.get_network(hand_net.id).name == "hand-made"
    assert conn.network.find_network(f"dept-{code}-net", project_id=project.id) is None
    assert conn.identity.find_project(f"dept-{code}", domain_id="default") is not None  # kept: not empty
    with store.connect() as c:
        assert show_department(c, code)["cidr"] is None  # the subnet went back to the address plan
    conn.network.delete_network(hand_net)
    conn.identity.delete_project(squatter)


def test_apply_reports_per_department_and_exits_3_on_partial_failure(dev_cloud: DevCloud, tmp_path: Path,
                                                                    code_prefix: str) -> None:
    store = cloud_store(tmp_path)
    good, bad = add_departments(store, code_prefix, 2)
    conn = admin_conn()
    squatter = conn.identity.create_project(name=f"dept-{bad}", domain_id="default")
    r = run_cli(["cloud", "apply", "--cloud", dev_cloud.name, "--format", "json"], store.url)
    assert r.returncode == 3, r.stderr
    rows = {row["dept"]: row for row in json.loads(r.stdout)["results"]}
    assert rows[good]["result"] == "ok" and rows[bad]["result"] == "FAILED"
    assert bad in r.stderr
    conn.identity.delete_project(squatter)
    r = run_cli(["cloud", "apply", "--cloud", dev_cloud.name], store.url)
    assert r.returncode == 0, r.stderr


def test_cloud_comes_only_from_clouds_yaml(dev_cloud: DevCloud, tmp_path: Path) -> None:
    store = cloud_store(tmp_path)
    r = run_cli(["cloud", "plan", "--cloud", "no-such-cloud"], store.url)
    assert r.returncode == 2 and "no-such-cloud" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(["cloud", "plan"], store.url, env={"CLOUDCTL_CLOUD": "", "OS_CLOUD": ""})
    assert r.returncode == 2 and "--cloud" in r.stderr
