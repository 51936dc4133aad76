"""Roles (explicit allow-lists of registered permissions) and their grants to operators.

The built-in role `admin` holds the whole power list by definition (every permission in
cloudctl.power.registry, including ones a later version adds); every other role holds
exactly the permissions stored for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from cloudctl.audit import Actor, record_change
from cloudctl.audit.log import now_utc
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.power.registry import POWER_LIST, expand
from cloudctl.store.tables.approvals import power_grant, power_role, power_role_permission

ADMIN = "admin"
ROLE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Scope:
    """Where an action applies: a department code and/or a region (division) code."""

    dept: str | None = None
    region: str | None = None

    @classmethod
    def parse(cls, value: Scope | str | dict[str, str] | None) -> Scope:
        if value is None:
            return cls()
        if isinstance(value, Scope):
            return value
        if isinstance(value, dict):
            return cls(value.get("dept"), value.get("region"))
        kind, _, code = str(value).partition(":")
        if kind not in ("dept", "region") or not code:
            raise InputError(f"bad scope {value!r}", field="scope", hint="dept:CODE or region:DIVISION_CODE")
        return cls(dept=code) if kind == "dept" else cls(region=code)

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("dept", self.dept), ("region", self.region)) if v}


@dataclass(frozen=True)
class Grant:
    operator: str
    role: str
    scope_kind: str  # "" | dept | region
    scope_value: str
    granted_at: str
    granted_by: str

    @property
    def scope_label(self) -> str:
        return f"{self.scope_kind}:{self.scope_value}" if self.scope_kind else "*"

    def as_row(self) -> dict[str, Any]:
        return {"operator": self.operator, "role": self.role, "scope": self.scope_label,
                "granted_at": self.granted_at, "granted_by": self.granted_by}


def role_permissions(conn: Connection, role: str) -> list[str]:
    if role == ADMIN:
        return [p.name for p in POWER_LIST]
    rows = conn.execute(select(power_role_permission.c.permission).where(power_role_permission.c.role == role))
    return sorted(r[0] for r in rows)


def list_roles(conn: Connection) -> list[dict[str, Any]]:
    roles = conn.execute(select(power_role).order_by(power_role.c.name)).all()
    return [{"role": r.name, "description": r.description, "permissions": role_permissions(conn, r.name),
             "created_at": r.created_at, "created_by": r.created_by} for r in roles]


def list_grants(conn: Connection, operator: str | None = None) -> list[Grant]:
    q = select(power_grant).order_by(power_grant.c.operator, power_grant.c.role, power_grant.c.scope_kind,
                                     power_grant.c.scope_value)
    if operator:
        q = q.where(power_grant.c.operator == operator)
    return [Grant(r.operator, r.role, r.scope_kind, r.scope_value, r.granted_at, r.granted_by)
            for r in conn.execute(q)]


def grant_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(power_grant)).scalar_one())


def _role_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(power_role.c.name).where(power_role.c.name == name)).first() is not None


def _ensure_admin_role(conn: Connection, actor: Actor) -> None:
    if not _role_exists(conn, ADMIN):
        conn.execute(insert(power_role).values(name=ADMIN, description="the whole power list (built in)",
                                               created_at=now_utc(), created_by=actor.name))


def create_role(conn: Connection, name: str, allow: list[str], actor: Actor,
                description: str | None = None) -> dict[str, Any]:
    """A new role allowing exactly `allow` (names or 'group.*' patterns of registered permissions)."""
    if not ROLE_RE.match(name or "") or name == ADMIN:
        raise InputError(f"bad role name {name!r}", field="NAME",
                         hint="lower-case letters, digits, '.', '_', '-'; 'admin' is built in")
    if not allow:
        raise InputError("a role needs at least one permission", field="--allow", hint="cloudctl power list")
    try:
        perms = expand(allow)
    except KeyError as e:
        raise InputError(f"{e.args[0]!r} is not on the power list", field="--allow",
                         hint="cloudctl power list shows every permission") from e
    if _role_exists(conn, name):
        raise ConflictError(f"role {name!r} already exists", hint="delete it first, or choose another name")
    conn.execute(insert(power_role).values(name=name, description=description, created_at=now_utc(),
                                           created_by=actor.name))
    conn.execute(insert(power_role_permission), [{"role": name, "permission": p} for p in perms])
    after = {"role": name, "permissions": perms, "description": description}
    record_change(conn, actor, "role.create", "role", name, None, after)
    return after


def delete_role(conn: Connection, name: str, actor: Actor) -> None:
    if name == ADMIN:
        raise InputError("the admin role is built in and cannot be deleted", field="NAME")
    if not _role_exists(conn, name):
        raise NotFoundError(f"no role named {name!r}", field="NAME", hint="cloudctl role list")
    holders = [g.operator for g in list_grants(conn) if g.role == name]
    if holders:
        raise ConflictError(f"role {name!r} is still granted to {', '.join(sorted(set(holders)))}",
                            hint="revoke it first")
    before = {"role": name, "permissions": role_permissions(conn, name)}
    conn.execute(delete(power_role_permission).where(power_role_permission.c.role == name))
    conn.execute(delete(power_role).where(power_role.c.name == name))
    record_change(conn, actor, "role.delete", "role", name, before, None)


def scope_columns(scope: Scope | str | None) -> tuple[str, str]:
    s = Scope.parse(scope)
    if s.dept and s.region:
        raise InputError("a grant is scoped to a department or a region, not both", field="--dept/--region")
    if s.dept:
        return "dept", s.dept
    if s.region:
        return "region", s.region
    return "", ""


def grant_role(conn: Connection, role: str, operator: str, actor: Actor, scope: Scope | str | None = None) -> Grant:
    """Grant `role` to `operator`, optionally for one department or region. Idempotent."""
    if not operator.strip():
        raise InputError("operator name is empty", field="OPERATOR")
    if role == ADMIN:
        _ensure_admin_role(conn, actor)
    elif not _role_exists(conn, role):
        raise NotFoundError(f"no role named {role!r}", field="ROLE", hint="cloudctl role list")
    kind, value = scope_columns(scope)
    for g in list_grants(conn, operator):
        if (g.role, g.scope_kind, g.scope_value) == (role, kind, value):
            return g
    at = now_utc()
    conn.execute(insert(power_grant).values(operator=operator, role=role, scope_kind=kind, scope_value=value,
                                            granted_at=at, granted_by=actor.name))
    grant = Grant(operator, role, kind, value, at, actor.name)
    record_change(conn, actor, "role.grant", "operator", operator, None, grant.as_row(), at=at)
    return grant


def revoke_role(conn: Connection, role: str, operator: str, actor: Actor, scope: Scope | str | None = None) -> Grant:
    kind, value = scope_columns(scope)
    found = next((g for g in list_grants(conn, operator)
                  if (g.role, g.scope_kind, g.scope_value) == (role, kind, value)), None)
    if found is None:
        label = f"{kind}:{value}" if kind else "every scope"
        raise NotFoundError(f"{operator!r} does not hold role {role!r} for {label}", field="ROLE",
                            hint=f"cloudctl role list --operator {operator}")
    if role == ADMIN and not kind:
        admins = [g for g in list_grants(conn) if g.role == ADMIN and not g.scope_kind]
        if len(admins) == 1:
            raise ConflictError("refusing to revoke the last unscoped admin grant (nobody could manage roles)",
                                hint="grant admin to another operator first")
    conn.execute(delete(power_grant).where(
        (power_grant.c.operator == operator) & (power_grant.c.role == role)
        & (power_grant.c.scope_kind == kind) & (power_grant.c.scope_value == value)))
    record_change(conn, actor, "role.revoke", "operator", operator, found.as_row(), None)
    return found


def bootstrap_store(store: Any, operator: str, actor: Actor) -> Grant:
    """`role bootstrap`: the first-operator rule in its own transaction."""
    with store.begin() as conn:
        return bootstrap(conn, operator, actor)


def bootstrap(conn: Connection, operator: str, actor: Actor) -> Grant:
    """Grant `admin` to `operator` when nobody holds any role yet (the first-operator rule)."""
    if grant_count(conn):
        raise ConflictError("the power list is already bootstrapped (roles are granted)",
                            hint="an admin grants roles with `cloudctl role grant`")
    _ensure_admin_role(conn, actor)
    at = now_utc()
    conn.execute(insert(power_grant).values(operator=operator, role=ADMIN, scope_kind="", scope_value="",
                                            granted_at=at, granted_by=actor.name))
    grant = Grant(operator, ADMIN, "", "", at, actor.name)
    record_change(conn, actor, "role.bootstrap", "operator", operator, None, grant.as_row(), at=at)
    return grant
