"""cloudctl pool: the shared pool's capacity, promised quotas, usage and headroom."""

from __future__ import annotations

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_rows, format_option
from cloudctl.cli.perform import performs, read_only

COLUMNS = ["resource", "capacity", "overcommit", "sellable", "promised", "used", "headroom", "promised_ratio"]


@click.group()
def pool() -> None:
    """The shared pool: hypervisor capacity x overcommit against department quotas and usage."""


@pool.command("show")
@cloud_option
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, cloud_name: str | None, fmt: str) -> None:
    """Capacity (placement), overcommit, sum of quotas, usage, headroom."""
    from cloudctl.cloud.quotas import pool_status

    rows = pool_status(app.store, open_cloud(cloud_name))
    data = [r.as_dict() for r in rows]
    emit_rows(data, COLUMNS, fmt, json_data={"resources": data})


@pool.command("overcommit")
@click.option("--vcpu", help="vCPU overcommit ratio, e.g. 4.")
@click.option("--ram", help="RAM overcommit ratio, e.g. 1.5.")
@click.option("--disk", help="Disk overcommit ratio, e.g. 1.")
@performs("cloudctl.cloud.actions:SET_OVERCOMMIT")
def overcommit_cmd(app: AppContext, result: dict[str, str]) -> None:
    """Set overcommit ratios (default: each hypervisor's placement allocation ratio)."""
    for key, value in result.items():
        click.echo(f"{key} = {value}")

