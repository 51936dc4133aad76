"""Resource requests: quota increases, servers and volumes for a department, through the approval engine.

`normalise_payload` (at filing time) checks the payload and adds its *size* fields — vcpus, ram
(MB), instances, volumes, gigabytes — so the policy's `auto_approve.max` size tier can judge it.
The appliers (registered in the approval engine's registry) carry an approved request out:
- quota-increase: raise the department's quotas in the store (checked against the pool), then
  plan/apply that department with the cloud capability's reconcile machinery;
- server / volume: create them in the department's project, named `req<ID>-<n>` (found by name on a
  retry: idempotent), servers on the department's network unless the payload names another.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from cloudctl.approvals.appliers import register_applier
from cloudctl.audit import Actor
from cloudctl.cloud import departments as depts
from cloudctl.cloud.model import QUOTA_KEYS
from cloudctl.errors import InputError, OperationFailed
from cloudctl.store import Store
from cloudctl.store.tables.cloud import cloud_resource
from cloudctl.store.tables.cloud_ops import request_apply

KINDS = ("quota-increase", "server", "volume")
MAX_COUNT = 50


def _cloud() -> Any:
    from cloudctl.cloud.openstack_adapter import OpenStackCloud, resolve_cloud

    return OpenStackCloud(resolve_cloud(os.environ.get("CLOUDCTL_CLOUD")))


def _int(payload: dict[str, Any], key: str, *, minimum: int = 1, default: int | None = None) -> int:
    v = payload.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise InputError(f"payload field {key!r} must be an integer >= {minimum}", field=f"payload.{key}")
    return v


def normalise_payload(kind: str, payload: dict[str, Any], *, flavor: dict[str, Any] | None = None) -> dict:
    """The payload with its size fields; `flavor` (vcpus, ram, disk) is looked up by the caller."""
    if kind == "quota-increase":
        bad = sorted(set(payload) - set(QUOTA_KEYS))
        if bad or not payload:
            raise InputError(f"unknown quota {bad[0]!r}" if bad else "no quota to increase", field="payload",
                             hint="increments of: " + ", ".join(QUOTA_KEYS))
        return {k: _int(payload, k) for k in sorted(payload)}
    if kind == "server":
        for key in ("flavor", "image"):
            if not isinstance(payload.get(key), str) or not payload[key]:
                raise InputError(f"payload field {key!r} is required", field=f"payload.{key}")
        count = _int(payload, "count", default=1)
        if count > MAX_COUNT:
            raise InputError(f"at most {MAX_COUNT} servers per request", field="payload.count")
        if flavor is None:
            raise InputError(f"no flavor {payload['flavor']!r} in the cloud", field="payload.flavor")
        out = {k: payload[k] for k in ("flavor", "image", "network") if payload.get(k)}
        return {**out, "count": count, "instances": count, "vcpus": count * int(flavor["vcpus"]),
                "ram": count * int(flavor["ram"])}
    if kind == "volume":
        count, size = _int(payload, "count", default=1), _int(payload, "size_gb")
        if count > MAX_COUNT:
            raise InputError(f"at most {MAX_COUNT} volumes per request", field="payload.count")
        return {"size_gb": size, "count": count, "volumes": count, "gigabytes": count * size}
    raise InputError(f"unknown resource request kind {kind!r}", field="--kind", hint="one of: " + ", ".join(KINDS))


def prepare(kind: str, payload: dict[str, Any], cloud: Any | None = None) -> dict[str, Any]:
    """normalise_payload with the flavor read from the cloud for server requests."""
    flavor = None
    if kind == "server" and isinstance(payload.get("flavor"), str):
        from cloudctl.cloud_ops.openstack_ops import CloudOps

        flavor = CloudOps(cloud or _cloud()).find_flavor(payload["flavor"])
    return normalise_payload(kind, payload, flavor=flavor)


def _actor(request: dict[str, Any]) -> Actor:
    return Actor(f"request-{request['id']}", f"cloudctl request apply {request['id']} (by {request['requester']})")


def _dept(request: dict[str, Any]) -> str:
    if not request.get("dept"):
        raise InputError(f"request {request['id']} names no department", field="--dept")
    return request["dept"]


@register_applier("quota-increase")
def apply_quota_increase(store: Store, request: dict[str, Any], cloud: Any | None = None) -> dict[str, Any]:
    from cloudctl.cloud.pool import check_quota_change, pool_rows
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    code, cloud = _dept(request), cloud or _cloud()
    inc = normalise_payload("quota-increase", request["payload"])
    capacity = cloud.capacity()
    with store.begin() as conn:
        fixed = conn.execute(select(request_apply.c.targets).where(request_apply.c.request_id == request["id"])
                             ).scalar()
        if fixed is None:  # first apply: fix the targets, write them with their audit record
            quotas = depts.all_quotas(conn)
            current = quotas.get(code)
            if current is None:
                raise InputError(f"department {code} is not active", field="--dept")
            targets = {k: (-1 if current.get(k) == -1 else current.get(k, 0) + v) for k, v in inc.items()}
            check_quota_change(pool_rows(capacity, depts.get_settings(conn), quotas), quotas, code, targets)
            depts.write_quotas(conn, _actor(request), code, targets)
            conn.execute(insert(request_apply).values(request_id=request["id"], dept=code,
                                                      targets=json.dumps(targets, sort_keys=True),
                                                      at=datetime.now(UTC).isoformat(timespec="seconds")))
        else:
            targets = json.loads(fixed)
    plan = make_plan(store, cloud, only=[code])
    results = apply_plan(store, cloud, plan, _actor(request), workers=1)
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise OperationFailed(f"cloud apply for {code} failed: {failed[0]}")
    return {"dept": code, "quotas": targets, "cloud_changes": len(plan.actions)}


def _project_and_network(store: Store, code: str) -> tuple[str, str | None]:
    with store.connect() as conn:
        rows = dict(conn.execute(select(cloud_resource.c.kind, cloud_resource.c.os_id).where(
            (cloud_resource.c.dept_code == code) & cloud_resource.c.kind.in_(["project", "network"]))).all())
    if "project" not in rows:
        raise InputError(f"department {code} is not in the cloud yet", field="--dept",
                         hint=f"cloudctl cloud apply --dept {code}")
    return rows["project"], rows.get("network")


@register_applier("server")
def apply_servers(store: Store, request: dict[str, Any], cloud: Any | None = None) -> dict[str, Any]:
    from cloudctl.cloud_ops.openstack_ops import CloudOps

    code, ops = _dept(request), CloudOps(cloud or _cloud())
    p = request["payload"]
    project_id, network_id = _project_and_network(store, code)
    flavor = ops.find_flavor(p["flavor"])
    image_id = ops.find_image(p["image"])
    if flavor is None or image_id is None:
        raise InputError(f"flavor {p['flavor']!r} or image {p['image']!r} not found", field="payload")
    if p.get("network"):
        net = ops.cloud.call("find network", lambda: ops.conn.network.find_network(p["network"]))
        if net is None:
            raise InputError(f"network {p['network']!r} not found", field="payload.network")
        network_id = net.id
    names = [f"req{request['id']}-{i + 1}" for i in range(int(p.get("count", 1)))]
    servers = ops.create_servers(project_id, names, flavor_id=flavor["id"], image_id=image_id,
                                 network_id=network_id, metadata={"cloudctl-request": str(request["id"])})
    bad = [s for s in servers if s["status"] != "ACTIVE"]
    if bad:
        raise OperationFailed(f"{len(bad)} of {len(servers)} servers not ACTIVE: "
                              + ", ".join(f"{s['name']}={s['status']}" + (f" ({s['fault']})" if s.get("fault") else "")
                                          for s in bad))
    return {"dept": code, "project_id": project_id, "servers": servers}


@register_applier("volume")
def apply_volumes(store: Store, request: dict[str, Any], cloud: Any | None = None) -> dict[str, Any]:
    from cloudctl.cloud_ops.openstack_ops import CloudOps

    code, ops = _dept(request), CloudOps(cloud or _cloud())
    p = request["payload"]
    project_id, _ = _project_and_network(store, code)
    names = [f"req{request['id']}-vol{i + 1}" for i in range(int(p.get("count", 1)))]
    vols = ops.create_volumes(project_id, names, size_gb=int(p["size_gb"]),
                              metadata={"cloudctl-request": str(request["id"])})
    bad = [v for v in vols if v["status"] != "available"]
    if bad:
        raise OperationFailed(f"{len(bad)} of {len(vols)} volumes not available: "
                              + ", ".join(f"{v['name']}={v['status']}" for v in bad))
    return {"dept": code, "project_id": project_id, "volumes": vols}
