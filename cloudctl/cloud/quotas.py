"""Quota commands' logic: the pool status, checked quota changes, quota vs usage for a department."""

from __future__ import annotations

from typing import Any

from cloudctl.audit import Actor
from cloudctl.cloud import departments as depts
from cloudctl.cloud.model import QUOTA_KEYS
from cloudctl.cloud.pool import PoolRow, check_quota_change, pool_rows
from cloudctl.errors import InputError
from cloudctl.store import Store


def pool_status(store: Store, cloud: Any) -> list[PoolRow]:
    capacity = cloud.capacity()
    with store.connect() as conn:
        return pool_rows(capacity, depts.get_settings(conn), depts.all_quotas(conn))


def set_quotas(store: Store, cloud: Any, actor: Actor, code: str, new: dict[str, int]) -> None:
    depts.check_quota_names(new)
    capacity = cloud.capacity()  # read before the transaction: no network call while holding the lock
    with store.begin() as conn:
        row = depts.show_department(conn, code)
        if row["status"] != "active":
            raise InputError(f"department {code} is retired", field="DEPT")
        quotas = depts.all_quotas(conn)
        check_quota_change(pool_rows(capacity, depts.get_settings(conn), quotas), quotas, code, new)
        depts.write_quotas(conn, actor, code, new)


def quota_report(store: Store, cloud: Any, code: str) -> list[dict[str, Any]]:
    with store.connect() as conn:
        row = depts.show_department(conn, code)
    observed = cloud.observe([code])
    have = observed.depts.get(code)
    if have is None or have.project is None:
        raise InputError(f"department {code} is not in the cloud yet", field="DEPT",
                         hint=f"cloudctl cloud apply --dept {code}")
    usage = cloud.usage(have.project.id)
    out = []
    for name in QUOTA_KEYS:
        quota = row["quotas"].get(name)
        used = usage.get(name)
        free = None if quota is None or used is None or quota == -1 else quota - used
        out.append({"resource": name, "quota": quota, "in_cloud": have.quotas.get(name), "used": used,
                    "free": free})
    return out
