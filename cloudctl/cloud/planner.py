"""The pure planner: desired departments vs what OpenStack holds -> ordered actions.

No I/O. Actions for one department come in dependency order (project before network, network
before subnet, router interface after both); deletions in reverse order. Resources cloudctl did
not create never appear in a plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudctl.cloud.model import (
    Action,
    DesiredDept,
    Observed,
    ObservedDept,
    baseline_rules,
    project_name,
    resource_marker,
    resource_name,
    user_name,
)


def plan(desired: Iterable[DesiredDept], observed: Observed, *, external_network: str | None = None,
         only: set[str] | None = None) -> list[Action]:
    """All actions, department by department (sorted by code)."""
    actions: list[Action] = []
    for dept in sorted(desired, key=lambda d: d.code):
        if only is not None and dept.code not in only:
            continue
        have = observed.depts.get(dept.code, ObservedDept())
        if dept.status == "retired":
            actions += plan_removal(dept.code, have)
        else:
            actions += plan_department(dept, have, external_network=external_network,
                                       external_network_id=observed.external_network_id)
    return actions


def _mark_action(code: str, kind: str, name: str, current: dict) -> list[Action]:
    """Put cloudctl's ownership mark (the description) back on an object that lost it by hand."""
    want = resource_marker(code)
    if current.get("description") != want:
        return [Action(code, "update", f"{kind}_description", name, current.get("description"), want)]
    return []


def plan_department(dept: DesiredDept, have: ObservedDept, *, external_network: str | None,
                    external_network_id: str | None) -> list[Action]:
    code = dept.code
    out: list[Action] = []
    pname = project_name(code)
    if have.project is None:
        out.append(Action(code, "create", "project", pname, None, {"description": dept.name}))
    elif have.project.description != dept.name:
        out.append(Action(code, "update", "project", pname, have.project.description, dept.name))

    for username, role in sorted(dept.members.items()):
        uname = user_name(code, username)
        if username not in have.users:
            out.append(Action(code, "create", "user", uname))
        if have.members.get(username) != role:
            out.append(Action(code, "update", "role", uname, have.members.get(username), role))
    for username in sorted(set(have.members) - set(dept.members)):
        out.append(Action(code, "delete", "role", user_name(code, username), have.members[username], None))
    for username in sorted(set(have.users) - set(dept.members)):
        out.append(Action(code, "delete", "user", user_name(code, username)))

    for resource, value in sorted(dept.quotas.items()):
        if have.quotas.get(resource) != value:
            out.append(Action(code, "update", "quota", resource, have.quotas.get(resource), value))

    net, sub = resource_name(code, "network"), resource_name(code, "subnet")
    if have.network is None:
        out.append(Action(code, "create", "network", net))
    else:
        out += _mark_action(code, "network", net, have.network)
    if dept.cidr:
        if have.subnet is None:
            out.append(Action(code, "create", "subnet", sub, None, dept.cidr))
        elif have.subnet["cidr"] != dept.cidr:  # a subnet's CIDR cannot change: replace it
            if have.router and have.subnet["id"] in have.router.get("subnet_ids", ()):
                out.append(Action(code, "delete", "router_interface", resource_name(code, "router"), sub, None))
            out.append(Action(code, "delete", "subnet", sub, have.subnet["cidr"], None))
            out.append(Action(code, "create", "subnet", sub, None, dept.cidr))
            have = _without_subnet(have)
        else:
            out += _mark_action(code, "subnet", sub, have.subnet)

    rname = resource_name(code, "router")
    if external_network:
        if have.router is None:
            out.append(Action(code, "create", "router", rname, None, external_network))
        else:
            out += _mark_action(code, "router", rname, have.router)
            if have.router.get("external_network_id") != external_network_id:
                out.append(Action(code, "update", "router_gateway", rname,
                                  have.router.get("external_network_id"), external_network))
        subnet_attached = (have.router is not None and have.subnet is not None
                           and have.subnet["id"] in have.router.get("subnet_ids", ()))
        if dept.cidr and not subnet_attached:
            out.append(Action(code, "create", "router_interface", rname, None, sub))
    elif have.router is not None:
        out += _router_removal(code, have)

    for kind, os_id in have.duplicates:
        out.append(Action(code, "delete", f"duplicate_{kind}", resource_name(code, kind), os_id, None))

    sg = resource_name(code, "security_group")
    want_rules = baseline_rules(dept.cidr)
    have_rules = dict(have.security_group["rules"]) if have.security_group else {}
    if have.security_group is None:
        out.append(Action(code, "create", "security_group", sg))
    else:
        out += _mark_action(code, "security_group", sg, have.security_group)
    for rule in sorted(want_rules - set(have_rules), key=repr):
        out.append(Action(code, "create", "rule", sg, None, rule))
    for rule in sorted(set(have_rules) - want_rules, key=repr):
        out.append(Action(code, "delete", "rule", sg, rule, None))
    return out


def _without_subnet(have: ObservedDept) -> ObservedDept:
    router = dict(have.router) if have.router else None
    if router and have.subnet:
        router["subnet_ids"] = [s for s in router.get("subnet_ids", ()) if s != have.subnet["id"]]
    return ObservedDept(project=have.project, network=have.network, subnet=None, router=router,
                        security_group=have.security_group, quotas=have.quotas, members=have.members,
                        users=have.users, foreign=have.foreign)


def _router_removal(code: str, have: ObservedDept) -> list[Action]:
    rname = resource_name(code, "router")
    out = []
    if have.router and have.subnet and have.subnet["id"] in have.router.get("subnet_ids", ()):
        out.append(Action(code, "delete", "router_interface", rname, resource_name(code, "subnet"), None))
    if have.router:
        out.append(Action(code, "delete", "router", rname))
    return out


def plan_removal(code: str, have: ObservedDept) -> list[Action]:
    """Everything cloudctl created for a retired department, in reverse dependency order.

    The project itself is kept when it still holds resources cloudctl did not create.
    """
    out = [Action(code, "delete", f"duplicate_{kind}", resource_name(code, kind), os_id, None)
           for kind, os_id in have.duplicates]
    out += _router_removal(code, have)
    if have.subnet:
        out.append(Action(code, "delete", "subnet", resource_name(code, "subnet")))
    if have.network:
        out.append(Action(code, "delete", "network", resource_name(code, "network")))
    if have.security_group:
        out.append(Action(code, "delete", "security_group", resource_name(code, "security_group")))
    for username in sorted(have.users):
        out.append(Action(code, "delete", "user", user_name(code, username)))
    if have.project is not None and have.foreign == 0:
        out.append(Action(code, "delete", "project", project_name(code)))
    return out


def summarise(actions: Iterable[Action]) -> dict[str, int]:
    counts = {"create": 0, "update": 0, "delete": 0}
    for a in actions:
        counts[a.op] += 1
    return counts
