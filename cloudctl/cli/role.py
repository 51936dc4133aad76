"""cloudctl role: roles are explicit allow-lists of permissions, granted to operators."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import bootstrap_only, performs, read_only, yes_option


@click.group()
def role() -> None:
    """Roles and grants (the power list is `cloudctl power list`)."""


@role.command("create")
@click.argument("name")
@click.option("--allow", "allow", multiple=True, required=True,
              help="A permission (repeatable); 'group.*' expands to the registered names now.")
@click.option("--description", help="What the role is for.")
@format_option()
@performs("cloudctl.power.actions:CREATE_ROLE")
def create_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Create role NAME allowing exactly the given permissions."""
    emit_rows([{**result, "permissions": " ".join(result["permissions"])}], ["role", "permissions", "description"],
              fmt, json_data=result)


@role.command("delete")
@click.argument("name")
@yes_option
@performs("cloudctl.power.actions:DELETE_ROLE")
def delete_cmd(app: AppContext, result: dict[str, Any]) -> None:
    """Delete a role nobody holds."""
    click.echo(f"deleted role {result['role']}", err=True)


@role.command("grant")
@click.argument("role_name", metavar="ROLE")
@click.argument("operator")
@click.option("--dept", help="Only for this department.")
@click.option("--region", help="Only for this region (division code, and everything under it).")
@format_option()
@performs("cloudctl.power.actions:GRANT")
def grant_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Grant ROLE to OPERATOR (optionally scoped)."""
    emit_rows([result], list(result), fmt, json_data=result)


@role.command("revoke")
@click.argument("role_name", metavar="ROLE")
@click.argument("operator")
@click.option("--dept", help="The department scope of the grant.")
@click.option("--region", help="The region scope of the grant.")
@yes_option
@performs("cloudctl.power.actions:REVOKE")
def revoke_cmd(app: AppContext, result: dict[str, Any]) -> None:
    """Revoke ROLE (in that scope) from OPERATOR."""
    click.echo(f"revoked {result['role']} ({result['scope']}) from {result['operator']}", err=True)


@role.command("list")
@click.option("--operator", help="Only this operator's grants.")
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, operator: str | None, fmt: str) -> None:
    """Roles with their permissions, and who holds them."""
    from cloudctl.power import list_grants, list_roles

    with app.store.connect() as conn:
        roles = list_roles(conn)
        grants = [g.as_row() for g in list_grants(conn, operator)]
    if fmt == "json":
        emit_json({"roles": roles, "grants": grants})
        return
    emit_rows([{**r, "permissions": _perm_text(r)} for r in roles],
              ["role", "permissions", "description"], fmt, title="roles")
    emit_rows(grants, ["operator", "role", "scope", "granted_by", "granted_at"], fmt, title="grants")


@role.command("bootstrap")
@click.option("--operator", help="Who becomes admin (default: the OS user running this).")
@pass_app
@bootstrap_only
def bootstrap_cmd(app: AppContext, operator: str | None) -> None:
    """Grant `admin` to the first operator; only while nobody holds any role."""
    from cloudctl.power import os_user
    from cloudctl.power.roles import bootstrap_store

    g = bootstrap_store(app.store, operator or os_user(), app.actor)
    click.echo(f"{g.operator} is admin (the whole power list)", err=True)


def _perm_text(role: dict) -> str:
    from cloudctl.power import ADMIN

    if role["role"] == ADMIN:
        return f"the whole power list ({len(role['permissions'])} permissions)"
    return " ".join(role["permissions"])
