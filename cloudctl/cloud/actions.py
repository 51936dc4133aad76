"""The shared cloud's actions: departments and their members, quotas, settings, overcommit, apply.

Department-scoped on the power list (and region-scoped through the department's division): an
operator granted `dept.*` for region 51 manages Sichuan's departments. The department must exist
(and, for changes, be active) when the command is given: that is bad input, refused before
authorization.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from sqlalchemy import Connection, select

from cloudctl.action import Action, Context, Inputs
from cloudctl.cloud import departments as depts
from cloudctl.cloud.model import QUOTA_KEYS, ROLES
from cloudctl.errors import ConflictError, NotFoundError
from cloudctl.fields import DeptCode, DivisionCode, Name, Text
from cloudctl.power.roles import Scope
from cloudctl.store.tables.cloud import department
from cloudctl.store.tables.divisions import division


def dept_scope(conn: Connection, code: str, field: str = "code", *, active: bool = True) -> Scope:
    """The department's scope (its code and its division); NotFoundError when it does not exist."""
    row = conn.execute(select(department.c.status, department.c.division_code).where(department.c.code == code)
                       ).first()
    if row is None or (active and row.status != "active"):
        raise NotFoundError(f"no {'active ' if active else ''}department {code!r}", field=field,
                            hint="cloudctl dept list")
    return Scope(dept=code, region=row.division_code)


# ---- departments ----------------------------------------------------------------------------

class CreateDept(Inputs):
    name: Name
    code: DeptCode
    division: DivisionCode
    contact: Text | None = None


def _new_dept(conn: Connection, inputs: CreateDept) -> Scope:
    if conn.execute(select(division.c.code).where(division.c.code == inputs.division)).first() is None:
        raise NotFoundError(f"no division with code {inputs.division!r}", field="division",
                            hint="cloudctl divisions search NAME")
    existing = conn.execute(select(department.c.code, department.c.name).where(
        (department.c.code == inputs.code) | (department.c.name == inputs.name))).first()
    if existing is not None:
        raise ConflictError(f"department {existing.code!r} ({existing.name}) already exists",
                            hint="choose another code/name, or `cloudctl dept show CODE`")
    return Scope(dept=inputs.code, region=inputs.division)


def _create_dept(ctx: Context, inputs: CreateDept) -> dict[str, Any]:
    return depts.create_department(ctx.store, ctx.actor, code=inputs.code, name=inputs.name, division=inputs.division,
                                   contact=inputs.contact)


CREATE_DEPT = Action("dept.create", CreateDept, _create_dept, scope=_new_dept)


class DeptRef(Inputs):
    code: DeptCode


def _retire_scope(conn: Connection, inputs: DeptRef) -> Scope:
    return dept_scope(conn, inputs.code, active=False)


def _retire(ctx: Context, inputs: DeptRef) -> dict[str, Any]:
    return depts.retire_department(ctx.store, ctx.actor, inputs.code)


RETIRE_DEPT = Action("dept.retire", DeptRef, _retire, scope=_retire_scope,
                     confirm=lambda i: (f"retire department {i.code}? the next apply deletes its OpenStack resources",
                                        i.code))


class Member(Inputs):
    code: DeptCode
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$", description="lower-case letters, digits, _ and -")
    role: Literal[ROLES] = "member"  # type: ignore[valid-type]


class MemberRef(Inputs):
    code: DeptCode
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")


def _member_scope(conn: Connection, inputs: Member | MemberRef) -> Scope:
    return dept_scope(conn, inputs.code)


def _add_member(ctx: Context, inputs: Member) -> dict[str, Any]:
    depts.set_member(ctx.store, ctx.actor, inputs.code, inputs.username, inputs.role)
    return {"dept": inputs.code, "user": inputs.username, "role": inputs.role}


def _remove_member(ctx: Context, inputs: MemberRef) -> dict[str, Any]:
    depts.set_member(ctx.store, ctx.actor, inputs.code, inputs.username, None)
    return {"dept": inputs.code, "user": inputs.username, "role": None}


ADD_MEMBER = Action("dept.member.add", Member, _add_member, scope=_member_scope)
REMOVE_MEMBER = Action("dept.member.remove", MemberRef, _remove_member, scope=_member_scope,
                       confirm=lambda i: (f"remove {i.code}.{i.username}? the next apply deletes the Keystone user",
                                          i.username))


# ---- quotas, settings, overcommit -----------------------------------------------------------

class SetQuota(Inputs):
    dept: DeptCode
    quotas: dict[str, int]

    @model_validator(mode="after")
    def _known(self) -> SetQuota:
        if not self.quotas:
            raise ValueError("no quota given (e.g. --vcpus 40 --ram 81920)")
        for k, v in self.quotas.items():
            if k not in QUOTA_KEYS:
                raise ValueError(f"unknown quota {k!r}: one of {', '.join(QUOTA_KEYS)}")
            if not -1 <= v <= 10**9:
                raise ValueError(f"quota {k} must be between 0 and 10^9, or -1 for unlimited; got {v}")
        return self


def _quota_scope(conn: Connection, inputs: SetQuota) -> Scope:
    return dept_scope(conn, inputs.dept, "dept")


def _set_quota(ctx: Context, inputs: SetQuota) -> dict[str, Any]:
    from cloudctl.cloud.quotas import set_quotas

    set_quotas(ctx.store, ctx.open_cloud(), ctx.actor, inputs.dept, dict(inputs.quotas))
    return {"dept": inputs.dept, "quotas": dict(inputs.quotas)}


SET_QUOTA = Action("quota.set", SetQuota, _set_quota, scope=_quota_scope)


class CloudSetting(Inputs):
    key: str = Field(max_length=64)
    value: str = Field(max_length=200)

    @model_validator(mode="after")
    def _known(self) -> CloudSetting:
        if self.key not in depts.SETTINGS_DEFAULTS:
            raise ValueError(f"unknown setting {self.key!r}: one of {', '.join(depts.SETTINGS_DEFAULTS)}")
        return self


def _set_setting(ctx: Context, inputs: CloudSetting) -> dict[str, str]:
    depts.set_setting(ctx.store, ctx.actor, inputs.key, inputs.value)
    return {"key": inputs.key, "value": inputs.value}


SET_CLOUD_SETTING = Action("cloud.settings.set", CloudSetting, _set_setting)


class Overcommit(Inputs):
    vcpu: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False)
    ram: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False)
    disk: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False)

    @model_validator(mode="after")
    def _something(self) -> Overcommit:
        if self.vcpu is None and self.ram is None and self.disk is None:
            raise ValueError("give at least one of --vcpu, --ram, --disk")
        return self


def _overcommit(ctx: Context, inputs: Overcommit) -> dict[str, str]:
    out = {}
    for key, value in (("overcommit_vcpu", inputs.vcpu), ("overcommit_ram", inputs.ram),
                       ("overcommit_disk", inputs.disk)):
        if value is not None:
            depts.set_setting(ctx.store, ctx.actor, key, f"{value:g}")
            out[key] = f"{value:g}"
    return out


SET_OVERCOMMIT = Action("pool.overcommit.set", Overcommit, _overcommit)


# ---- apply --------------------------------------------------------------------------------

class Apply(Inputs):
    only: list[DeptCode] = Field(default_factory=list, max_length=1000)
    workers: int = Field(16, ge=1, le=64)
    deep: bool = False


def _apply_scope(conn: Connection, inputs: Apply) -> list[Scope] | None:
    if not inputs.only:
        return None
    return [dept_scope(conn, code, "only", active=False) for code in inputs.only]


def _apply(ctx: Context, inputs: Apply) -> dict[str, Any]:
    """Plan and apply; the per-department results (the caller reports partial failure)."""
    import time

    from cloudctl.cloud.reconcile import apply_plan, make_plan

    t0 = time.perf_counter()
    cloud = ctx.open_cloud()
    plan = make_plan(ctx.store, cloud, only=list(inputs.only) or None, deep=inputs.deep)
    results = apply_plan(ctx.store, cloud, plan, ctx.actor, workers=inputs.workers, progress=ctx.progress)
    return {"plan": plan, "results": results, "api_calls": cloud.counter.total,
            "seconds": time.perf_counter() - t0}


APPLY = Action("cloud.apply", Apply, _apply, scope=_apply_scope)

ACTIONS = (CREATE_DEPT, RETIRE_DEPT, ADD_MEMBER, REMOVE_MEMBER, SET_QUOTA, SET_CLOUD_SETTING, SET_OVERCOMMIT, APPLY)

