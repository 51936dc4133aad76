"""cloudctl cloud: plan and apply (make OpenStack match the store), settings."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only

SYMBOLS = {"create": "+", "update": "~", "delete": "-"}


def cloud_option(f):  # type: ignore[no-untyped-def]
    return click.option("--cloud", "cloud_name", envvar="CLOUDCTL_CLOUD", metavar="NAME",
                        help="Cloud in clouds.yaml (env CLOUDCTL_CLOUD, else OS_CLOUD).")(f)


def open_cloud(name: str | None, workers: int = 8):  # type: ignore[no-untyped-def]
    from cloudctl.cloud.openstack_adapter import OpenStackCloud, resolve_cloud
    from cloudctl.config import cloud_name

    return OpenStackCloud(resolve_cloud(cloud_name(name)), workers=workers)


@click.group()
def cloud() -> None:
    """Plan and apply: departments in the store -> projects, users, quotas, networks in OpenStack."""


def _render_plan(result, fmt: str, stats: bool) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.cloud.planner import summarise

    if fmt == "json":
        emit_json(result.as_dict())
        return
    groups = result.by_dept()
    if fmt == "csv":
        rows = [a.as_dict() for a in result.actions]
        emit_rows(rows, ["dept", "op", "kind", "name", "before", "after"], fmt)
    else:
        for code, acts in groups.items():
            click.echo(f"department {code}:")
            for a in acts:
                change = ""
                if a.before is not None or a.after is not None:
                    before = "" if a.before is None else f"{a.before} -> "
                    change = f"  ({before}{a.after})" if a.after is not None else f"  (was {a.before})"
                click.echo(f"  {SYMBOLS[a.op]} {a.kind} {a.name}{change}")
        s = summarise(result.actions)
        if not result.actions:
            click.echo(f"No changes. {len(result.desired)} departments match the cloud.")
        else:
            click.echo(f"Plan: {s['create']} to create, {s['update']} to change, {s['delete']} to delete "
                       f"in {len(groups)} departments.")
    if stats:
        click.echo(f"stats: {result.api_calls} API calls, {result.seconds:.2f}s, "
                   f"{len(result.desired)} departments", err=True)
        for k, v in sorted(result.calls_by_endpoint.items()):
            click.echo(f"  {v:6d}  {k}", err=True)


@cloud.command("plan")
@cloud_option
@click.option("--dept", "only", multiple=True, help="Only this department (repeatable).")
@click.option("--stats", is_flag=True, help="Report API calls and time (stderr; in JSON under 'stats').")
@click.option("--deep", is_flag=True, help="Also read volume quotas from Cinder (one call per department).")
@format_option()
@pass_app
@read_only
def plan_cmd(app: AppContext, cloud_name: str | None, only: tuple[str, ...], stats: bool, deep: bool,
             fmt: str) -> None:
    """Show what apply would create, change or delete (terraform-style)."""
    from cloudctl.cloud.reconcile import make_plan

    result = make_plan(app.store, open_cloud(cloud_name), only=list(only) or None, deep=deep)
    _render_plan(result, fmt, stats)



@cloud.command("apply")
@cloud_option
@click.option("--dept", "only", multiple=True, help="Only this department (repeatable).")
@click.option("--workers", default="16", show_default=True,
              help="Departments applied at the same time (their same-kind Neutron creates share bulk requests).")
@click.option("--stats", is_flag=True, help="Report API calls and time.")
@click.option("--deep", is_flag=True, help="Also read volume quotas from Cinder (one call per department).")
@format_option()
@performs("cloudctl.cloud.actions:APPLY", progress="applying")
def apply_cmd(app: AppContext, result: dict[str, Any], stats: bool, fmt: str) -> None:
    """Make OpenStack match the store; per-department result; exit 3 when some departments failed."""
    from cloudctl.errors import OperationFailed, PartialFailure

    results = result["results"]
    rows = [{"dept": r.dept, "result": "ok" if r.ok else "FAILED", "changes": r.done, "error": r.error or ""}
            for r in results]
    if fmt == "json":
        emit_json({"results": rows,
                   "stats": {"api_calls": result["api_calls"], "seconds": round(result["seconds"], 3)}})
    elif rows:
        emit_rows(rows, ["dept", "result", "changes", "error"], fmt)
    else:
        click.echo(f"No changes. {len(result['plan'].desired)} departments match the cloud.")
    if stats:
        click.echo(f"stats: {result['api_calls']} API calls, {result['seconds']:.2f}s", err=True)
    failed = [r.dept for r in results if not r.ok]
    if failed and len(failed) == len(results):
        raise OperationFailed(f"apply failed for every department ({len(failed)}): {', '.join(failed)}",
                              hint="see the errors above; rerun `cloudctl cloud apply` when the cloud is back")
    if failed:
        raise PartialFailure(f"{len(failed)} of {len(results)} departments failed: {', '.join(failed)}",
                             failed=failed, hint="rerun `cloudctl cloud apply` to finish them")


@cloud.command("set")
@click.argument("key")
@click.argument("value")
@performs("cloudctl.cloud.actions:SET_CLOUD_SETTING")
def set_cmd(app: AppContext, result: dict[str, str]) -> None:
    """Set a cloud setting: external_network, ipam_pool, subnet_length, overcommit_vcpu|ram|disk."""
    click.echo(f"{result['key']} = {result['value']!r}")


@cloud.command("settings")
@format_option()
@pass_app
@read_only
def settings_cmd(app: AppContext, fmt: str) -> None:
    """Show the cloud settings."""
    from cloudctl.cloud.departments import get_settings

    with app.store.connect() as conn:
        s = get_settings(conn)
    emit_rows([{"key": k, "value": v} for k, v in s.items()], ["key", "value"], fmt, json_data=s)
