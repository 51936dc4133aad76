"""cloudctl dept: departments on the shared cloud."""

from __future__ import annotations

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option


def require(app: AppContext, permission: str, dept: str | None = None, region: str | None = None) -> None:
    """The power list decides (and audits) before anything changes."""
    from cloudctl.power.authorize import authorize
    from cloudctl.power.roles import Scope

    authorize(app.store, app.actor, permission, Scope(dept=dept, region=region))


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
@pass_app
def create_cmd(app: AppContext, name: str, code: str, division: str, contact: str | None, fmt: str) -> None:
    """Record a department and allocate its subnet from the address plan (default quotas)."""
    from cloudctl.cloud.departments import create_department

    require(app, "dept.create", code, division)
    row = create_department(app.store, app.actor, code=code, name=name, division=division, contact=contact)
    if fmt == "json":
        emit_json(row)
    else:
        click.echo(f"department {code} created, subnet {row['cidr']}; run `cloudctl cloud apply` to onboard it")


@dept.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired departments.")
@format_option()
@pass_app
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
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def retire_cmd(app: AppContext, code: str, yes: bool) -> None:
    """Retire a department: the next `cloud apply` removes what cloudctl created for it."""
    import sys

    from cloudctl.cloud.departments import retire_department

    if not yes and sys.stdin.isatty():
        click.confirm(f"retire department {code}? the next apply deletes its OpenStack resources", abort=True)
    require(app, "dept.retire", code)
    retire_department(app.store, app.actor, code)
    click.echo(f"department {code} retired; run `cloudctl cloud plan` to see what will be removed")


@dept.group("member")
def member() -> None:
    """The department's users in OpenStack (Keystone user CODE.USERNAME with a role on the project)."""


@member.command("add")
@click.argument("code")
@click.argument("username")
@click.option("--role", default="member", show_default=True, type=click.Choice(["admin", "member", "reader"]))
@pass_app
def member_add(app: AppContext, code: str, username: str, role: str) -> None:
    """Add a member (or change the member's role)."""
    from cloudctl.cloud.departments import set_member

    require(app, "dept.member.add", code)
    set_member(app.store, app.actor, code, username, role)
    click.echo(f"{code}.{username}: {role}")


@member.command("remove")
@click.argument("code")
@click.argument("username")
@pass_app
def member_remove(app: AppContext, code: str, username: str) -> None:
    """Remove a member (the next apply deletes the Keystone user)."""
    from cloudctl.cloud.departments import set_member

    require(app, "dept.member.remove", code)
    set_member(app.store, app.actor, code, username, None)
    click.echo(f"{code}.{username}: removed")
