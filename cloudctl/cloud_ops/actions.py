"""Idle reclaim's actions: run the warn -> grace -> reclaim lifecycle, and extend a grace period.

Department-scoped: `idle reclaim --dept D` needs idle.reclaim for D (each named department is
authorized); without --dept it needs an unscoped grant. A dry run prints the steps and changes
nothing, not even the audit log: it is a read (the action's preview).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, select

from cloudctl.action import Action, Context, Inputs
from cloudctl.cloud.actions import dept_scope
from cloudctl.errors import NotFoundError
from cloudctl.fields import DeptCode, Instant
from cloudctl.power.roles import Scope
from cloudctl.store.tables.cloud_ops import idle_resource


class Reclaim(Inputs):
    days: int = Field(30, ge=0, le=3650)
    fip_days: int = Field(0, ge=0, le=3650)
    depts: list[DeptCode] = Field(default_factory=list, max_length=1000)
    now: Instant | None = None
    grace: int = Field(7, ge=0, le=3650)
    server_action: Literal["snapshot", "delete"] = "snapshot"
    dry_run: bool = False

    def policy(self) -> Any:
        from cloudctl.cloud_ops.idle import IdlePolicy

        return IdlePolicy(days=self.days, grace_days=self.grace, fip_days=self.fip_days,
                          actions={"server": self.server_action, "volume": "delete", "floating_ip": "delete"})


def _reclaim_scope(conn: Connection, inputs: Reclaim) -> list[Scope] | None:
    return [dept_scope(conn, code, "depts", active=False) for code in sorted(inputs.depts)] or None


def _plan(ctx: Context, inputs: Reclaim) -> tuple[Any, datetime, list[Any]]:
    from cloudctl.cloud_ops.openstack_ops import CloudOps
    from cloudctl.cloud_ops.reclaim import plan_reclaim

    now: datetime = inputs.now or ctx.clock.now()
    ops = CloudOps(ctx.open_cloud())
    return ops, now, plan_reclaim(ctx.store, ops, now=now, policy=inputs.policy(), depts=list(inputs.depts) or None)


def _preview(ctx: Context, inputs: Reclaim) -> dict[str, Any]:
    return {"steps": _plan(ctx, inputs)[2], "done": []}


def _reclaim(ctx: Context, inputs: Reclaim) -> dict[str, Any]:
    """{"steps": every planned step, "done": what was carried out (empty when nothing is due)}."""
    from cloudctl.cloud_ops.reclaim import run_reclaim

    ops, now, steps = _plan(ctx, inputs)
    due = [s for s in steps if s.op in ("warn", "reclaim", "clear")]
    done = run_reclaim(ctx.store, ops, ctx.actor, due, now=now) if due else []
    return {"steps": steps, "done": done}


RECLAIM = Action("idle.reclaim", Reclaim, _reclaim, scope=_reclaim_scope, preview=_preview,
                 confirm=lambda i: ("warn newly idle resources and reclaim (snapshot/delete) those past their grace "
                                    "period?", "reclaim"))


class Extend(Inputs):
    resource_id: str = Field(min_length=1, max_length=100)
    days: int = Field(ge=1, le=3650)


def _extend_scope(conn: Connection, inputs: Extend) -> Scope | None:
    row = conn.execute(select(idle_resource.c.dept, idle_resource.c.state)
                       .where(idle_resource.c.resource_id == inputs.resource_id)).first()
    if row is None or row.state != "warned":
        raise NotFoundError(f"no warned idle resource {inputs.resource_id!r}", field="resource_id",
                            hint="cloudctl idle list shows warned resources")
    return dept_scope(conn, row.dept, "resource_id", active=False) if row.dept else None


def _extend(ctx: Context, inputs: Extend) -> dict[str, Any]:
    from cloudctl.cloud_ops.reclaim import extend

    return extend(ctx.store, ctx.actor, inputs.resource_id, inputs.days, now=ctx.clock.now())


EXTEND = Action("idle.extend", Extend, _extend, scope=_extend_scope)

ACTIONS = (RECLAIM, EXTEND)
