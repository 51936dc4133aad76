"""cloudctl idle: idle resources on the shared cloud: scan, warn -> grace period -> reclaim, extend."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_rows, format_option
from cloudctl.cli.perform import performs, read_only, yes_option

SCAN_COLUMNS = ["kind", "id", "name", "dept", "idle_since", "idle_days", "detail"]
STEP_COLUMNS = ["op", "kind", "id", "name", "dept", "grace_until", "action", "result"]


def _now(app: AppContext, text: str | None) -> Any:
    from cloudctl.values import parse_instant

    return parse_instant(text, "--now", app.clock) if text else app.clock.now()


def _policy(days: int, grace: int, fip_days: int, server_action: str) -> Any:
    from cloudctl.cloud_ops.idle import IdlePolicy

    return IdlePolicy(days=days, grace_days=grace, fip_days=fip_days,
                      actions={"server": server_action, "volume": "delete", "floating_ip": "delete"})


def policy_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--now", "now", metavar="TIME", help="Pretend it is TIME (ISO 8601).")(f)
    f = click.option("--fip-days", type=click.IntRange(min=0, max=3650), default=0, show_default=True,
                     help="Floating IPs unassociated at least this many days.")(f)
    f = click.option("--days", type=click.IntRange(min=0, max=3650), default=30, show_default=True,
                     envvar="CLOUDCTL_IDLE_DAYS",
                     help="Servers shut off / volumes unattached at least this many days.")(f)
    f = click.option("--dept", "depts", multiple=True, metavar="CODE", help="Only these departments.")(f)
    return f


@click.group()
def idle() -> None:
    """Idle resources: scan, warn, reclaim."""


@idle.command("scan")
@policy_options
@cloud_option
@format_option()
@pass_app
@read_only
def scan_cmd(app: AppContext, days: int, fip_days: int, depts: tuple[str, ...], now: str | None,
             cloud_name: str | None, fmt: str) -> None:
    """Servers SHUTOFF, volumes unattached longer than --days; floating IPs unassociated (reads only)."""
    from cloudctl.cloud_ops.openstack_ops import CloudOps
    from cloudctl.cloud_ops.reclaim import scan_cloud

    found = scan_cloud(app.store, CloudOps(open_cloud(cloud_name)), now=_now(app, now),
                       policy=_policy(days, 0, fip_days, "delete"), depts=list(depts) or None)
    emit_rows([f.as_dict() for f in found], SCAN_COLUMNS, fmt)


@idle.command("reclaim")
@policy_options
@click.option("--grace", type=click.IntRange(min=0, max=3650), default=7, show_default=True,
              help="Days between the warning and the reclaim.")
@click.option("--server-action", type=click.Choice(["snapshot", "delete"]), default="snapshot", show_default=True,
              help="Reclaim servers by image snapshot then delete, or delete only.")
@click.option("--dry-run", is_flag=True, help="Print the steps; change nothing.")
@yes_option
@cloud_option
@format_option()
@performs("cloudctl.cloud_ops.actions:RECLAIM")
def reclaim_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Run the lifecycle: warn newly idle resources, reclaim those past their grace period, clear the
    ones in use again. Idempotent: a rerun does only what is still due."""
    from cloudctl.errors import PartialFailure

    if not result["done"]:
        emit_rows([s.as_dict() for s in result["steps"]], STEP_COLUMNS, fmt)
        return
    emit_rows(result["done"], STEP_COLUMNS, fmt)
    failed = [d for d in result["done"] if d["result"] == "failed"]
    if failed:
        raise PartialFailure(f"{len(failed)} of {len(result['done'])} steps failed", failed=[d["id"] for d in failed],
                             hint="rerun `cloudctl idle reclaim` to retry them")


@idle.command("extend")
@click.argument("resource_id", metavar="ID")
@click.option("--days", type=click.IntRange(min=1, max=3650), required=True, help="Days added to the grace period.")
@format_option()
@performs("cloudctl.cloud_ops.actions:EXTEND")
def extend_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Give a warned resource more time before it is reclaimed."""
    emit_rows([result], ["id", "kind", "dept", "grace_until"], fmt, json_data=result)


@idle.command("list")
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, fmt: str) -> None:
    """Resources in the lifecycle (warned, reclaimed, failed)."""
    from cloudctl.cloud_ops.reclaim import load_records

    rows = sorted(load_records(app.store).values(), key=lambda r: (r["state"], r["grace_until"]))
    emit_rows(rows, ["resource_id", "kind", "name", "dept", "state", "idle_since", "warned_at", "grace_until",
                     "reclaimed_at", "action"], fmt)
