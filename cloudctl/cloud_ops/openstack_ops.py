"""OpenStack calls the cloud adapter lacks: usage, servers, volumes, floating IPs, snapshots, deletes.

Works on `OpenStackCloud.conn` (the one module importing openstacksdk stays the adapter) and runs
every call through `OpenStackCloud.call`, which retries transient faults and translates the SDK's
errors into OperationFailed. Answers are plain dicts, so the pure modules never see SDK objects.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cloudctl.errors import OperationFailed

USAGE_MICROVERSION = "2.40"  # paginated os-simple-tenant-usage


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _not_found(e: BaseException) -> bool:
    cause = e.__cause__ or e
    return type(cause).__name__ in ("NotFoundException", "ResourceNotFound", "NotFound")


class CloudOps:
    """Extra reads and changes on one cloud. `cloud` is an OpenStackCloud (or anything with .conn/.call)."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.conn = cloud.conn

    # ------------------------------------------------------------ usage
    def tenant_usages(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Nova's os-simple-tenant-usage for all projects, detailed, every page (the raw answer's
        tenant_usages merged: one entry per project with its server_usages)."""
        by_tenant: dict[str, dict[str, Any]] = {}
        query: dict[str, str] = {"start": _iso(start), "end": _iso(end), "detailed": "1"}
        for _ in range(10_000):
            url = "/os-simple-tenant-usage?" + urlencode(query)
            body = self.cloud.call("tenant usage", lambda url=url: self._get_json(url))
            for tu in body.get("tenant_usages", []):
                have = by_tenant.get(tu["tenant_id"])
                if have is None:
                    by_tenant[tu["tenant_id"]] = {**tu, "server_usages": list(tu.get("server_usages") or [])}
                else:  # a project's servers continue on the next page: totals are per page
                    have["server_usages"].extend(tu.get("server_usages") or [])
                    for k in ("total_hours", "total_vcpus_usage", "total_memory_mb_usage", "total_local_gb_usage"):
                        have[k] = have.get(k, 0) + tu.get(k, 0)
            nxt = [lk["href"] for lk in body.get("tenant_usages_links", []) if lk.get("rel") == "next"]
            if not nxt:
                return list(by_tenant.values())
            marker = parse_qs(urlsplit(nxt[0]).query).get("marker")
            if not marker:
                return list(by_tenant.values())
            query["marker"] = marker[0]
        raise OperationFailed("tenant usage: too many pages")

    def _get_json(self, url: str) -> dict[str, Any]:
        r = self.conn.compute.get(url, microversion=USAGE_MICROVERSION)
        if r.status_code >= 400:
            raise OperationFailed(f"GET {url}: HTTP {r.status_code} {r.text[:200]}")
        return r.json()

    # ------------------------------------------------------------ inventories (all projects, one list each)
    def list_servers(self, project_id: str | None = None) -> list[dict[str, Any]]:
        q: dict[str, Any] = {"all_projects": True}
        if project_id:
            q["project_id"] = project_id
        found = self.cloud.call("list servers", lambda: list(self.conn.compute.servers(details=True, **q)))
        return [{"id": s.id, "name": s.name, "project_id": s.project_id, "status": s.status,
                 "updated_at": s.updated_at, "launched_at": s.launched_at, "created_at": s.created_at,
                 "flavor": (s.flavor or {}).get("original_name") or (s.flavor or {}).get("id"),
                 "metadata": dict(s.metadata or {})} for s in found]

    def list_volumes(self, project_id: str | None = None) -> list[dict[str, Any]]:
        q: dict[str, Any] = {"all_projects": True}
        if project_id:
            q["project_id"] = project_id
        found = self.cloud.call("list volumes", lambda: list(self.conn.block_storage.volumes(details=True, **q)))
        return [{"id": v.id, "name": v.name, "status": v.status, "size": int(v.size or 0),
                 "created_at": v.created_at, "updated_at": v.updated_at,
                 "attachments": [a.get("server_id") for a in (v.attachments or [])],
                 "metadata": dict(v.metadata or {}),
                 "project_id": v.project_id or v.to_dict().get("os-vol-tenant-attr:tenant_id")} for v in found]

    def list_floating_ips(self) -> list[dict[str, Any]]:
        found = self.cloud.call("list floating ips", lambda: list(self.conn.network.ips()))
        return [{"id": f.id, "name": f.floating_ip_address, "project_id": f.project_id, "port_id": f.port_id,
                 "status": f.status, "created_at": f.created_at, "updated_at": f.updated_at} for f in found]

    def find_flavor(self, name: str) -> dict[str, Any] | None:
        f = self.cloud.call("find flavor", lambda: self.conn.compute.find_flavor(name, ignore_missing=True))
        return None if f is None else {"id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk}

    def find_image(self, name: str) -> str | None:
        i = self.cloud.call("find image", lambda: self.conn.image.find_image(name, ignore_missing=True))
        return None if i is None else i.id

    # ------------------------------------------------------------ acting inside a department's project
    def project_conn(self, project_id: str) -> Any:
        """A connection scoped to the project (the admin gets the 'admin' role there first, idempotently)."""
        c = self.conn
        role = self.cloud.call("find role", lambda: c.identity.find_role("admin"))
        user_id = c.current_user_id
        self.cloud.call("assign role", lambda: c.identity.assign_project_role_to_user(project_id, user_id, role.id))
        # a new Connection with the same credentials scoped to the project (connect_as_project keeps the
        # clouds.yaml project_name next to the id, which Keystone refuses)
        auth = {k: v for k, v in c.config.config["auth"].items() if not k.startswith("project_")}
        auth["project_id"] = project_id
        return type(c)(auth=auth, region_name=c.config.get_region_name(), interface=c.config.get_interface(),
                       identity_api_version="3", api_timeout=c.config.config.get("api_timeout"))

    def create_servers(self, project_id: str, names: list[str], *, flavor_id: str, image_id: str,
                       network_id: str | None, metadata: dict[str, str], timeout_s: float = 300,
                       rebuilds: int = 2, stuck_after_s: float = 60) -> list[dict]:
        """Create the named servers that do not exist yet in the project (found by name: idempotent)
        and wait until every one is ACTIVE or ERROR. A server that lands in ERROR (a scheduling or
        build failure, which a busy cloud produces now and then) is deleted and made again, at most
        `rebuilds` times within the timeout; one still in ERROR is returned with Nova's fault. So is a
        server left in BUILD with no task running for `stuck_after_s`: Nova dropped its build (a lost
        message or a failed database write while rescheduling) and would never finish it."""
        pc = self.project_conn(project_id)
        have = {s.name: s for s in self.cloud.call("list servers", lambda: list(pc.compute.servers()))}
        nets = [{"uuid": network_id}] if network_id else "none"

        def create(name: str) -> Any:
            kw = {"name": name, "flavor_id": flavor_id, "image_id": image_id, "networks": nets, "metadata": metadata}
            return self.cloud.call(f"create server {name}", lambda: pc.compute.create_server(**kw),
                                   recheck=lambda: pc.compute.find_server(name, ignore_missing=True))

        for name in names:
            if name not in have:
                have[name] = create(name)
        deadline = time.monotonic() + timeout_s
        out = []
        for name in names:
            s, left = have[name], rebuilds
            idle_since: float | None = None  # when this BUILD server was first seen with no task running
            while time.monotonic() < deadline:
                stuck = idle_since is not None and time.monotonic() - idle_since > stuck_after_s
                failed = s.status == "ERROR" or stuck
                if s.status == "ACTIVE" or (failed and left == 0):
                    break
                if failed:
                    left -= 1
                    self.cloud.call(f"delete server {name}", lambda s=s: pc.compute.delete_server(s.id))
                    self._wait_server_gone(pc, s.id, deadline)
                    s, idle_since = create(name), None
                    continue
                time.sleep(0.5)
                s = self.cloud.call(f"get server {name}", lambda s=s: pc.compute.get_server(s.id))
                if s.status == "BUILD" and not getattr(s, "task_state", None):
                    idle_since = idle_since or time.monotonic()
                else:
                    idle_since = None
            row = {"id": s.id, "name": s.name, "status": s.status}
            if s.status == "ERROR":
                row["fault"] = (getattr(s, "fault", None) or {}).get("message")
            elif s.status == "BUILD" and idle_since is not None:
                row["fault"] = "stuck in BUILD with no task running (Nova dropped the build)"
            out.append(row)
        return out

    def _wait_server_gone(self, pc: Any, server_id: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.cloud.call("find server", lambda: pc.compute.find_server(server_id, ignore_missing=True)) is None:
                return
            time.sleep(0.5)

    def create_volumes(self, project_id: str, names: list[str], *, size_gb: int, metadata: dict[str, str],
                       timeout_s: float = 300) -> list[dict]:
        """Create the named volumes missing in the project and wait until they are available. A volume
        in `error` (e.g. no backend has reported capacity yet after a restart) is deleted and made again
        until the timeout."""
        pc = self.project_conn(project_id)
        bs = pc.block_storage
        have = {v.name: v for v in self.cloud.call("list volumes", lambda: list(bs.volumes()))}
        deadline = time.monotonic() + timeout_s

        def create(name: str) -> Any:
            kw = {"name": name, "size": size_gb, "metadata": metadata}
            return self.cloud.call(f"create volume {name}", lambda: bs.create_volume(**kw))

        for name in names:
            if name not in have:
                have[name] = create(name)
        out = []
        for name in names:
            v = have[name]
            while v.status not in ("available", "in-use") and time.monotonic() < deadline:
                if v.status == "error":
                    self.cloud.call(f"delete volume {name}", lambda v=v: bs.delete_volume(v.id, ignore_missing=True))
                    time.sleep(3)
                    v = create(name)
                    continue
                time.sleep(0.5)
                v = self.cloud.call(f"get volume {name}", lambda v=v: bs.get_volume(v.id))
            out.append({"id": v.id, "name": v.name, "status": v.status, "size": size_gb})
        return out

    # ------------------------------------------------------------ reclaim
    def snapshot_server(self, server_id: str, name: str, timeout_s: float = 300) -> str:
        """Ask Nova for an image of the server and wait until Nova has finished with it (task_state
        cleared): then the server may be deleted. Returns the Glance image id."""
        c = self.conn
        img = self.cloud.call("snapshot server", lambda: c.compute.create_server_image(server_id, name, wait=False))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            s = self.cloud.call("get server", lambda: c.compute.get_server(server_id))
            if not s.task_state:
                break
            time.sleep(0.5)
        else:
            raise OperationFailed(f"snapshot of server {server_id} not finished after {timeout_s:.0f} s")
        image_id = img.id if hasattr(img, "id") else str(img)
        found = self.cloud.call("find snapshot image", lambda: c.image.find_image(image_id, ignore_missing=True))
        if found is None or found.status in ("killed", "deleted"):  # Nova removes the image of a failed snapshot
            raise OperationFailed(f"snapshot of server {server_id} failed in Nova (image {image_id} gone); "
                                  "the server is kept")
        return image_id

    def delete(self, kind: str, resource_id: str) -> bool:
        """Delete a server, volume or floating IP; False if it was already gone (idempotent)."""
        fn = {"server": self.conn.compute.delete_server, "volume": self.conn.block_storage.delete_volume,
              "floating_ip": self.conn.network.delete_ip}[kind]
        try:
            self.cloud.call(f"delete {kind} {resource_id}", lambda: fn(resource_id, ignore_missing=False))
        except OperationFailed as e:
            if _not_found(e):
                return False
            raise
        return True
