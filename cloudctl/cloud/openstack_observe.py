"""Observe: everything cloudctl owns in the cloud, from a fixed number of list calls.

The number of calls does not grow with the number of departments (list once, sort in memory);
only what Cinder cannot list (volume quotas, with deep=True) and Nova's legacy quota driver are
read per project.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cloudctl.cloud.model import (
    MANAGED_TAG,
    QUOTA_KEYS,
    USER_MARKER,
    Observed,
    ObservedDept,
    ObservedProject,
    Rule,
    project_name,
    resource_marker,
    resource_name,
)
from cloudctl.cloud.openstack_session import SDK_NET_ATTR, UNIFIED_KEYS, CloudSession


class CloudObserver(CloudSession):
    """The read side of the adapter."""

    def observe(self, codes: Iterable[str], *, external_network: str | None = None,
                deep: bool = False) -> Observed:
        """Everything cloudctl owns, from a fixed number of list calls (independent of the number
        of departments). Compute quotas come from Keystone unified limits (one list); on a cloud
        whose Nova still uses its legacy quota driver they are read per project. Volume quotas are
        read per project only with deep=True (Cinder has no list-all API)."""
        codes = set(codes)
        c = self.conn
        projects = self.call("list projects", lambda: list(c.identity.projects(tags=MANAGED_TAG)))
        by_code: dict[str, Any] = {}
        for p in projects:
            code = next((t[len("cloudctl-dept-"):] for t in p.tags or [] if t.startswith("cloudctl-dept-")), None)
            if code in codes and p.name == project_name(code):
                by_code[code] = p
        depts = {code: ObservedDept(project=ObservedProject(p.id, p.name, list(p.tags or []), p.description or ""))
                 for code, p in by_code.items()}
        code_of_project = {p.id: code for code, p in by_code.items()}

        roles = self.call("list roles", lambda: list(c.identity.roles()))
        self._role_ids = {r.name: r.id for r in roles}
        role_names = {r.id: r.name for r in roles}
        users = self.call("list users", lambda: list(c.identity.users(domain_id="default")))
        user_by_id = {}
        for u in users:
            code, dot, username = (u.name or "").partition(".")
            if dot and code in codes and (u.description or "").startswith(USER_MARKER):
                depts.setdefault(code, ObservedDept()).users[username] = u.id
                user_by_id[u.id] = (code, username)
        if by_code:
            assignments = self.call("list role assignments", lambda: list(c.identity.role_assignments()))
            for a in assignments:
                pid = (a.scope or {}).get("project", {}).get("id")
                uid = (a.user or {}).get("id")
                if pid in code_of_project and uid in user_by_id and user_by_id[uid][0] == code_of_project[pid]:
                    depts[code_of_project[pid]].members[user_by_id[uid][1]] = role_names.get(a.role["id"], "?")

        ext_id = None
        networks = self.call("list networks", lambda: list(c.network.networks()))
        for n in networks:
            if external_network and n.name == external_network and n.is_router_external:
                ext_id = n.id
        self._collect_network(depts, code_of_project, networks)
        if by_code:
            self._network_quotas(depts, code_of_project)
            per_project = [] if self._compute_limits(depts, code_of_project) else ["compute"]
            if deep:
                per_project.append("volume")
            if per_project:
                self._per_project_quotas(depts, code_of_project, per_project)
        return Observed(depts=depts, external_network_id=ext_id, role_ids=dict(self._role_ids))

    def _collect_network(self, depts: dict[str, ObservedDept], code_of_project: dict[str, str],
                         networks: list[Any]) -> None:
        c = self.conn
        if not code_of_project:
            return
        subnets = self.call("list subnets", lambda: list(c.network.subnets()))
        routers = self.call("list routers", lambda: list(c.network.routers()))
        groups = self.call("list security groups", lambda: list(c.network.security_groups()))
        ports = self.call("list router ports",
                          lambda: list(c.network.ports(device_owner="network:router_interface")))
        subnets_of_router: dict[str, list[str]] = {}
        for p in ports:
            for ip in p.fixed_ips or []:
                subnets_of_router.setdefault(p.device_id, []).append(ip["subnet_id"])

        def mine(obj: Any, kind: str) -> str | None:
            code = code_of_project.get(obj.project_id)
            return code if code and obj.name == resource_name(code, kind) else None

        def foreign(code: str) -> None:
            depts[code].foreign += 1

        def keep(code: str, kind: str, new: dict[str, Any]) -> None:
            """One object per name: keep the marked (else the older) one, list the rest as duplicates."""
            dept = depts[code]
            old = getattr(dept, kind)
            if old is None:
                setattr(dept, kind, new)
                return
            rank = lambda o: (o["description"] != resource_marker(code), o.get("created_at") or "")  # noqa: E731
            keeper, extra = sorted([old, new], key=rank)
            setattr(dept, kind, keeper)
            dept.duplicates.append((kind, extra["id"]))

        for n in networks:
            if (code := mine(n, "network")) is not None:
                keep(code, "network", {"id": n.id, "name": n.name, "description": n.description,
                                       "created_at": n.created_at})
            elif n.project_id in code_of_project:
                foreign(code_of_project[n.project_id])
        for s in subnets:
            if (code := mine(s, "subnet")) is not None:
                keep(code, "subnet", {"id": s.id, "name": s.name, "cidr": s.cidr, "network_id": s.network_id,
                                      "description": s.description, "created_at": s.created_at})
        for r in routers:
            if (code := mine(r, "router")) is not None:
                gw = r.external_gateway_info or {}
                keep(code, "router", {"id": r.id, "name": r.name, "external_network_id": gw.get("network_id"),
                                      "subnet_ids": subnets_of_router.get(r.id, []), "description": r.description,
                                      "created_at": r.created_at})
            elif r.project_id in code_of_project:
                foreign(code_of_project[r.project_id])
        for g in groups:
            if (code := mine(g, "security_group")) is not None:
                rules = {}
                for rule in g.security_group_rules or []:
                    if rule["direction"] == "egress":
                        continue  # Neutron's default egress rules are not ours to manage
                    key = Rule(rule["direction"], rule.get("protocol"), rule.get("port_range_min"),
                               rule.get("port_range_max"), rule.get("remote_ip_prefix"), rule.get("ethertype", "IPv4"))
                    rules[key] = rule["id"]
                keep(code, "security_group", {"id": g.id, "name": g.name, "rules": rules,
                                              "description": g.description, "created_at": g.created_at})
            elif g.project_id in code_of_project and g.name != "default":
                foreign(code_of_project[g.project_id])

    def _compute_limits(self, depts: dict[str, ObservedDept], code_of_project: dict[str, str]) -> bool:
        """Compute quotas from Keystone unified limits in one list call; False if Nova does not use them."""
        sid, _, defaults = self._compute_service()
        if not defaults:
            return False
        limits = self.call("list limits", lambda: list(self.conn.identity.limits(service_id=sid)))
        per_project: dict[str, dict[str, int]] = {}
        for lim in limits:
            if lim.project_id in code_of_project:
                per_project.setdefault(lim.project_id, {})[lim.resource_name] = int(lim.resource_limit)
        for pid, code in code_of_project.items():
            have = per_project.get(pid, {})
            for name, key in UNIFIED_KEYS.items():
                depts[code].quotas[name] = have.get(key, defaults.get(key, 0))
        return True

    def _network_quotas(self, depts: dict[str, ObservedDept], code_of_project: dict[str, str]) -> None:
        c = self.conn
        keys = {os_key: name for name, (svc, os_key) in QUOTA_KEYS.items() if svc == "network"}
        listed = self.call("list network quotas", lambda: list(c.network.quotas()))
        seen = set()
        for q in listed:
            pid = q.project_id
            if pid in code_of_project:
                seen.add(pid)
                for os_key, name in keys.items():
                    depts[code_of_project[pid]].quotas[name] = int(getattr(q, SDK_NET_ATTR[os_key]))
        missing = [pid for pid in code_of_project if pid not in seen]
        if missing:  # projects still on the defaults are not in the list: one read of the defaults
            d = self.call("network quota defaults", lambda: c.network.get_quota_default(missing[0]))
            for pid in missing:
                for os_key, name in keys.items():
                    depts[code_of_project[pid]].quotas[name] = int(getattr(d, SDK_NET_ATTR[os_key]))

    def _per_project_quotas(self, depts: dict[str, ObservedDept], code_of_project: dict[str, str],
                            services: list[str]) -> None:
        c = self.conn

        def read(pid: str) -> tuple[str, dict[str, int]]:
            out: dict[str, int] = {}
            if "compute" in services:
                q = self.call("get compute quota", lambda: c.compute.get_quota_set(pid))
                out.update({n: int(getattr(q, k)) for n, (s, k) in QUOTA_KEYS.items() if s == "compute"})
            if "volume" in services:
                q = self.call("get volume quota", lambda: c.block_storage.get_quota_set(pid))
                out.update({n: int(getattr(q, k)) for n, (s, k) in QUOTA_KEYS.items() if s == "volume"})
            return pid, out

        with ThreadPoolExecutor(self.workers) as pool:
            for pid, quotas in pool.map(read, list(code_of_project)):
                depts[code_of_project[pid]].quotas.update(quotas)
