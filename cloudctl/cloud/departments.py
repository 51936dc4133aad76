"""Departments in the store: create, list, show, retire; quotas, members, settings, resource records.

Every change goes through one transaction with its audit record. The subnet comes from the
address plan (cloudctl.ipam) at creation: idempotent per owner ``dept:<code>``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from cloudctl.audit import Actor, record_change
from cloudctl.audit.log import now_utc
from cloudctl.cloud.model import DEFAULT_QUOTAS, QUOTA_KEYS, ROLES, DesiredDept
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.store import Store
from cloudctl.store.tables.cloud import (
    applied_quota,
    cloud_resource,
    cloud_setting,
    department,
    department_member,
    department_quota,
)

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
USER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
SETTINGS_DEFAULTS = {
    "external_network": "",  # empty: departments get no router
    "ipam_pool": "departments",
    "subnet_length": "24",
    "overcommit_vcpu": "",  # empty: placement's allocation ratio
    "overcommit_ram": "",
    "overcommit_disk": "",
}


def owner_key(code: str) -> str:
    return f"dept:{code}"


def _check_code(code: str) -> None:
    if not CODE_RE.match(code):
        raise InputError(f"invalid department code {code!r}", field="--code",
                         hint="lower-case letters, digits and '-', 1-31 characters, e.g. 'finance'")


def get_settings(conn: Connection) -> dict[str, str]:
    out = dict(SETTINGS_DEFAULTS)
    out.update({r.key: r.value for r in conn.execute(select(cloud_setting))})
    return out


def set_setting(store: Store, actor: Actor, key: str, value: str) -> None:
    if key not in SETTINGS_DEFAULTS:
        raise InputError(f"unknown setting {key!r}", field="key", hint="one of: " + ", ".join(SETTINGS_DEFAULTS))
    with store.begin() as conn:
        before = get_settings(conn)[key]
        conn.execute(delete(cloud_setting).where(cloud_setting.c.key == key))
        conn.execute(insert(cloud_setting).values(key=key, value=value))
        record_change(conn, actor, "cloud.setting", "cloud_setting", key, before, value)


def _allocate_subnet(conn: Connection, code: str, settings: dict[str, str], actor: Actor) -> str:
    from cloudctl.ipam import allocate_prefix

    prefix = allocate_prefix(conn, settings["ipam_pool"], int(settings["subnet_length"]), owner_key(code), actor)
    return str(prefix)


def create_department(store: Store, actor: Actor, *, code: str, name: str, division: str,
                      contact: str | None = None, quotas: dict[str, int] | None = None) -> dict[str, Any]:
    _check_code(code)
    if not name.strip():
        raise InputError("department name is empty", field="NAME")
    quotas = {**DEFAULT_QUOTAS, **(quotas or {})}
    with store.begin() as conn:
        existing = conn.execute(select(department).where(
            (department.c.code == code) | (department.c.name == name))).first()
        if existing is not None:
            raise ConflictError(f"department {existing.code!r} ({existing.name}) already exists",
                                hint="choose another code/name, or `cloudctl dept show CODE`")
        settings = get_settings(conn)
        cidr = _allocate_subnet(conn, code, settings, actor)
        row = {"code": code, "name": name, "division_code": division, "contact": contact, "status": "active",
               "cidr": cidr, "created_at": now_utc(), "retired_at": None}
        conn.execute(insert(department).values(**row))
        conn.execute(insert(department_quota), [{"dept_code": code, "resource": k, "value": v}
                                                for k, v in sorted(quotas.items())])
        record_change(conn, actor, "dept.create", "department", code, None, {**row, "quotas": quotas})
    return {**row, "quotas": quotas}


def _get_row(conn: Connection, code: str) -> Any:
    row = conn.execute(select(department).where(department.c.code == code)).first()
    if row is None:
        raise NotFoundError(f"no department {code!r}", field="DEPT", hint="see `cloudctl dept list`")
    return row


def show_department(conn: Connection, code: str) -> dict[str, Any]:
    row = _get_row(conn, code)
    quotas = {r.resource: int(r.value) for r in conn.execute(
        select(department_quota).where(department_quota.c.dept_code == code))}
    members = {r.username: r.role for r in conn.execute(
        select(department_member).where(department_member.c.dept_code == code))}
    resources = [dict(r._mapping) for r in conn.execute(
        select(cloud_resource).where(cloud_resource.c.dept_code == code).order_by(cloud_resource.c.kind))]
    return {**dict(row._mapping), "quotas": quotas, "members": members, "resources": resources}


def list_departments(conn: Connection, *, include_retired: bool = False) -> list[dict[str, Any]]:
    q = select(department).order_by(department.c.code)
    if not include_retired:
        q = q.where(department.c.status == "active")
    return [dict(r._mapping) for r in conn.execute(q)]


def retire_department(store: Store, actor: Actor, code: str) -> dict[str, Any]:
    """Mark retired: the next apply removes what cloudctl created; the subnet returns to the plan then."""
    with store.begin() as conn:
        row = _get_row(conn, code)
        if row.status == "retired":
            return dict(row._mapping)
        at = now_utc()
        conn.execute(update(department).where(department.c.code == code).values(status="retired", retired_at=at))
        record_change(conn, actor, "dept.retire", "department", code, {"status": row.status},
                      {"status": "retired", "retired_at": at})
        return {**dict(row._mapping), "status": "retired", "retired_at": at}


def set_member(store: Store, actor: Actor, code: str, username: str, role: str | None) -> None:
    """Add or change (role) or remove (role=None) a department member."""
    if not USER_RE.match(username):
        raise InputError(f"invalid user name {username!r}", field="USERNAME",
                         hint="lower-case letters, digits, '_' and '-'")
    if role is not None and role not in ROLES:
        raise InputError(f"unknown role {role!r}", field="--role", hint="one of: " + ", ".join(ROLES))
    with store.begin() as conn:
        _get_row(conn, code)
        before = conn.execute(select(department_member.c.role).where(
            (department_member.c.dept_code == code) & (department_member.c.username == username))).scalar()
        conn.execute(delete(department_member).where(
            (department_member.c.dept_code == code) & (department_member.c.username == username)))
        if role is not None:
            conn.execute(insert(department_member).values(dept_code=code, username=username, role=role))
        record_change(conn, actor, "dept.member", "department", code, {username: before}, {username: role})


def check_quota_names(quotas: dict[str, int]) -> None:
    for k, v in quotas.items():
        if k not in QUOTA_KEYS:
            raise InputError(f"unknown quota {k!r}", field=k, hint="one of: " + ", ".join(QUOTA_KEYS))
        if v < -1:
            raise InputError(f"quota {k} must be >= 0 (or -1 for unlimited), got {v}", field=f"--{k}")


def write_quotas(conn: Connection, actor: Actor, code: str, quotas: dict[str, int]) -> dict[str, int]:
    """Replace the given quota values (inside the caller's transaction); returns the previous values."""
    before = {r.resource: int(r.value) for r in conn.execute(
        select(department_quota).where(department_quota.c.dept_code == code))}
    conn.execute(delete(department_quota).where(
        (department_quota.c.dept_code == code) & department_quota.c.resource.in_(list(quotas))))
    conn.execute(insert(department_quota), [{"dept_code": code, "resource": k, "value": v}
                                            for k, v in sorted(quotas.items())])
    record_change(conn, actor, "quota.set", "department", code, {k: before.get(k) for k in quotas}, quotas)
    return before


def all_quotas(conn: Connection) -> dict[str, dict[str, int]]:
    """Desired quotas of active departments: {code: {resource: value}}."""
    q = select(department_quota).join(department, department.c.code == department_quota.c.dept_code).where(
        department.c.status == "active")
    out: dict[str, dict[str, int]] = {}
    for r in conn.execute(q):
        out.setdefault(r.dept_code, {})[r.resource] = int(r.value)
    return out


def desired_state(conn: Connection) -> list[DesiredDept]:
    """Every department (active and retired) with its quotas and members, in three queries."""
    quotas: dict[str, dict[str, int]] = {}
    for r in conn.execute(select(department_quota)):
        quotas.setdefault(r.dept_code, {})[r.resource] = int(r.value)
    members: dict[str, dict[str, str]] = {}
    for r in conn.execute(select(department_member)):
        members.setdefault(r.dept_code, {})[r.username] = r.role
    return [DesiredDept(r.code, r.name, r.status, r.cidr, quotas.get(r.code, {}), members.get(r.code, {}))
            for r in conn.execute(select(department).order_by(department.c.code))]


def applied_volume_quotas(conn: Connection) -> dict[str, dict[str, int]]:
    """Volume quota values last pushed to Cinder, per department."""
    names = [n for n, (svc, _) in QUOTA_KEYS.items() if svc == "volume"]
    out: dict[str, dict[str, int]] = {}
    for r in conn.execute(select(applied_quota).where(applied_quota.c.resource.in_(names))):
        out.setdefault(r.dept_code, {})[r.resource] = int(r.value)
    return out


def record_applied(conn: Connection, actor: Actor, code: str, ids: dict[str, str], summary: dict[str, Any],
                   *, retired_done: bool, quotas: dict[str, int] | None = None) -> None:
    """After a department's apply: the resources and quota values that now exist, one audit record."""
    at = now_utc()
    conn.execute(delete(applied_quota).where(applied_quota.c.dept_code == code))
    if quotas and "project" in ids:
        conn.execute(insert(applied_quota), [{"dept_code": code, "resource": k, "value": v}
                                             for k, v in sorted(quotas.items())])
    conn.execute(delete(cloud_resource).where(cloud_resource.c.dept_code == code))
    rows = [{"dept_code": code, "kind": k.split(":")[0], "name": k.split(":")[1] if ":" in k else k,
             "os_id": v, "applied_at": at} for k, v in sorted(ids.items())]
    if rows:
        conn.execute(insert(cloud_resource), rows)
    if retired_done:
        from cloudctl.ipam import release_prefix

        release_prefix(conn, owner_key(code), actor, missing_ok=True)
        conn.execute(update(department).where(department.c.code == code).values(cidr=None))
    record_change(conn, actor, "cloud.apply", "department", code, None, summary)
