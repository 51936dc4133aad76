"""Showback's I/O glue: departments and quotas from the store, usage and volumes from OpenStack."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from cloudctl.cloud import departments as depts
from cloudctl.cloud_ops.openstack_ops import CloudOps
from cloudctl.cloud_ops.showback import ShowbackRow, showback
from cloudctl.errors import InputError
from cloudctl.store import Store
from cloudctl.store.tables.cloud import cloud_resource


def project_ids(store: Store, only: list[str] | None = None) -> dict[str, str]:
    """dept code -> OpenStack project id, as recorded by the last `cloud apply`."""
    with store.connect() as conn:
        rows = conn.execute(select(cloud_resource.c.dept_code, cloud_resource.c.os_id)
                            .where(cloud_resource.c.kind == "project")).all()
        known = {d["code"] for d in depts.list_departments(conn, include_retired=True)}
    out = {code: pid for code, pid in rows}
    if only:
        unknown = sorted(set(only) - known)
        if unknown:
            raise InputError(f"no such department: {', '.join(unknown)}", field="--dept",
                             hint="see `cloudctl dept list --all`")
        out = {c: p for c, p in out.items() if c in only}
    return out


def usage_report(store: Store, cloud: Any, start: datetime, end: datetime,
                 only: list[str] | None = None) -> list[ShowbackRow]:
    if end <= start:
        raise InputError("--to must be after --from", field="--to")
    project_of = project_ids(store, only)
    with store.connect() as conn:
        quotas = depts.all_quotas(conn)
    ops = CloudOps(cloud)
    usages = ops.tenant_usages(start, end)
    volumes = ops.list_volumes()
    return showback(tenant_usages=usages, volumes=volumes, quotas=quotas, project_of=project_of, start=start,
                    end=end)
