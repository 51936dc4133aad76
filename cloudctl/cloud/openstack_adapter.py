"""The one module that imports openstacksdk: connect, observe (list once), change, count calls.

Credentials come only from clouds.yaml (OS_CLIENT_CONFIG_FILE or the standard locations), chosen
by `--cloud` / CLOUDCTL_CLOUD / OS_CLOUD. Foreign errors are translated here, once.
Transient failures (5xx, connection reset, timeout) are retried with exponential backoff; a
create whose answer was lost is looked up by its deterministic name before it is retried, so a
retry never duplicates a resource.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cloudctl.cloud.model import (
    MANAGED_TAG,
    QUOTA_KEYS,
    USER_MARKER,
    Action,
    Observed,
    ObservedDept,
    ObservedProject,
    Rule,
    dept_tag,
    project_name,
    resource_marker,
    resource_name,
)
from cloudctl.errors import InputError, OperationFailed
from cloudctl.group_commit import GroupCommitter

T = TypeVar("T")
TRANSIENT_STATUS = {500, 502, 503, 504}
# Neutron quota key -> openstacksdk attribute
# cloudctl compute quota name -> Keystone unified limit resource name used by Nova
UNIFIED_KEYS = {"vcpus": "class:VCPU", "ram": "class:MEMORY_MB", "instances": "servers"}
_SDK_NET_ATTR = {"network": "networks", "subnet": "subnets", "router": "routers", "port": "ports",
                 "floatingip": "floating_ips", "security_group": "security_groups"}
_BULK_KINDS = {"network", "subnet", "security_group"}  # Neutron's bulk create: atomic, one transaction
_NEUTRON_PATH = {"network": "/networks", "subnet": "/subnets", "router": "/routers",
                 "security_group": "/security-groups"}


def resolve_cloud(flag: str | None) -> str:
    name = flag or os.environ.get("CLOUDCTL_CLOUD") or os.environ.get("OS_CLOUD")
    if not name:
        raise InputError("no cloud selected", field="--cloud",
                         hint="pass --cloud NAME (a cloud in clouds.yaml) or set CLOUDCTL_CLOUD")
    return name


_ID = re.compile(r"/[0-9a-f]{32}|/[0-9a-f-]{36}")


class CallCounter:
    """Counts HTTP requests per service port, and per route with the time the server took to answer
    (a requests response hook; routes have ids replaced by {id})."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_endpoint: Counter[str] = Counter()
        self.by_route: Counter[str] = Counter()
        self.seconds_by_route: dict[str, float] = {}

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        parts = urlsplit(response.request.url)
        route = f"{response.request.method} {parts.port} {_ID.sub('/{id}', parts.path)}"
        elapsed = response.elapsed.total_seconds()
        with self._lock:
            self.by_endpoint[f"{response.request.method} {parts.netloc}"] += 1
            self.by_route[route] += 1
            self.seconds_by_route[route] = self.seconds_by_route.get(route, 0.0) + elapsed

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


def _widen_connection_pool(session: Any, workers: int) -> None:
    """Keep a connection per concurrent worker instead of requests' default of 10 per host."""
    from requests.adapters import HTTPAdapter

    size = max(10, 2 * workers)
    for prefix, adapter in list(session.adapters.items()):
        if isinstance(adapter, HTTPAdapter) and adapter._pool_maxsize < size:
            fresh = type(adapter)(pool_connections=size, pool_maxsize=size)
            session.mount(prefix, fresh)


def _is_transient(e: BaseException) -> bool:
    from keystoneauth1 import exceptions as ksa
    from openstack import exceptions as osx

    if isinstance(e, osx.HttpException):
        return (e.status_code or 0) in TRANSIENT_STATUS
    if isinstance(e, ksa.http.HttpError):
        return (e.http_status or 0) in TRANSIENT_STATUS
    return isinstance(e, ksa.connection.ConnectionError | ksa.DiscoveryFailure | ConnectionError | TimeoutError)


class OpenStackCloud:
    """A connection to one cloud with retries and call counting."""

    def __init__(self, cloud: str, *, retries: int = 5, backoff_s: float = 0.2, timeout_s: float = 60,
                 workers: int = 8, bulk_max: int = 50) -> None:
        import openstack
        from openstack import exceptions as osx

        self.cloud = cloud
        self.retries = retries
        self.backoff_s = backoff_s
        self.workers = workers
        self.counter = CallCounter()
        try:
            self.conn = openstack.connect(cloud=cloud, api_timeout=timeout_s)
        except osx.ConfigException as e:
            raise InputError(f"cloud {cloud!r}: {e}", field="--cloud",
                             hint="check clouds.yaml (OS_CLIENT_CONFIG_FILE) for this cloud name") from e
        self.conn.session.session.hooks["response"].append(self.counter.hook)
        _widen_connection_pool(self.conn.session.session, workers)
        self._role_ids: dict[str, str] = {}
        self._compute_lock = threading.Lock()
        self._bulk: GroupCommitter[dict[str, Any], dict[str, Any]] = GroupCommitter(self._send_creates,
                                                                                   max_batch=bulk_max)

    # ------------------------------------------------------------ plumbing
    def call(self, what: str, fn: Callable[[], T], *, recheck: Callable[[], T | None] | None = None) -> T:
        """Run fn with retries on transient errors; for creates, recheck() finds a lost success."""
        from openstack import exceptions as osx

        for attempt in range(self.retries + 1):
            try:
                return fn()
            except Exception as e:
                if not _is_transient(e) or attempt == self.retries:
                    if isinstance(e, osx.SDKException | ConnectionError) or _is_transient(e):
                        raise OperationFailed(f"{what}: {e}") from e
                    raise
                time.sleep(self.backoff_s * (2**attempt) * (0.5 + random.random()))
                if recheck is not None:
                    try:
                        found = recheck()
                    except Exception as e2:
                        if not _is_transient(e2):
                            raise OperationFailed(f"{what}: {e2}") from e2
                        found = None
                    if found is not None:
                        return found
        raise AssertionError("unreachable")

    def authenticate(self) -> None:
        self.call("authenticate", lambda: self.conn.authorize())

    # ------------------------------------------------------------ observe
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

    def _compute_service(self) -> tuple[str, str | None, dict[str, int]]:
        """(compute service id, region, registered default limits); cached per connection."""
        with self._compute_lock:
            return self._compute_service_locked()

    def _compute_service_locked(self) -> tuple[str, str | None, dict[str, int]]:
        if not hasattr(self, "_compute_sid"):
            c = self.conn
            services = self.call("list services", lambda: list(c.identity.services(type="compute")))
            if not services:
                raise OperationFailed("the cloud has no compute service in its catalog")
            sid = services[0].id
            reg = self.call("list registered limits", lambda: list(c.identity.registered_limits(service_id=sid)))
            self._compute_sid = sid
            self._compute_region = reg[0].region_id if reg else None
            self._compute_defaults = {r.resource_name: int(r.default_limit) for r in reg}
        return self._compute_sid, self._compute_region, self._compute_defaults

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
                    depts[code_of_project[pid]].quotas[name] = int(getattr(q, _SDK_NET_ATTR[os_key]))
        missing = [pid for pid in code_of_project if pid not in seen]
        if missing:  # projects still on the defaults are not in the list: one read of the defaults
            d = self.call("network quota defaults", lambda: c.network.get_quota_default(missing[0]))
            for pid in missing:
                for os_key, name in keys.items():
                    depts[code_of_project[pid]].quotas[name] = int(getattr(d, _SDK_NET_ATTR[os_key]))

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

    # ------------------------------------------------------------ change
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
            self._apply_one(a, ids, users, have, description=description, external_network_id=external_network_id)
            i += 1
        for username, uid in users.items():
            ids[f"user:{username}"] = uid
        return ids

    def _apply_one(self, a: Action, ids: dict[str, str], users: dict[str, str], have: ObservedDept, *,
                   description: str, external_network_id: str | None) -> None:
        c, code = self.conn, a.dept
        tags = [MANAGED_TAG, dept_tag(code)]
        handler = getattr(self, f"_{a.op}_{a.kind}")
        handler(c, a, code, tags, ids, users, have, description, external_network_id)

    # identity
    def _create_project(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        def find() -> Any:
            p = c.identity.find_project(a.name, domain_id="default")
            if p is not None and MANAGED_TAG not in (p.tags or []):
                raise OperationFailed(f"project {a.name} exists but cloudctl did not create it (no tag "
                                      f"{MANAGED_TAG}); leaving it alone", hint="rename the department code")
            return p

        p = self.call(f"create project {a.name}",
                      lambda: self._create_or_find(lambda: c.identity.create_project(
                          name=a.name, domain_id="default", description=description, tags=tags), find),
                      recheck=find)
        ids["project"] = p.id

    def _update_project(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self.call(f"update project {a.name}", lambda: c.identity.update_project(ids["project"],
                                                                                description=description))

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

    def _delete_project(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete project {a.name}", lambda: c.identity.delete_project(ids["project"],
                                                                                   ignore_missing=True))
        ids.pop("project", None)

    def _create_user(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        def find() -> Any:
            u = c.identity.find_user(a.name, domain_id="default")
            if u is not None and not (u.description or "").startswith(USER_MARKER):
                raise OperationFailed(f"user {a.name} exists but cloudctl did not create it; leaving it alone")
            return u

        u = self.call(f"create user {a.name}",
                      lambda: self._create_or_find(lambda: c.identity.create_user(
                          name=a.name, domain_id="default", default_project_id=ids["project"],
                          description=f"{USER_MARKER} dept={code}"), find), recheck=find)
        users[a.name.partition(".")[2]] = u.id

    def _delete_user(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        uid = users.pop(a.name.partition(".")[2], None)
        if uid:
            self._delete(f"delete user {a.name}", lambda: c.identity.delete_user(uid, ignore_missing=True))

    def _update_role(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        uid = users[a.name.partition(".")[2]]
        if a.before:
            self._delete(f"unassign {a.before} from {a.name}", lambda: c.identity.unassign_project_role_from_user(
                ids["project"], uid, self._role_ids[a.before]))
        self.call(f"assign {a.after} to {a.name}", lambda: c.identity.assign_project_role_to_user(
            ids["project"], uid, self._role_ids[a.after]))

    def _delete_role(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        uid = users.get(a.name.partition(".")[2])
        if uid and "project" in ids:
            self._delete(f"unassign {a.before} from {a.name}", lambda: c.identity.unassign_project_role_from_user(
                ids["project"], uid, self._role_ids[a.before]))

    # quotas (PUT: idempotent, plain retries)
    def _update_quota(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        service, key = QUOTA_KEYS[a.name]
        pid = ids["project"]
        if service == "compute":
            self.update_quotas(pid, {a.name: a.after})
        elif service == "volume":
            self.call(f"set volume quota {a.name}", lambda: c.block_storage.update_quota_set(pid, **{key: a.after}))
        else:
            self.call(f"set network quota {a.name}",
                      lambda: c.network.update_quota(pid, **{_SDK_NET_ATTR[key]: a.after}))

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
            attrs = {_SDK_NET_ATTR[k]: v for k, v in by_service["network"].items()}
            self.call("set network quotas", lambda: c.network.update_quota(project_id, **attrs))

    # network
    def _find_in_project(self, kind: str, name: str, project_id: str) -> dict[str, Any] | None:
        lister = getattr(self.conn.network, _SDK_NET_ATTR[kind])
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
        plural = _SDK_NET_ATTR[kind]
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

    def _create_network(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        n = self._create_neutron("network", a.name, {"name": a.name, "project_id": ids["project"],
                                                     "description": resource_marker(code)})
        ids["network"] = n["id"]

    def _create_subnet(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        s = self._create_neutron("subnet", a.name, {"name": a.name, "project_id": ids["project"],
                                                    "network_id": ids["network"], "ip_version": 4, "cidr": a.after,
                                                    "description": resource_marker(code)})
        ids["subnet"] = s["id"]

    def _create_router(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        body: dict[str, Any] = {"name": a.name, "project_id": ids["project"], "description": resource_marker(code)}
        if ext:
            body["external_gateway_info"] = {"network_id": ext}
        r = self._create_neutron("router", a.name, body)
        ids["router"] = r["id"]

    def _update_router_gateway(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self.call(f"set gateway of {a.name}", lambda: c.network.update_router(
            ids["router"], external_gateway_info={"network_id": ext} if ext else None))

    def _create_router_interface(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        from openstack import exceptions as osx

        def add() -> Any:
            try:
                return c.network.add_interface_to_router(ids["router"], subnet=ids["subnet"])
            except osx.BadRequestException as e:  # a lost success: already attached
                if "already has a port" in str(e) or "overlaps" in str(e):
                    return {}
                raise

        self.call(f"attach {a.after} to {a.name}", add)

    def _delete_router_interface(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        from openstack import exceptions as osx

        def remove() -> None:
            with contextlib.suppress(osx.NotFoundException):
                c.network.remove_interface_from_router(ids["router"], subnet=ids["subnet"])

        self.call(f"detach subnet from {a.name}", remove)

    def _delete_router(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete router {a.name}", lambda: c.network.delete_router(ids.pop("router"),
                                                                                ignore_missing=True))

    def _delete_subnet(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete subnet {a.name}", lambda: c.network.delete_subnet(ids.pop("subnet"),
                                                                                ignore_missing=True))

    def _delete_network(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete network {a.name}", lambda: c.network.delete_network(ids.pop("network"),
                                                                                  ignore_missing=True))

    def _create_security_group(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        g = self._create_neutron("security_group", a.name, {"name": a.name, "project_id": ids["project"],
                                                            "description": resource_marker(code)})
        ids["security_group"] = g["id"]

    def _delete_security_group(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete security group {a.name}", lambda: c.network.delete_security_group(
            ids.pop("security_group"), ignore_missing=True))

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

    def _delete_rule(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        rule_id = have.security_group["rules"][a.before] if have.security_group else None
        if rule_id:
            self._delete(f"delete rule of {a.name}", lambda: c.network.delete_security_group_rule(
                rule_id, ignore_missing=True))

    # the ownership mark put back on an object whose description was changed by hand
    def _update_network_description(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._set_description("network", a, ids["network"])

    def _update_subnet_description(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._set_description("subnet", a, ids["subnet"])

    def _update_router_description(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._set_description("router", a, ids["router"])

    def _update_security_group_description(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._set_description("security_group", a, ids["security_group"])

    # duplicates (a create that arrived after its retry): delete by id, never by name
    def _delete_duplicate_network(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_network(a.before, ignore_missing=True))

    def _delete_duplicate_subnet(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_subnet(a.before, ignore_missing=True))

    def _delete_duplicate_router(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_router(a.before, ignore_missing=True))

    def _delete_duplicate_security_group(self, c, a, code, tags, ids, users, have, description, ext):  # type: ignore[no-untyped-def]
        self._delete(f"delete duplicate {a.name}", lambda: c.network.delete_security_group(
            a.before, ignore_missing=True))

    def _set_description(self, kind: str, a: Action, os_id: str) -> None:
        self.call(f"mark {a.name}", lambda: self._request(
            "put", f"{_NEUTRON_PATH[kind]}/{os_id}", {kind: {"description": a.after}}))

    def _delete(self, what: str, fn: Callable[[], Any]) -> None:
        self.call(what, fn)

    # ------------------------------------------------------------ pool
    def capacity(self) -> dict[str, dict[str, float]]:
        """Placement inventories summed over resource providers: {class: {total, reserved, ratio, used}}."""
        c = self.conn
        out: dict[str, dict[str, float]] = {}
        rps = self.call("list resource providers", lambda: list(c.placement.resource_providers()))
        for rp in rps:
            inv = self.call("get inventories", lambda rp=rp: c.placement.get(
                f"/resource_providers/{rp.id}/inventories", microversion="1.26").json())
            usage = self.call("get usages", lambda rp=rp: c.placement.get(
                f"/resource_providers/{rp.id}/usages", microversion="1.26").json())
            for rc, v in inv.get("inventories", {}).items():
                agg = out.setdefault(rc, {"total": 0.0, "reserved": 0.0, "ratio": 0.0, "used": 0.0})
                agg["total"] += v["total"]
                agg["reserved"] += v.get("reserved", 0)
                agg["ratio"] = max(agg["ratio"], float(v.get("allocation_ratio", 1.0)))
                agg["used"] += usage.get("usages", {}).get(rc, 0)
        return out

    def usage(self, project_id: str) -> dict[str, int]:
        """What a project uses now (compute and volume quota usage, network counts)."""
        c = self.conn
        out: dict[str, int] = {}
        q = self.call("compute usage", lambda: c.compute.get_quota_set(project_id, usage=True))
        for name, (svc, key) in QUOTA_KEYS.items():
            if svc == "compute":
                out[name] = int((getattr(q, "usage", None) or {}).get(key, 0))
        v = self.call("volume usage", lambda: c.block_storage.get_quota_set(project_id, usage=True))
        for name, (svc, key) in QUOTA_KEYS.items():
            if svc == "volume":
                out[name] = int((getattr(v, "usage", None) or {}).get(key, 0))
        out["networks"] = len(self.call("count networks", lambda: list(c.network.networks(project_id=project_id))))
        return out
