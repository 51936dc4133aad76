"""cloudctl quota: department quotas against the pool and actual usage."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_rows, format_option
from cloudctl.cli.perform import performs, read_only

QUOTA_FLAGS = ["vcpus", "ram", "instances", "volumes", "gigabytes", "networks", "subnets", "routers", "ports",
               "floating_ips", "security_groups"]


def quota_options(f):  # type: ignore[no-untyped-def]
    for name in reversed(QUOTA_FLAGS):
        f = click.option(f"--{name.replace('_', '-')}", name, type=click.IntRange(min=-1, max=10**9),
                         help=f"{name} quota (-1 = unlimited)" + (" in MB" if name == "ram" else ""))(f)
    return f



@click.group()
def quota() -> None:
    """Department quotas: set (checked against the pool), show (against usage)."""


def _quota_inputs(params: dict[str, Any]) -> dict[str, Any]:
    return {"dept": params["dept"], "quotas": {k: params[k] for k in QUOTA_FLAGS if params.get(k) is not None}}


@quota.command("set")
@click.argument("dept")
@quota_options
@cloud_option
@performs("cloudctl.cloud.actions:SET_QUOTA", inputs=_quota_inputs, consumes=("dept", *QUOTA_FLAGS))
def set_cmd(app: AppContext, result: dict[str, Any]) -> None:
    """Set quotas in the store; refused when the pool cannot sell that much. Then `cloud apply`."""
    dept = result["dept"]
    click.echo(f"{dept}: " + ", ".join(f"{k}={v}" for k, v in result["quotas"].items())
               + f"; run `cloudctl cloud apply --dept {dept}` to push")


@quota.command("show")
@click.argument("dept")
@cloud_option
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, dept: str, cloud_name: str | None, fmt: str) -> None:
    """Quota in the store, in OpenStack, and usage read from OpenStack."""
    from cloudctl.cloud.quotas import quota_report

    rows = quota_report(app.store, open_cloud(cloud_name), dept)
    emit_rows(rows, ["resource", "quota", "in_cloud", "used", "free"], fmt)
