"""Automation's actions: register and remove managed hosts, run a playbook (unscoped on the power list)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator
from sqlalchemy import Connection, select

from cloudctl.action import Action, Context, Inputs
from cloudctl.audit import record_change
from cloudctl.automation.hosts import register_host, remove_host, validate_host
from cloudctl.automation.inventory import ManagedHost
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store.tables.hosts import managed_host


class AddHost(Inputs):
    name: str = Field(max_length=63)
    role: Literal["gateway", "agent"]
    address: str = Field(max_length=255)
    port: int = Field(22, ge=1, le=65535)
    ssh_user: str = Field("root", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    division_code: str | None = Field(None, max_length=12)
    vars: dict[str, Any] = Field(default_factory=dict, max_length=200)

    @model_validator(mode="after")
    def _valid(self) -> AddHost:
        validate_host(self.host())
        return self

    def host(self) -> ManagedHost:
        return ManagedHost(name=self.name, role=self.role, address=self.address, port=self.port,
                           ssh_user=self.ssh_user, division_code=self.division_code, vars=dict(self.vars))


def _add(ctx: Context, inputs: AddHost) -> dict[str, str]:
    return {"host": inputs.name, "outcome": register_host(ctx.store, ctx.actor, inputs.host())}


ADD_HOST = Action("inventory.host.add", AddHost, _add)


class HostName(Inputs):
    name: str = Field(max_length=63)


def _host_exists(conn: Connection, inputs: HostName) -> None:
    if conn.execute(select(managed_host.c.name).where(managed_host.c.name == inputs.name)).first() is None:
        raise NotFoundError(f"no managed host named {inputs.name!r}", field="name",
                            hint="see `cloudctl inventory hosts`")


def _remove(ctx: Context, inputs: HostName) -> dict[str, str]:
    remove_host(ctx.store, ctx.actor, inputs.name)
    return {"host": inputs.name, "outcome": "removed"}


REMOVE_HOST = Action("inventory.host.remove", HostName, _remove, scope=_host_exists,
                     confirm=lambda i: (f"forget managed host {i.name}?", i.name))


class RunPlaybook(Inputs):
    playbook: str = Field(max_length=4096)
    limit: str | None = Field(None, max_length=4096)
    check: bool = False
    inventory_path: str | None = Field(None, max_length=4096)
    extravars: dict[str, Any] = Field(default_factory=dict, max_length=200)
    forks: int = Field(10, ge=1, le=100)
    _path: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _resolve(self) -> RunPlaybook:
        from cloudctl.automation.runner import resolve_playbook

        self._path = resolve_playbook(self.playbook)
        return self

    @property
    def path(self) -> Any:
        return self._path


def _inventory(conn: Connection, inputs: RunPlaybook) -> None:
    if inputs.inventory_path is None:
        from cloudctl.automation.inventory import inventory_from_store

        if not inventory_from_store(conn)["_meta"]["hostvars"]:
            raise InputError("the inventory is empty", field="inventory_path",
                             hint="register hosts with `cloudctl inventory add`, or pass -i INVENTORY")


def _run(ctx: Context, inputs: RunPlaybook) -> Any:
    from cloudctl.automation.inventory import inventory_from_store
    from cloudctl.automation.runner import RunSettings, run_playbook

    inventory: Any = inputs.inventory_path
    if inventory is None:
        with ctx.store.connect() as conn:
            inventory = inventory_from_store(conn)
    result = run_playbook(inputs.path, inventory, limit=inputs.limit, check=inputs.check, extravars=inputs.extravars,
                          settings=RunSettings(forks=inputs.forks), on_host=ctx.progress)
    with ctx.store.begin() as conn:  # what ran, where, and how it ended
        record_change(conn, ctx.actor, "run.playbook", "playbook", result.playbook, None,
                      {"outcome": result.outcome, "check": inputs.check, "limit": inputs.limit,
                       "failed_hosts": result.failed_hosts, "hosts": sorted(result.hosts)})
    return result


RUN_PLAYBOOK = Action("run.playbook", RunPlaybook, _run, scope=_inventory)

ACTIONS = (ADD_HOST, REMOVE_HOST, RUN_PLAYBOOK)
