"""cloudctl agent: enrol probe agents (one-time tokens), list and revoke them.

`agent run` (the probe loop) comes from cloudctl.cli.agent_run, registered at the bottom.
"""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only, yes_option

AGENTS = "cloudctl.agents.actions"


@click.group()
def agent() -> None:
    """Probe agents on township access points and gateways."""


@agent.command("enroll")
@click.option("--division", "division", required=True, metavar="CODE", help="The division the agent serves.")
@click.option("--role", type=click.Choice(["access", "gateway"]), required=True, help="Where the agent runs.")
@click.option("--ttl", default="24h", show_default=True,
              help="How long the one-time token stays valid (s, m, h or d; at most 30d).")
@format_option()
@performs(f"{AGENTS}:ENROL")
def enroll_cmd(app: AppContext, result: Any, fmt: str) -> None:
    """Create a pending agent and print its one-time enrolment token (shown once)."""
    e = result
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
@read_only
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


@agent.command("revoke")
@click.argument("agent_id")
@yes_option
@performs(f"{AGENTS}:REVOKE")
def revoke_cmd(app: AppContext, result: dict[str, str]) -> None:
    """Revoke an agent's credential (and any unused token) at once."""
    click.echo(f"agent {result['agent_id']} revoked", err=True)


def _add_run() -> None:
    """`agent run` lives in cloudctl.cli.agent_run (the agent capability); it imports only click.
    `agent probe ...` lives in cloudctl.cli.agent_probe."""
    from cloudctl.cli.agent_probe import probe
    from cloudctl.cli.agent_run import run

    agent.add_command(run)
    agent.add_command(probe)


_add_run()
