"""The pure planner: desired vs observed -> actions (no cloud needed)."""

from __future__ import annotations

from cloudctl.cloud.model import (
    MANAGED_TAG,
    DesiredDept,
    Observed,
    ObservedDept,
    ObservedProject,
    baseline_rules,
    dept_tag,
    resource_marker,
)
from cloudctl.cloud.planner import plan, summarise

QUOTAS = {"vcpus": 10, "ram": 2048, "networks": 2}


def _desired(code: str = "fin", status: str = "active", cidr: str = "10.8.0.0/24") -> DesiredDept:
    return DesiredDept(code, f"Dept {code}", status, cidr, dict(QUOTAS), {"alice": "member"})


def _converged(code: str = "fin", cidr: str = "10.8.0.0/24") -> ObservedDept:
    tags, mark = [MANAGED_TAG, dept_tag(code)], resource_marker(code)
    return ObservedDept(
        project=ObservedProject("p1", f"dept-{code}", tags, f"Dept {code}"),
        network={"id": "n1", "description": mark},
        subnet={"id": "s1", "cidr": cidr, "network_id": "n1", "description": mark},
        router={"id": "r1", "external_network_id": "ext", "subnet_ids": ["s1"], "description": mark},
        security_group={"id": "g1", "rules": {r: f"rule-{i}" for i, r in enumerate(baseline_rules(cidr))},
                        "description": mark},
        quotas=dict(QUOTAS), members={"alice": "member"}, users={"alice": "u1"})


def test_new_department_is_created_in_dependency_order() -> None:
    actions = plan([_desired()], Observed({}, "ext"), external_network="public")
    kinds = [(a.op, a.kind) for a in actions]
    assert kinds.index(("create", "project")) < kinds.index(("create", "network"))
    assert kinds.index(("create", "network")) < kinds.index(("create", "subnet"))
    assert kinds.index(("create", "subnet")) < kinds.index(("create", "router_interface"))
    assert kinds.index(("create", "router")) < kinds.index(("create", "router_interface"))
    assert ("create", "user") in kinds and ("update", "role") in kinds
    assert {a.name for a in actions if a.kind == "quota"} == set(QUOTAS)
    subnet = next(a for a in actions if a.kind == "subnet")
    assert subnet.after == "10.8.0.0/24"


def test_converged_department_plans_nothing() -> None:
    assert plan([_desired()], Observed({"fin": _converged()}, "ext"), external_network="public") == []


def test_drift_shows_hand_changed_quota_and_deleted_subnet() -> None:
    have = _converged()
    have.quotas["vcpus"] = 99
    have.subnet = None
    have.router["subnet_ids"] = []
    actions = plan([_desired()], Observed({"fin": have}, "ext"), external_network="public")
    got = {(a.op, a.kind, a.name) for a in actions}
    assert ("update", "quota", "vcpus") in got
    assert ("create", "subnet", "dept-fin-subnet") in got
    assert ("create", "router_interface", "dept-fin-router") in got
    q = next(a for a in actions if a.kind == "quota")
    assert (q.before, q.after) == (99, 10)


def test_no_router_without_external_network() -> None:
    actions = plan([_desired()], Observed({}, None), external_network=None)
    assert not [a for a in actions if a.kind.startswith("router")]


def test_retired_department_removes_only_what_cloudctl_made_and_keeps_busy_project() -> None:
    have = _converged()
    actions = plan([_desired(status="retired")], Observed({"fin": have}, "ext"), external_network="public")
    kinds = [(a.op, a.kind) for a in actions]
    assert kinds[0] == ("delete", "router_interface")
    assert kinds[-1] == ("delete", "project")
    assert all(op == "delete" for op, _ in kinds)
    have.foreign = 1  # a network someone made by hand in the project
    actions = plan([_desired(status="retired")], Observed({"fin": have}, "ext"), external_network="public")
    assert ("delete", "project") not in [(a.op, a.kind) for a in actions]


def test_ownership_mark_changed_by_hand_is_put_back() -> None:
    have = _converged()
    have.router["description"] = "edited by hand"
    actions = plan([_desired()], Observed({"fin": have}, "ext"), external_network="public")
    assert [(a.op, a.kind, a.before, a.after) for a in actions] == [
        ("update", "router_description", "edited by hand", "cloudctl-managed dept=fin")]


def test_changed_cidr_replaces_subnet() -> None:
    have = _converged(cidr="10.9.0.0/24")
    actions = plan([_desired()], Observed({"fin": have}, "ext"), external_network="public")
    ops = [(a.op, a.kind) for a in actions]
    assert ops.index(("delete", "subnet")) < ops.index(("create", "subnet"))
    assert summarise(actions)["delete"] >= 2


def test_only_limits_scope() -> None:
    actions = plan([_desired("a"), _desired("b")], Observed({}, None), only={"b"})
    assert {a.dept for a in actions} == {"b"}


def test_duplicates_are_deleted_by_id() -> None:
    have = _converged()
    have.duplicates = [("router", "r2")]
    actions = plan([_desired()], Observed({"fin": have}, "ext"), external_network="public")
    assert [(a.op, a.kind, a.before) for a in actions] == [("delete", "duplicate_router", "r2")]
