"""cloudctl monitoring: Prometheus file_sd targets from the registry, and the exposition."""

from __future__ import annotations

from pathlib import Path

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import OUTPUT_DIR, emit_rows, format_option
from cloudctl.cli.perform import read_only


@click.group()
def monitoring() -> None:
    """Prometheus file_sd targets and the /metrics exposition."""


@monitoring.command("targets")
@click.option("--out", "out_dir", type=OUTPUT_DIR, required=True,
              help="Directory prometheus.yml's file_sd_configs read (e.g. monitoring/targets).")
@click.option("--api", "api", multiple=True, default=["127.0.0.1:8480"], show_default=True,
              metavar="HOST:PORT", help="Where `cloudctl serve` listens (repeatable).")
@format_option()
@pass_app
@read_only
def targets_cmd(app: AppContext, out_dir: Path, api: tuple[str, ...], fmt: str) -> None:
    """Write cloudctl-api.json and cloudctl-agents.json for Prometheus file_sd."""
    from cloudctl.metrics.targets import build_targets, write_targets

    files = build_targets(app.store, list(api))
    paths = write_targets(out_dir, files)
    rows = [{"file": str(p), "targets": sum(len(g["targets"]) for g in files[p.name])} for p in paths]
    emit_rows(rows, ["file", "targets"], fmt)


@monitoring.command("metrics")
@pass_app
@read_only
def metrics_cmd(app: AppContext) -> None:
    """Print the exposition /metrics serves (e.g. to pipe into `promtool check metrics`)."""
    from cloudctl.metrics import Exposition

    click.echo(Exposition(app.store).cached_text(), nl=False)
