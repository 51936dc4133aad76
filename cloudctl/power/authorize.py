"""Permission decisions: allowed only if the permission is registered and a role granted to the
operator allows it in the action's scope. Every decision, allowed or denied, is audited.

Two ways to use it:

    with authorized(store, actor, "ipam.allocate") as conn:   # decision committed first,
        allocate(conn, ...)                                    # then the action's transaction

    authorize(store_or_conn, actor, "quota.set", Scope(dept="health"))

A denial is committed on its own (one audit record, nothing else) before PermissionDenied
is raised. (With a Connection already inside the caller's transaction, the record is part
of that transaction: let PermissionDenied roll it back only if you mean to — prefer a Store.)

Bootstrap (the first-operator rule): while no operator holds any role at all, the OS user
running cloudctl (the installer) is granted `admin` by their first guarded command,
audited as role.bootstrap; anyone else is denied and told to run `cloudctl role bootstrap`.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text

from cloudctl.audit import Actor, record_change
from cloudctl.errors import PermissionDenied
from cloudctl.power import roles
from cloudctl.power.registry import lookup
from cloudctl.power.roles import Scope
from cloudctl.store import Store
from cloudctl.store.tables.divisions import division


@dataclass(frozen=True)
class Decision:
    allowed: bool
    operator: str
    permission: str
    scope: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    role: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"decision": "allow" if self.allowed else "deny", "operator": self.operator,
                "permission": self.permission, "scope": self.scope, "reason": self.reason, "role": self.role}


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        import os

        return f"uid:{os.getuid()}"


def _region_chain(conn: Connection, code: str) -> set[str]:
    """The region and every ancestor of it in the division registry (itself only if unknown)."""
    chain, current = {code}, code
    for _ in range(8):  # five levels; bounded whatever the data says
        parent = conn.execute(select(division.c.parent_code).where(division.c.code == current)).scalar()
        if not parent or parent in chain:
            break
        chain.add(parent)
        current = parent
    return chain


def _covers(conn: Connection, grant: roles.Grant, scope: Scope) -> bool:
    if not grant.scope_kind:
        return True
    if grant.scope_kind == "dept":
        return scope.dept == grant.scope_value
    return scope.region is not None and grant.scope_value in _region_chain(conn, scope.region)


def decide(conn: Connection, operator: str, permission: str, scope: Scope | str | None = None) -> Decision:
    """The decision alone (reads only, records nothing)."""
    s = Scope.parse(scope)
    if lookup(permission) is None:
        return Decision(False, operator, permission, s.as_dict(), "permission is not on the power list")
    grants = roles.list_grants(conn, operator)
    for g in grants:
        if permission in roles.role_permissions(conn, g.role) and _covers(conn, g, s):
            return Decision(True, operator, permission, s.as_dict(), f"granted by role {g.role} ({g.scope_label})",
                            g.role)
    if not grants:
        why = "the operator holds no role"
    elif any(permission in roles.role_permissions(conn, g.role) for g in grants):
        why = "granted only in another scope: " + ", ".join(
            f"{g.role} ({g.scope_label})" for g in grants if permission in roles.role_permissions(conn, g.role))
    else:
        why = "no role of the operator allows it (" + ", ".join(sorted({g.role for g in grants})) + ")"
    return Decision(False, operator, permission, s.as_dict(), why)


def database_login_mismatch(conn: Connection, operator: str) -> str | None:
    """On PostgreSQL, an operator's own database login may act only under its own name.

    Superusers and the database's owner (the platform's service role) may act as anyone.
    Returns the login name when it may not act as `operator`, else None.
    """
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(text(
        "SELECT current_user AS login, r.rolsuper AS su, "
        "pg_get_userbyid(d.datdba) = current_user AS owner "
        "FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()"
    )).one()
    if row.su or row.owner or row.login == operator:
        return None
    return str(row.login)


def decide_and_record(conn: Connection, actor: Actor, permission: str, scope: Scope | str | None = None) -> Decision:
    """Decide, bootstrap if this is the installer's first command, and write the audit record."""
    login = database_login_mismatch(conn, actor.name)
    if login is not None:
        decision = Decision(False, actor.name, permission, Scope.parse(scope).as_dict(),
                            f"database login {login!r} may act only as {login!r}")
        record_change(conn, actor, "power.deny", "permission", permission, None, decision.as_dict())
        return decision
    decision = decide(conn, actor.name, permission, scope)
    if not decision.allowed and lookup(permission) and roles.grant_count(conn) == 0 and actor.name == os_user():
        roles.bootstrap(conn, actor.name, actor)
        decision = decide(conn, actor.name, permission, scope)
    action = "power.allow" if decision.allowed else "power.deny"
    record_change(conn, actor, action, "permission", permission, None, decision.as_dict())
    return decision


def _denied(decision: Decision, conn: Connection) -> PermissionDenied:
    hint = "ask an admin: cloudctl role grant ROLE OPERATOR [--dept D|--region R]"
    if decision.reason.startswith("database login"):
        hint = "act under your own name (--as / CLOUDCTL_AS), or use your own database login"
    if decision.reason == "the operator holds no role" and roles.grant_count(conn) == 0:
        hint = "nobody holds a role yet: run `cloudctl role bootstrap` as the installing OS user"
    where = f" for {', '.join(f'{k} {v}' for k, v in decision.scope.items())}" if decision.scope else ""
    err = PermissionDenied(f"{decision.operator!r} may not {decision.permission}{where}: {decision.reason}",
                           hint=hint)
    err.decision = decision  # type: ignore[attr-defined]
    return err


def authorize(conn: Store | Connection, actor: Actor, permission: str, scope: Scope | str | None = None) -> Decision:
    """Allow or raise PermissionDenied; the decision is audited either way (see the module doc)."""
    if isinstance(conn, Store):
        with conn.begin() as c:
            decision = decide_and_record(c, actor, permission, scope)
            error = None if decision.allowed else _denied(decision, c)
        if error is not None:
            raise error
        return decision
    decision = decide_and_record(conn, actor, permission, scope)
    if not decision.allowed:
        raise _denied(decision, conn)
    return decision


@contextmanager
def authorized(store: Store, actor: Actor, permission: str, scope: Scope | str | None = None) -> Iterator[Connection]:
    """Check and record the decision in its own committed transaction, then open the action's.

    The decision stays in the audit log even when the action itself then fails (every
    decision is audited); a denial raises before the action's transaction is opened.
    """
    authorize(store, actor, permission, scope)
    with store.begin() as conn:
        yield conn
