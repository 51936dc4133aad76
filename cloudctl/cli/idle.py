"""cloudctl idle: idle resources on the shared cloud: scan, warn -> grace period -> reclaim, extend."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_rows, format_option

SCAN_COLUMNS = ["kind", "id", "name", "dept", "idle_since", "idle_days", "detail"]
STEP_COLUMNS = ["op", "kind", "id", "name", "dept", "grace_until", "action", "result"]


def _now(text: str | None) -> Any:
    from datetime import UTC, datetime

    from cloudctl.approvals.requests import parse_time

    return parse_time(text, "--now") if text else datetime.now(UTC)


def _policy(days: int, grace: int, fip_days: int, server_action: str) -> Any:
    from cloudctl.cloud_ops.idle import IdlePolicy

    return IdlePolicy(days=days, grace_days=grace, fip_days=fip_days,
                      actions={"server": server_action, "volume": "delete", "floating_ip": "delete"})


def policy_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--now", "now_text", metavar="TIME", help="Pretend it is TIME (ISO 8601).")(f)
    f = click.option("--fip-days", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Floating IPs unassociated at least this many days.")(f)
    f = click.option("--days", type=click.IntRange(min=0), default=30, show_default=True, envvar="CLOUDCTL_IDLE_DAYS",
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
def scan_cmd(app: AppContext, days: int, fip_days: int, depts: tuple[str, ...], now_text: str | None,
             cloud_name: str | None, fmt: str) -> None:
    """Servers SHUTOFF, volumes unattached longer than --days; floating IPs unassociated (reads only)."""
    from cloudctl.cloud_ops.openstack_ops import CloudOps
    from cloudctl.cloud_ops.reclaim import scan_cloud

    found = scan_cloud(app.store, CloudOps(open_cloud(cloud_name)), now=_now(now_text),
                       policy=_policy(days, 0, fip_days, "delete"), depts=list(depts) or None)
    emit_rows([f.as_dict() for f in found], SCAN_COLUMNS, fmt)


@idle.command("reclaim")
@policy_options
@click.option("--grace", type=click.IntRange(min=0), default=7, show_default=True,
              help="Days between the warning and the reclaim.")
@click.option("--server-action", type=click.Choice(["snapshot", "delete"]), default="snapshot", show_default=True,
              help="Reclaim servers by image snapshot then delete, or delete only.")
@click.option("--dry-run", is_flag=True, help="Print the steps; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before reclaiming (non-interactive use).")
@cloud_option
@format_option()
@pass_app
def reclaim_cmd(app: AppContext, days: int, fip_days: int, depts: tuple[str, ...], now_text: str | None,
                grace: int, server_action: str, dry_run: bool, yes: bool, cloud_name: str | None, fmt: str) -> None:
    """Run the lifecycle: warn newly idle resources, reclaim those past their grace period, clear the
    ones in use again. Idempotent: a rerun does only what is still due."""
    import sys

    from cloudctl.cloud_ops.openstack_ops import CloudOps
    from cloudctl.cloud_ops.reclaim import plan_reclaim, run_reclaim
    from cloudctl.errors import PartialFailure
    from cloudctl.power import Scope, authorize

    if not dry_run:  # an unscoped grant for the whole cloud, a department grant with --dept
        for code in sorted(depts) or [None]:
            authorize(app.store, app.actor, "idle.reclaim", Scope(dept=code) if code else None)
    now = _now(now_text)
    ops = CloudOps(open_cloud(cloud_name))
    steps = plan_reclaim(app.store, ops, now=now, policy=_policy(days, grace, fip_days, server_action),
                         depts=list(depts) or None)
    due = [s for s in steps if s.op in ("warn", "reclaim", "clear")]
    if dry_run or not due:
        emit_rows([s.as_dict() for s in steps], STEP_COLUMNS, fmt)
        return
    n = sum(s.op == "reclaim" for s in due)
    if n and not yes:
        if not sys.stdin.isatty():
            from cloudctl.errors import InputError

            raise InputError(f"{n} resources would be reclaimed", field="--yes",
                             hint="rerun with --yes, or --dry-run to see them")
        click.confirm(f"Reclaim {n} idle resources (snapshot/delete)?", abort=True, err=True)
    done = run_reclaim(app.store, ops, app.actor, due, now=now)
    emit_rows(done, STEP_COLUMNS, fmt)
    failed = [d for d in done if d["result"] == "failed"]
    if failed:
        raise PartialFailure(f"{len(failed)} of {len(done)} steps failed", failed=[d["id"] for d in failed],
                             hint="rerun `cloudctl idle reclaim` to retry them")


@idle.command("extend")
@click.argument("resource_id", metavar="ID")
@click.option("--days", type=click.IntRange(min=1), required=True, help="Days added to the grace period.")
@format_option()
@pass_app
def extend_cmd(app: AppContext, resource_id: str, days: int, fmt: str) -> None:
    """Give a warned resource more time before it is reclaimed."""
    from cloudctl.cloud_ops.reclaim import dept_of_record, extend
    from cloudctl.power import Scope, authorize

    code = dept_of_record(app.store, resource_id)
    authorize(app.store, app.actor, "idle.extend", Scope(dept=code) if code else None)
    out = extend(app.store, app.actor, resource_id, days)
    emit_rows([out], ["id", "kind", "dept", "grace_until"], fmt, json_data=out)


@idle.command("list")
@format_option()
@pass_app
def list_cmd(app: AppContext, fmt: str) -> None:
    """Resources in the lifecycle (warned, reclaimed, failed)."""
    from cloudctl.cloud_ops.reclaim import load_records

    rows = sorted(load_records(app.store).values(), key=lambda r: (r["state"], r["grace_until"]))
    emit_rows(rows, ["resource_id", "kind", "name", "dept", "state", "idle_since", "warned_at", "grace_until",
                     "reclaimed_at", "action"], fmt)
