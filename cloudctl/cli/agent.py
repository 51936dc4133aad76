"""cloudctl agent: enrol probe agents (one-time tokens), list and revoke them.

`agent run` (the probe loop) comes from cloudctl.cli.agent_run, registered at the bottom.
"""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.guard import region_of, requires
from cloudctl.cli.output import emit_json, emit_rows, format_option


def _duration(text: str) -> float:
    """Seconds from '90s', '30m', '24h' or '7d'."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError as e:
        raise click.BadParameter(f"{text!r} is not a duration like 30m, 24h or 7d") from e


@click.group()
def agent() -> None:
    """Probe agents on township access points and gateways."""


@agent.command("enroll")
@click.option("--division", "division", required=True, metavar="CODE", help="The division the agent serves.")
@click.option("--role", type=click.Choice(["access", "gateway"]), required=True, help="Where the agent runs.")
@click.option("--ttl", default="24h", show_default=True, help="How long the one-time token stays valid.")
@format_option()
@pass_app
@requires("agent.enroll", scope=region_of("division"))
def enroll_cmd(app: AppContext, division: str, role: str, ttl: str, fmt: str) -> None:
    """Create a pending agent and print its one-time enrolment token (shown once)."""
    from datetime import timedelta

    from cloudctl.api.registry import create_enrolment

    e = create_enrolment(app.store, app.actor, division, role, timedelta(seconds=_duration(ttl)))
    data = {"agent_id": e.agent_id, "division": e.division_code, "role": e.role, "token": e.token,
            "expires_at": e.expires_at}
    if fmt == "json":
        emit_json(data)
    elif fmt == "csv":
        emit_rows([data], list(data), fmt)
    else:
        click.echo(e.token)
        click.echo(f"agent {e.agent_id} ({e.role}, division {e.division_code}); the token works once, "
                   f"until {e.expires_at}", err=True)


@agent.command("list")
@format_option()
@pass_app
def list_cmd(app: AppContext, fmt: str) -> None:
    """Agents with their state and last heartbeat."""
    from datetime import UTC, datetime

    from cloudctl.api.registry import list_agents

    rows = list_agents(app.store)
    for r in rows:
        ts = r.pop("last_heartbeat_ts")
        r["last_heartbeat"] = datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None
    cols = ["agent_id", "division_code", "role", "state", "hostname", "metrics_address", "enrolled_at",
            "last_heartbeat", "heartbeats"]
    emit_rows(rows, cols, fmt)


def _agent_region(store: Any, params: dict[str, Any]) -> Any:
    """The division of the agent being revoked (a region-scoped operator revokes their own agents)."""
    from cloudctl.api.registry import agent_division
    from cloudctl.power import Scope

    division = agent_division(store, str(params["agent_id"]))
    return Scope(region=division) if division else None


@agent.command("revoke")
@click.argument("agent_id")
@pass_app
@requires("agent.revoke", store_scope=_agent_region)
def revoke_cmd(app: AppContext, agent_id: str) -> None:
    """Revoke an agent's credential (and any unused token) at once."""
    from cloudctl.api.registry import revoke_agent

    revoke_agent(app.store, app.actor, agent_id)
    click.echo(f"agent {agent_id} revoked", err=True)


def _add_run() -> None:
    """`agent run` lives in cloudctl.cli.agent_run (the agent capability); it imports only click."""
    from cloudctl.cli.agent_run import run

    agent.add_command(run)


_add_run()
