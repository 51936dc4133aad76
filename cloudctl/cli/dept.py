"""cloudctl dept: departments on the shared cloud."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only, yes_option

COLUMNS = ["code", "name", "division_code", "status", "cidr", "contact", "created_at"]


@click.group()
def dept() -> None:
    """Departments: create, list, show, retire, members. `cloudctl cloud apply` onboards them."""


@dept.command("create")
@click.argument("name")
@click.option("--code", required=True, help="Short unique code (lower-case, digits, '-'), e.g. finance.")
@click.option("--division", required=True, help="Division code of the department's government.")
@click.option("--contact", help="Contact person / e-mail.")
@format_option()
@performs("cloudctl.cloud.actions:CREATE_DEPT")
def create_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Record a department and allocate its subnet from the address plan (default quotas)."""
    if fmt == "json":
        emit_json(result)
    else:
        click.echo(f"department {result['code']} created, subnet {result['cidr']}; run `cloudctl cloud apply` "
                   "to onboard it")


@dept.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired departments.")
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, include_retired: bool, fmt: str) -> None:
    """List departments."""
    from cloudctl.cloud.departments import list_departments

    with app.store.connect() as conn:
        rows = list_departments(conn, include_retired=include_retired)
    emit_rows(rows, COLUMNS, fmt)


@dept.command("show")
@click.argument("code")
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, code: str, fmt: str) -> None:
    """One department: record, quotas, members, and what cloudctl created for it in OpenStack."""
    from cloudctl.cloud.departments import show_department

    with app.store.connect() as conn:
        data = show_department(conn, code)
    if fmt == "json":
        emit_json(data)
        return
    emit_rows([{k: data[k] for k in COLUMNS}], COLUMNS, fmt)
    emit_rows([{"resource": k, "quota": v} for k, v in sorted(data["quotas"].items())], ["resource", "quota"], fmt)
    if data["members"]:
        emit_rows([{"user": k, "role": v} for k, v in sorted(data["members"].items())], ["user", "role"], fmt)
    if data["resources"]:
        emit_rows(data["resources"], ["kind", "name", "os_id", "applied_at"], fmt)


@dept.command("retire")
@click.argument("code")
@yes_option
@performs("cloudctl.cloud.actions:RETIRE_DEPT")
def retire_cmd(app: AppContext, result: dict[str, Any]) -> None:
    """Retire a department: the next `cloud apply` removes what cloudctl created for it."""
    click.echo(f"department {result['code']} retired; run `cloudctl cloud plan` to see what will be removed")


@dept.group("member")
def member() -> None:
    """The department's users in OpenStack (Keystone user CODE.USERNAME with a role on the project)."""


@member.command("add")
@click.argument("code")
@click.argument("username")
@click.option("--role", default="member", show_default=True, type=click.Choice(["admin", "member", "reader"]))
@performs("cloudctl.cloud.actions:ADD_MEMBER")
def member_add(app: AppContext, result: dict[str, Any]) -> None:
    """Add a member (or change the member's role)."""
    click.echo(f"{result['dept']}.{result['user']}: {result['role']}")


@member.command("remove")
@click.argument("code")
@click.argument("username")
@yes_option
@performs("cloudctl.cloud.actions:REMOVE_MEMBER")
def member_remove(app: AppContext, result: dict[str, Any]) -> None:
    """Remove a member (the next apply deletes the Keystone user)."""
    click.echo(f"{result['dept']}.{result['user']}: removed")
