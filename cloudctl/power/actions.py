"""The power list's own actions: create and delete roles, grant and revoke them.

Unscoped on the power list (role.*): whoever may grant may grant anywhere. A role or grant that
does not exist is bad input, refused before authorization; `role bootstrap` is not an action (it is
the first-operator rule, allowed only while nobody holds any role: power/roles.py bootstrap).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Connection

from cloudctl.action import Action, Context, Inputs
from cloudctl.errors import InputError, NotFoundError
from cloudctl.fields import DeptCode, DivisionCode, ShortName, Text
from cloudctl.power import roles
from cloudctl.power.registry import expand


class CreateRole(Inputs):
    name: str = Field(max_length=64)
    allow: list[str] = Field(min_length=1, max_length=500)
    description: Text | None = None

    @field_validator("name")
    @classmethod
    def _role_name(cls, name: str) -> str:
        if not roles.ROLE_RE.match(name) or name == roles.ADMIN:
            raise ValueError("lower-case letters, digits, '.', '_', '-' (at most 64); 'admin' is built in")
        return name

    @field_validator("allow")
    @classmethod
    def _registered(cls, allow: list[str]) -> list[str]:
        try:
            expand(allow)
        except KeyError as e:
            raise ValueError(f"{str(e.args[0])[:60]!r} is not on the power list (cloudctl power list)") from None
        return allow


def _create(ctx: Context, inputs: CreateRole) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return roles.create_role(conn, inputs.name, inputs.allow, ctx.actor, inputs.description)


CREATE_ROLE = Action("role.create", CreateRole, _create)


class RoleName(Inputs):
    name: ShortName


def _existing_role(conn: Connection, inputs: RoleName) -> None:
    if inputs.name == roles.ADMIN:
        raise InputError("the admin role is built in and cannot be deleted", field="name")
    if inputs.name not in {r["role"] for r in roles.list_roles(conn)}:
        raise NotFoundError(f"no role named {inputs.name!r}", field="name", hint="cloudctl role list")


def _delete(ctx: Context, inputs: RoleName) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        roles.delete_role(conn, inputs.name, ctx.actor)
    return {"role": inputs.name, "deleted": True}


DELETE_ROLE = Action("role.delete", RoleName, _delete, scope=_existing_role,
                     confirm=lambda i: (f"delete role {i.name}?", i.name))


class Grant(Inputs):
    role_name: ShortName
    operator: ShortName
    dept: DeptCode | None = None
    region: DivisionCode | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> Grant:
        if self.dept and self.region:
            raise ValueError("a grant is scoped to a department or a region, not both")
        return self

    @property
    def scope(self) -> roles.Scope:
        return roles.Scope(dept=self.dept, region=self.region)


def _role_to_grant(conn: Connection, inputs: Grant) -> None:
    if inputs.role_name != roles.ADMIN and inputs.role_name not in {r["role"] for r in roles.list_roles(conn)}:
        raise NotFoundError(f"no role named {inputs.role_name!r}", field="role_name", hint="cloudctl role list")


def _grant(ctx: Context, inputs: Grant) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return roles.grant_role(conn, inputs.role_name, inputs.operator, ctx.actor, inputs.scope).as_row()


GRANT = Action("role.grant", Grant, _grant, scope=_role_to_grant)


def _held_grant(conn: Connection, inputs: Grant) -> None:
    wanted = (inputs.role_name, *roles.scope_columns(inputs.scope))
    if not any((g.role, g.scope_kind, g.scope_value) == wanted for g in roles.list_grants(conn, inputs.operator)):
        label = inputs.scope.as_dict() or "every scope"
        raise NotFoundError(f"{inputs.operator!r} does not hold role {inputs.role_name!r} for {label}",
                            field="role_name", hint=f"cloudctl role list --operator {inputs.operator}")


def _revoke(ctx: Context, inputs: Grant) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return roles.revoke_role(conn, inputs.role_name, inputs.operator, ctx.actor, inputs.scope).as_row()


REVOKE = Action("role.revoke", Grant, _revoke, scope=_held_grant,
                confirm=lambda i: (f"revoke role {i.role_name} from {i.operator}?", i.operator))

ACTIONS = (CREATE_ROLE, DELETE_ROLE, GRANT, REVOKE)
