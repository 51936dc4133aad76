"""Apply: carry out one department's planned actions against the cloud, idempotently.

Every create can be repeated safely: it is looked up by its deterministic name in the owned
project before a retry, a 409 on a name means "take what exists if it is cloudctl's", Keystone
limits are listed before they are written, a duplicate rule or router interface counts as done.
Same-kind Neutron creates of departments applied at the same time share one bulk request
(group commit); a failed bulk request sends each of its objects alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudctl.cloud.model import (
    MANAGED_TAG,
    QUOTA_KEYS,
    USER_MARKER,
    Action,
    ObservedDept,
    dept_tag,
    resource_marker,
)
from cloudctl.cloud.openstack_session import SDK_NET_ATTR, UNIFIED_KEYS, CloudSession
from cloudctl.errors import OperationFailed
from cloudctl.group_commit import GroupCommitter

_BULK_KINDS = {"network", "subnet", "security_group"}  # Neutron's bulk create: atomic, one transaction
_NEUTRON_PATH = {"network": "/networks", "subnet": "/subnets", "router": "/routers",
                 "security_group": "/security-groups"}


@dataclass
class Step:
    """One action being carried out, with what the department's run knows so far."""

    action: Action
    ids: dict[str, str]  # kind -> OpenStack id of what exists now (creates add to it)
    users: dict[str, str]  # username -> user id
    have: ObservedDept  # what the plan observed
    description: str  # the department's name: its project's description
    ext: str | None  # the external network's id

    @property
    def code(self) -> str:
        return self.action.dept


class CloudApplier(CloudSession):
    """The write side of the adapter: one handler `_<op>_<kind>(Step)` per kind of action."""

    _bulk: GroupCommitter[dict[str, Any], dict[str, Any]]  # set by OpenStackCloud

    def _set_compute_limits(self, project_id: str, values: dict[str, int], *, new_project: bool = False) -> None:
        """Create or update the project's unified limits (list, then PATCH changed / POST missing)."""
        sid, region, _ = self._compute_service()
        c = self.conn
        want = {UNIFIED_KEYS[name]: value for name, value in values.items()}

        first = [new_project]  # a project created in this run has no limits yet: skip the first list

        def push() -> None:
            skip_list = first.pop() if first else False
            current = {} if skip_list else {
                lim.resource_name: lim for lim in c.identity.limits(service_id=sid, project_id=project_id)}
            missing = [{"service_id": sid, "project_id": project_id, "region_id": region, "resource_name": k,
                        "resource_limit": v} for k, v in want.items() if k not in current]
            for k, v in want.items():
                if k in current and int(current[k].resource_limit) != v:
                    c.identity.update_limit(current[k], resource_limit=v)
            if missing:
                from openstack import exceptions as osx

                osx.raise_from_response(c.identity.post("/limits", json={"limits": missing}))

        # a lost POST makes the retry see the limits in its list and PATCH them instead: no duplicates
        self.call("set compute limits", push)

    def apply_actions(self, actions: list[Action], have: ObservedDept, *, description: str,
                      external_network_id: str | None) -> dict[str, str]:
        """Carry out one department's actions in order; returns {kind: id} of what exists after."""
        ids: dict[str, str] = {}
        if have.project:
            ids["project"] = have.project.id
        for kind in ("network", "subnet", "router", "security_group"):
            obj = getattr(have, kind)
            if obj:
                ids[kind] = obj["id"]
        users = dict(have.users)
        i = 0
        while i < len(actions):
            a = actions[i]
            if a.op == "create" and a.kind == "rule":  # consecutive new rules: one bulk request
                j = i
                while j < len(actions) and (actions[j].op, actions[j].kind) == ("create", "rule"):
                    j += 1
                self._create_rules(actions[i:j], ids)
                i = j
                continue
            handler = getattr(self, f"_{a.op}_{a.kind}")
            handler(Step(a, ids, users, have, description, external_network_id))
            i += 1
        for username, uid in users.items():
            ids[f"user:{username}"] = uid
        return ids

    # identity
    def _create_project(self, s: Step) -> None:
        a, c = s.action, self.conn

        def find() -> Any:
            p = c.identity.find_project(a.name, domain_id="default")
            if p is not None and MANAGED_TAG not in (p.tags or []):
                raise OperationFailed(f"project {a.name} exists but cloudctl did not create it (no tag "
                                      f"{MANAGED_TAG}); leaving it alone", hint="rename the department code")
            return p

        p = self.call(f"create project {a.name}",
                      lambda: self._create_or_find(lambda: c.identity.create_project(
                          name=a.name, domain_id="default", description=s.description,
                          tags=[MANAGED_TAG, dept_tag(s.code)]), find),
                      recheck=find)
        s.ids["project"] = p.id

    def _update_project(self, s: Step) -> None:
        a, c = s.action, self.conn
        self.call(f"update project {a.name}",
                  lambda: c.identity.update_project(s.ids["project"], description=s.description))

    @staticmethod
    def _create_or_find(create: Callable[[], Any], find: Callable[[], Any]) -> Any:
        """Create; when the name is taken (409: another run got there first) take what exists
        (find raises if it is not cloudctl's)."""
        from openstack import exceptions as osx

        try:
            return create()
        except osx.ConflictException:
            found = find()
            if found is None:
                raise
            return found

    def _delete_project(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete project {a.name}", lambda: c.identity.delete_project(s.ids["project"],
                                                                                   ignore_missing=True))
        s.ids.pop("project", None)

    def _create_user(self, s: Step) -> None:
        a, c = s.action, self.conn

        def find() -> Any:
            u = c.identity.find_user(a.name, domain_id="default")
            if u is not None and not (u.description or "").startswith(USER_MARKER):
                raise OperationFailed(f"user {a.name} exists but cloudctl did not create it; leaving it alone")
            return u

        u = self.call(f"create user {a.name}",
                      lambda: self._create_or_find(lambda: c.identity.create_user(
                          name=a.name, domain_id="default", default_project_id=s.ids["project"],
                          description=f"{USER_MARKER} dept={s.code}"), find), recheck=find)
        s.users[a.name.partition(".")[2]] = u.id

    def _delete_user(self, s: Step) -> None:
        a, c = s.action, self.conn
        uid = s.users.pop(a.name.partition(".")[2], None)
        if uid:
            self._delete(f"delete user {a.name}", lambda: c.identity.delete_user(uid, ignore_missing=True))

    def _update_role(self, s: Step) -> None:
        a, c = s.action, self.conn
        uid = s.users[a.name.partition(".")[2]]
        if a.before:
            self._delete(f"unassign {a.before} from {a.name}", lambda: c.identity.unassign_project_role_from_user(
                s.ids["project"], uid, self._role_ids[a.before]))
        self.call(f"assign {a.after} to {a.name}", lambda: c.identity.assign_project_role_to_user(
            s.ids["project"], uid, self._role_ids[a.after]))

    def _delete_role(self, s: Step) -> None:
        a, c = s.action, self.conn
        uid = s.users.get(a.name.partition(".")[2])
        if uid and "project" in s.ids:
            self._delete(f"unassign {a.before} from {a.name}", lambda: c.identity.unassign_project_role_from_user(
                s.ids["project"], uid, self._role_ids[a.before]))

    # quotas (PUT: idempotent, plain retries)
    def _update_quota(self, s: Step) -> None:
        a, c = s.action, self.conn
        service, key = QUOTA_KEYS[a.name]
        pid = s.ids["project"]
        if service == "compute":
            self.update_quotas(pid, {a.name: a.after})
        elif service == "volume":
            self.call(f"set volume quota {a.name}", lambda: c.block_storage.update_quota_set(pid, **{key: a.after}))
        else:
            self.call(f"set network quota {a.name}",
                      lambda: c.network.update_quota(pid, **{SDK_NET_ATTR[key]: a.after}))

    def update_quotas(self, project_id: str, quotas: dict[str, int], *, new_project: bool = False) -> None:
        """All of one department's quotas in one call per service (used by apply for batches)."""
        by_service: dict[str, dict[str, int]] = {}
        for name, value in quotas.items():
            service, key = QUOTA_KEYS[name]
            by_service.setdefault(service, {})[key] = value
        c = self.conn
        compute = {n: v for n, v in quotas.items() if QUOTA_KEYS[n][0] == "compute"}
        if compute and self._compute_service()[2]:
            self._set_compute_limits(project_id, compute, new_project=new_project)
        elif compute:
            self.call("set compute quotas", lambda: c.compute.update_quota_set(project_id, **by_service["compute"]))
        if "volume" in by_service:
            self.call("set volume quotas", lambda: c.block_storage.update_quota_set(project_id, **by_service["volume"]))
        if "network" in by_service:
            attrs = {SDK_NET_ATTR[k]: v for k, v in by_service["network"].items()}
            self.call("set network quotas", lambda: c.network.update_quota(project_id, **attrs))

    # network
    def _find_in_project(self, kind: str, name: str, project_id: str) -> dict[str, Any] | None:
        lister = getattr(self.conn.network, SDK_NET_ATTR[kind])
        found = next(iter(lister(name=name, project_id=project_id)), None)
        return None if found is None else found.to_dict(computed=False)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A raw Neutron request; HTTP errors raise (the SDK's proxies do not raise by themselves)."""
        from openstack import exceptions as osx

        resp = getattr(self.conn.network, method)(path, json=body)
        osx.raise_from_response(resp)
        return resp.json() if resp.content else None

    def _send_creates(self, kind: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create one or many objects of a kind in one request (Neutron bulk create: atomic)."""
        if len(bodies) == 1:
            return [self._request("post", _NEUTRON_PATH[kind], {kind: bodies[0]})[kind]]
        plural = SDK_NET_ATTR[kind]
        return self._request("post", _NEUTRON_PATH[kind], {plural: bodies})[plural]

    def _create_neutron(self, kind: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create, coalesced with other departments' creates of the same kind into one bulk request
        (not routers: Neutron has no bulk create for them). If that request fails (whatever the
        error) this object goes alone: looked up by its name in the owned project first (a lost
        success is found, not repeated), then created with retries."""
        find = lambda: self._find_in_project(kind, name, body["project_id"])  # noqa: E731
        what = f"create {kind.replace('_', ' ')} {name}"
        if kind not in _BULK_KINDS:
            return self.call(what, lambda: self._send_creates(kind, [body])[0], recheck=find)
        try:
            return self._bulk.submit(kind, body)
        except Exception:  # the item's own attempt below reports its own error
            pass
        found = self.call(f"find {name}", find)
        if found is not None:
            return found
        return self.call(what, lambda: self._send_creates(kind, [body])[0], recheck=find)

    def _create_marked(self, kind: str, s: Step, **attrs: Any) -> None:
        """Create a network object in the department's project, its ownership mark in the request."""
        body = {"name": s.action.name, "project_id": s.ids["project"], "description": resource_marker(s.code),
                **attrs}
        s.ids[kind] = self._create_neutron(kind, s.action.name, body)["id"]

    def _create_network(self, s: Step) -> None:
        self._create_marked("network", s)

    def _create_subnet(self, s: Step) -> None:
        self._create_marked("subnet", s, network_id=s.ids["network"], ip_version=4, cidr=s.action.after)

    def _create_router(self, s: Step) -> None:
        self._create_marked("router", s, **({"external_gateway_info": {"network_id": s.ext}} if s.ext else {}))

    def _update_router_gateway(self, s: Step) -> None:
        a, c = s.action, self.conn
        self.call(f"set gateway of {a.name}", lambda: c.network.update_router(
            s.ids["router"], external_gateway_info={"network_id": s.ext} if s.ext else None))

    def _create_router_interface(self, s: Step) -> None:
        a, c = s.action, self.conn
        from openstack import exceptions as osx

        def add() -> Any:
            try:
                return c.network.add_interface_to_router(s.ids["router"], subnet=s.ids["subnet"])
            except osx.BadRequestException as e:  # a lost success: already attached
                if "already has a port" in str(e) or "overlaps" in str(e):
                    return {}
                raise

        self.call(f"attach {a.after} to {a.name}", add)

    def _delete_router_interface(self, s: Step) -> None:
        a, c = s.action, self.conn
        from openstack import exceptions as osx

        def remove() -> None:
            with contextlib.suppress(osx.NotFoundException):
                c.network.remove_interface_from_router(s.ids["router"], subnet=s.ids["subnet"])

        self.call(f"detach subnet from {a.name}", remove)

    def _delete_router(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete router {a.name}", lambda: c.network.delete_router(s.ids.pop("router"),
                                                                                ignore_missing=True))

    def _delete_subnet(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete subnet {a.name}", lambda: c.network.delete_subnet(s.ids.pop("subnet"),
                                                                                ignore_missing=True))

    def _delete_network(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete network {a.name}", lambda: c.network.delete_network(s.ids.pop("network"),
                                                                                  ignore_missing=True))

    def _create_security_group(self, s: Step) -> None:
        self._create_marked("security_group", s)

    def _delete_security_group(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete security group {a.name}", lambda: c.network.delete_security_group(
            s.ids.pop("security_group"), ignore_missing=True))

    def _create_rules(self, actions: list[Action], ids: dict[str, str]) -> None:
        """A department's new rules in one bulk request (Neutron: one group per bulk). 409 means some
        exist already (a lost success): then one by one, each 409 counting as done."""
        from openstack import exceptions as osx

        bodies = [{"security_group_id": ids["security_group"], "project_id": ids["project"],
                   "direction": r.direction, "protocol": r.protocol, "port_range_min": r.port_min,
                   "port_range_max": r.port_max, "remote_ip_prefix": r.remote_ip_prefix, "ethertype": r.ethertype}
                  for r in (a.after for a in actions)]

        def one(body: dict[str, Any]) -> None:
            with contextlib.suppress(osx.ConflictException):
                self._request("post", "/security-group-rules", {"security_group_rule": body})

        def create() -> None:
            if len(bodies) == 1:
                return one(bodies[0])
            try:
                self._request("post", "/security-group-rules", {"security_group_rules": bodies})
            except osx.ConflictException:
                for body in bodies:
                    one(body)
            return None

        self.call(f"add {len(bodies)} rules to {actions[0].name}", create)

    def _delete_rule(self, s: Step) -> None:
        a, c = s.action, self.conn
        rule_id = s.have.security_group["rules"][a.before] if s.have.security_group else None
        if rule_id:
            self._delete(f"delete rule of {a.name}", lambda: c.network.delete_security_group_rule(
                rule_id, ignore_missing=True))

    # the ownership mark put back on an object whose description was changed by hand
    def _update_network_description(self, s: Step) -> None:
        self._set_description("network", s.action, s.ids["network"])

    def _update_subnet_description(self, s: Step) -> None:
        self._set_description("subnet", s.action, s.ids["subnet"])

    def _update_router_description(self, s: Step) -> None:
        self._set_description("router", s.action, s.ids["router"])

    def _update_security_group_description(self, s: Step) -> None:
        self._set_description("security_group", s.action, s.ids["security_group"])

    # duplicates (a create that arrived after its retry): delete by id, never by name
    def _delete_duplicate_network(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_network(a.before, ignore_missing=True))

    def _delete_duplicate_subnet(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_subnet(a.before, ignore_missing=True))

    def _delete_duplicate_router(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_router(a.before, ignore_missing=True))

    def _delete_duplicate_security_group(self, s: Step) -> None:
        a, c = s.action, self.conn
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_security_group(
            a.before, ignore_missing=True))

    def _set_description(self, kind: str, a: Action, os_id: str) -> None:
        self.call(f"mark {a.name}", lambda: self._request(
            "put", f"{_NEUTRON_PATH[kind]}/{os_id}", {kind: {"description": a.after}}))

    def _delete(self, what: str, fn: Callable[[], Any]) -> None:
        self.call(what, fn)
