"""cloudctl quota: department quotas against the pool and actual usage."""

from __future__ import annotations

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.dept import require
from cloudctl.cli.output import emit_rows, format_option

QUOTA_FLAGS = ["vcpus", "ram", "instances", "volumes", "gigabytes", "networks", "subnets", "routers", "ports",
               "floating_ips", "security_groups"]


def quota_options(f):  # type: ignore[no-untyped-def]
    for name in reversed(QUOTA_FLAGS):
        f = click.option(f"--{name.replace('_', '-')}", name, type=click.IntRange(min=-1),
                         help=f"{name} quota (-1 = unlimited)" + (" in MB" if name == "ram" else ""))(f)
    return f


@click.group()
def quota() -> None:
    """Department quotas: set (checked against the pool), show (against usage)."""


@quota.command("set")
@click.argument("dept")
@quota_options
@cloud_option
@pass_app
def set_cmd(app: AppContext, dept: str, cloud_name: str | None, **values: int | None) -> None:
    """Set quotas in the store; refused when the pool cannot sell that much. Then `cloud apply`."""
    from cloudctl.cloud.quotas import set_quotas
    from cloudctl.errors import InputError

    wanted = {k: v for k, v in values.items() if v is not None}
    if not wanted:
        raise InputError("no quota given", hint="e.g. cloudctl quota set finance --vcpus 40 --ram 81920")
    require(app, "quota.set", dept)
    set_quotas(app.store, open_cloud(cloud_name), app.actor, dept, wanted)
    click.echo(f"{dept}: " + ", ".join(f"{k}={v}" for k, v in wanted.items())
               + f"; run `cloudctl cloud apply --dept {dept}` to push")


@quota.command("show")
@click.argument("dept")
@cloud_option
@format_option()
@pass_app
def show_cmd(app: AppContext, dept: str, cloud_name: str | None, fmt: str) -> None:
    """Quota in the store, in OpenStack, and usage read from OpenStack."""
    from cloudctl.cloud.quotas import quota_report

    rows = quota_report(app.store, open_cloud(cloud_name), dept)
    emit_rows(rows, ["resource", "quota", "in_cloud", "used", "free"], fmt)
