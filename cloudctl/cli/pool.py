"""cloudctl pool: the shared pool's capacity, promised quotas, usage and headroom."""

from __future__ import annotations

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.dept import require
from cloudctl.cli.output import emit_rows, format_option

COLUMNS = ["resource", "capacity", "overcommit", "sellable", "promised", "used", "headroom", "promised_ratio"]


@click.group()
def pool() -> None:
    """The shared pool: hypervisor capacity x overcommit against department quotas and usage."""


@pool.command("show")
@cloud_option
@format_option()
@pass_app
def show_cmd(app: AppContext, cloud_name: str | None, fmt: str) -> None:
    """Capacity (placement), overcommit, sum of quotas, usage, headroom."""
    from cloudctl.cloud.quotas import pool_status

    rows = pool_status(app.store, open_cloud(cloud_name))
    data = [r.as_dict() for r in rows]
    emit_rows(data, COLUMNS, fmt, json_data={"resources": data})


@pool.command("overcommit")
@click.option("--vcpu", type=click.FloatRange(min=0, min_open=True), help="vCPU overcommit ratio, e.g. 4.")
@click.option("--ram", type=click.FloatRange(min=0, min_open=True), help="RAM overcommit ratio, e.g. 1.5.")
@click.option("--disk", type=click.FloatRange(min=0, min_open=True), help="Disk overcommit ratio, e.g. 1.")
@pass_app
def overcommit_cmd(app: AppContext, vcpu: float | None, ram: float | None, disk: float | None) -> None:
    """Set overcommit ratios (default: each hypervisor's placement allocation ratio)."""
    from cloudctl.cloud.departments import set_setting

    require(app, "pool.overcommit.set")
    for key, value in (("overcommit_vcpu", vcpu), ("overcommit_ram", ram), ("overcommit_disk", disk)):
        if value is not None:
            set_setting(app.store, app.actor, key, f"{value:g}")
            click.echo(f"{key} = {value:g}")
