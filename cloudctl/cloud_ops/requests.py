"""Resource requests: the appliers that carry out approved quota increases, servers and volumes.

The payloads are checked, and their size fields computed, by the request kinds
(cloudctl/approvals/kinds.py); a server request's flavor is read from the cloud (`find_flavor`).
The appliers are wired in cloudctl/wiring.py and receive the cloud connection as an argument:
- quota-increase: raise the department's quotas in the store (checked against the pool), then
  plan/apply that department with the cloud capability's reconcile machinery;
- server / volume: create them in the department's project, named `req<ID>-<n>` (found by name on a
  retry: idempotent), servers on the department's network unless the payload names another.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select

from cloudctl import clock
from cloudctl.approvals.appliers import request_actor as _actor
from cloudctl.cloud import departments as depts
from cloudctl.errors import InputError, OperationFailed
from cloudctl.store import Store
from cloudctl.store.tables.cloud import cloud_resource
from cloudctl.store.tables.cloud_ops import request_apply


def find_flavor(cloud: Any, name: str) -> dict[str, Any] | None:
    """The flavor (vcpus, ram, disk) a server request names, read from the cloud."""
    from cloudctl.cloud_ops.openstack_ops import CloudOps

    return CloudOps(cloud).find_flavor(name)


def _dept(request: dict[str, Any]) -> str:
    if not request.get("dept"):
        raise InputError(f"request {request['id']} names no department", field="--dept")
    return request["dept"]


def apply_quota_increase(store: Store, request: dict[str, Any], cloud: Any) -> dict[str, Any]:
    from cloudctl.approvals.kinds import KINDS
    from cloudctl.cloud.pool import check_quota_change, pool_rows
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    code = _dept(request)
    inc = {k: v for k, v in KINDS["quota-increase"].parse(request["payload"]).model_dump().items() if v}
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
                                                      at=clock.stamp()))
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


def apply_servers(store: Store, request: dict[str, Any], cloud: Any) -> dict[str, Any]:
    from cloudctl.cloud_ops.openstack_ops import CloudOps

    code, ops = _dept(request), CloudOps(cloud)
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


def apply_volumes(store: Store, request: dict[str, Any], cloud: Any) -> dict[str, Any]:
    from cloudctl.cloud_ops.openstack_ops import CloudOps

    code, ops = _dept(request), CloudOps(cloud)
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
