"""The isolation gateways' actions: import a policy (publications through approval), deploy it
commit-confirmed, confirm a pending deploy. Unscoped on the power list."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, PrivateAttr, model_validator
from sqlalchemy import Connection

from cloudctl.action import Action, Context, Inputs
from cloudctl.fields import IsoDate, ShortName


class ImportPolicy(Inputs):
    source: str = Field(max_length=4096, description="the policy file")
    approval_policy: ShortName = "gateway"
    _policy: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _load(self) -> ImportPolicy:
        from cloudctl.gateway.policy import load_policy
        from cloudctl.gateway.stored import refuse_shares

        self._policy = refuse_shares(load_policy(self.source))
        return self

    @property
    def policy(self) -> Any:
        return self._policy


def _approval_policy_exists(conn: Connection, inputs: ImportPolicy) -> None:
    from cloudctl.approvals.requests import get_policy

    get_policy(conn, inputs.approval_policy)


def _import(ctx: Context, inputs: ImportPolicy) -> Any:
    from cloudctl.gateway.stored import import_policy

    return import_policy(ctx.store, ctx.actor, inputs.policy, approval_policy=inputs.approval_policy,
                         source=inputs.source, now=ctx.clock.now())


IMPORT_POLICY = Action("gateway.import", ImportPolicy, _import, scope=_approval_policy_exists)


class Deploy(Inputs):
    name_or_file: str = Field(max_length=4096)
    confirm_within: int = Field(120, ge=0, le=86400)
    check: bool = False
    at: IsoDate | None = None

    @model_validator(mode="after")
    def _valid_file(self) -> Deploy:
        """A policy file must load and check before anyone is asked (a stored gateway is looked up below)."""
        if _is_file(self.name_or_file):
            from cloudctl.gateway.policy import load_policy

            load_policy(self.name_or_file)
        return self


def _is_file(name_or_file: str) -> bool:
    from pathlib import Path

    path = Path(name_or_file).expanduser()
    return path.is_file() or path.suffix in (".yaml", ".yml", ".json")


def _stored_gateway(conn: Connection, name: str, field: str) -> None:
    from sqlalchemy import select

    from cloudctl.errors import NotFoundError
    from cloudctl.store.tables.gateway import gateway_policy

    if conn.execute(select(gateway_policy.c.name).where(gateway_policy.c.name == name)).first() is None:
        raise NotFoundError(f"no policy file and no stored gateway named {name!r}", field=field,
                            hint="give a policy file, or import one: cloudctl gateway import FILE")


def _deploy_target(conn: Connection, inputs: Deploy) -> None:
    if not _is_file(inputs.name_or_file):
        _stored_gateway(conn, inputs.name_or_file, "name_or_file")


def _deploy(ctx: Context, inputs: Deploy) -> Any:
    from cloudctl.gateway.deploy import deploy_gateway

    at: date = inputs.at or ctx.clock.today()
    return deploy_gateway(ctx.store, ctx.actor, inputs.name_or_file, confirm_within=inputs.confirm_within, at=at,
                          on_host=ctx.progress, check=inputs.check)


DEPLOY = Action("gateway.deploy", Deploy, _deploy, scope=_deploy_target)


class Confirm(Inputs):
    name: ShortName
    deploy_id: str | None = Field(None, max_length=100)


def _confirm(ctx: Context, inputs: Confirm) -> Any:
    from cloudctl.gateway.deploy import confirm_gateway

    return confirm_gateway(ctx.store, ctx.actor, inputs.name, deploy_id=inputs.deploy_id, on_host=ctx.progress)


def _confirm_target(conn: Connection, inputs: Confirm) -> None:
    """The gateway must be a managed host: that is where the pending deploy is confirmed."""
    from cloudctl.automation.hosts import get_host
    from cloudctl.errors import InputError, NotFoundError

    host = get_host(conn, inputs.name)
    if host is None:
        raise NotFoundError(f"no managed host named {inputs.name!r}", field="name",
                            hint=f"register it: cloudctl inventory add {inputs.name} --role gateway --address IP")
    if host.role != "gateway":
        raise InputError(f"host {inputs.name!r} is registered as {host.role!r}, not as a gateway", field="name")


CONFIRM = Action("gateway.confirm", Confirm, _confirm, scope=_confirm_target)

ACTIONS = (IMPORT_POLICY, DEPLOY, CONFIRM)
