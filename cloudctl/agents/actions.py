"""The agent fleet's actions: enrol and revoke agents; add, remove and import what they probe.

All region-scoped on the power list: the region is the agent's or the probe's division (an import's
region is the closest one that holds every row's division).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator
from sqlalchemy import Connection, select

from cloudctl.action import Action, Context, Inputs
from cloudctl.agents import probes as probe_store
from cloudctl.agents.probes import Probe
from cloudctl.coverage.actions import common_region
from cloudctl.errors import ConflictError, NotFoundError
from cloudctl.fields import DivisionCode, ShortName, duration_up_to
from cloudctl.power.roles import Scope
from cloudctl.store.tables.agents import agent
from cloudctl.store.tables.divisions import division

MAX_TOKEN_TTL = timedelta(days=30)


def _division_exists(conn: Connection, code: str, field: str) -> Scope:
    if conn.execute(select(division.c.code).where(division.c.code == code)).first() is None:
        raise NotFoundError(f"no division with code {code!r}", field=field, hint="cloudctl divisions search NAME")
    return Scope(region=code)


# ---- enrol and revoke ------------------------------------------------------------------------

class Enrol(Inputs):
    division: DivisionCode
    role: Literal["access", "gateway"]
    ttl: duration_up_to(MAX_TOKEN_TTL) = Field(  # type: ignore[valid-type]
        timedelta(hours=24), description="how long the one-time token stays valid (at most 30d)")


def _enrol_scope(conn: Connection, inputs: Enrol) -> Scope:
    return _division_exists(conn, inputs.division, "division")


def _enrol(ctx: Context, inputs: Enrol) -> Any:
    from cloudctl.api.registry import create_enrolment

    return create_enrolment(ctx.store, ctx.actor, inputs.division, inputs.role, inputs.ttl)


ENROL = Action("agent.enroll", Enrol, _enrol, scope=_enrol_scope)


class AgentRef(Inputs):
    agent_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


def _agent_scope(conn: Connection, inputs: AgentRef) -> Scope:
    row = conn.execute(select(agent.c.division_code, agent.c.state).where(agent.c.agent_id == inputs.agent_id)).first()
    if row is None:
        raise NotFoundError(f"no agent {inputs.agent_id!r}", field="agent_id", hint="see `cloudctl agent list`")
    if row.state == "revoked":
        raise ConflictError(f"agent {inputs.agent_id} is already revoked")
    return Scope(region=row.division_code)


def _revoke(ctx: Context, inputs: AgentRef) -> dict[str, str]:
    from cloudctl.api.registry import revoke_agent

    revoke_agent(ctx.store, ctx.actor, inputs.agent_id)
    return {"agent_id": inputs.agent_id, "state": "revoked"}


REVOKE = Action("agent.revoke", AgentRef, _revoke, scope=_agent_scope,
                confirm=lambda i: (f"revoke agent {i.agent_id}? its credential stops working at once", i.agent_id))


# ---- probes ---------------------------------------------------------------------------------

def _probe_scope(conn: Connection, inputs: Probe) -> Scope:
    scope = _division_exists(conn, inputs.division, "division")
    probe_store.check_links(conn, [inputs])
    if probe_store.find_probe(conn, inputs.division, inputs.name) is not None:
        raise ConflictError(f"division {inputs.division} already has a probe named {inputs.name!r}",
                            hint="remove it first, or choose another name")
    return scope


def _add_probe(ctx: Context, inputs: Probe) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return probe_store.add_probe(conn, ctx.actor, inputs)


class AddProbe(Probe, Inputs):
    """A probe, as the action's inputs."""


ADD_PROBE = Action("agent.probe.add", AddProbe, _add_probe, scope=_probe_scope)


class ProbeRef(Inputs):
    division: DivisionCode
    name: ShortName


def _existing_probe(conn: Connection, inputs: ProbeRef) -> Scope:
    if probe_store.find_probe(conn, inputs.division, inputs.name) is None:
        raise NotFoundError(f"division {inputs.division} has no probe named {inputs.name!r}", field="name",
                            hint=f"cloudctl agent probe list --division {inputs.division}")
    return Scope(region=inputs.division)


def _remove_probe(ctx: Context, inputs: ProbeRef) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return probe_store.remove_probe(conn, ctx.actor, inputs.division, inputs.name)


REMOVE_PROBE = Action("agent.probe.remove", ProbeRef, _remove_probe, scope=_existing_probe,
                      confirm=lambda i: (f"remove probe {i.name} of division {i.division}?", i.name))


class ImportProbes(Inputs):
    """From a file (the CLI: YAML or CSV, file:line errors) or a list (the API: JSON)."""

    path: str | None = Field(None, max_length=4096)
    probes: list[Probe] | None = Field(None, max_length=100_000)
    _rows: list[tuple[str, Probe]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _read(self) -> ImportProbes:
        if (self.path is None) == (self.probes is None):
            raise ValueError("give a file (path) or a list of probes, not both")
        if self.path is not None:
            self._rows = [(f"{self.path}:{n}", p) for n, p in probe_store.read_probe_file(self.path)]
        else:
            self._rows = [(f"probes[{i}]", p) for i, p in enumerate(self.probes or [])]
        if not self._rows:
            raise ValueError("no probes to import")
        probe_store.duplicates([p for _, p in self._rows], [w for w, _ in self._rows])
        return self

    @property
    def rows(self) -> list[tuple[str, Probe]]:
        return self._rows

    @property
    def source(self) -> str:
        return self.path or "api"


def _import_scope(conn: Connection, inputs: ImportProbes) -> Scope | None:
    codes = sorted({p.division for _, p in inputs.rows})
    known = set(conn.execute(select(division.c.code).where(division.c.code.in_(codes))).scalars())
    for where, p in inputs.rows:
        if p.division not in known:
            raise NotFoundError(f"{where}: no division with code {p.division!r}", field="division",
                                hint="cloudctl divisions search NAME")
    probe_store.check_links(conn, [p for _, p in inputs.rows], [w for w, _ in inputs.rows])
    region = common_region(codes)
    return Scope(region=region) if region else None


def _import(ctx: Context, inputs: ImportProbes) -> dict[str, int]:
    with ctx.store.begin() as conn:
        return probe_store.replace_probes(conn, ctx.actor, [p for _, p in inputs.rows], inputs.source)


IMPORT_PROBES = Action("agent.probe.import", ImportProbes, _import, scope=_import_scope)

ACTIONS = (ENROL, REVOKE, ADD_PROBE, REMOVE_PROBE, IMPORT_PROBES)
