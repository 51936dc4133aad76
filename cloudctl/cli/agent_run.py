"""cloudctl agent run: the probe loop on an access point or gateway (added to the agent group)."""

from __future__ import annotations

from pathlib import Path

import click

from cloudctl.cli.perform import service


@click.command("run")
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True,
              help="agent.yaml (api_url, state_dir, enrol_token, interval_seconds, metrics_listen, ...).")
@click.option("--rounds", type=int, default=None, help="Stop after N rounds (default: until SIGTERM).")
@service
def run(config_path: Path, rounds: int | None) -> None:
    """Probe this division's links and heartbeat to the central API; spool while it is away."""
    from cloudctl.agent.config import load_agent_config
    from cloudctl.agent.service import run_agent

    cfg = load_agent_config(config_path)
    agent = run_agent(cfg, max_rounds=rounds)
    click.echo(f"agent stopped after {agent.state.rounds} rounds: {agent.state.delivered} delivered, "
               f"{len(agent.spool)} waiting in the spool", err=True)
