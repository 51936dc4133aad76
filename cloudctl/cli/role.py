"""cloudctl role: roles are explicit allow-lists of permissions, granted to operators."""

from __future__ import annotations

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option


def _scope(dept: str | None, region: str | None):  # type: ignore[no-untyped-def]
    from cloudctl.power import Scope

    return Scope(dept=dept, region=region)


@click.group()
def role() -> None:
    """Roles and grants (the power list is `cloudctl power list`)."""


@role.command("create")
@click.argument("name")
@click.option("--allow", "allow", multiple=True, required=True,
              help="A permission (repeatable); 'group.*' expands to the registered names now.")
@click.option("--description", help="What the role is for.")
@format_option()
@pass_app
def create_cmd(app: AppContext, name: str, allow: tuple[str, ...], description: str | None, fmt: str) -> None:
    """Create role NAME allowing exactly the given permissions."""
    from cloudctl.power import authorized, create_role

    with authorized(app.store, app.actor, "role.create") as conn:
        out = create_role(conn, name, list(allow), app.actor, description)
    emit_rows([{**out, "permissions": " ".join(out["permissions"])}], ["role", "permissions", "description"], fmt,
              json_data=out)


@role.command("delete")
@click.argument("name")
@pass_app
def delete_cmd(app: AppContext, name: str) -> None:
    """Delete a role nobody holds."""
    from cloudctl.power import authorized, delete_role

    with authorized(app.store, app.actor, "role.delete") as conn:
        delete_role(conn, name, app.actor)
    click.echo(f"deleted role {name}", err=True)


@role.command("grant")
@click.argument("role_name", metavar="ROLE")
@click.argument("operator")
@click.option("--dept", help="Only for this department.")
@click.option("--region", help="Only for this region (division code, and everything under it).")
@format_option()
@pass_app
def grant_cmd(app: AppContext, role_name: str, operator: str, dept: str | None, region: str | None,
              fmt: str) -> None:
    """Grant ROLE to OPERATOR (optionally scoped)."""
    from cloudctl.power import authorized, grant_role

    with authorized(app.store, app.actor, "role.grant") as conn:
        g = grant_role(conn, role_name, operator, app.actor, _scope(dept, region))
    row = g.as_row()
    emit_rows([row], list(row), fmt, json_data=row)


@role.command("revoke")
@click.argument("role_name", metavar="ROLE")
@click.argument("operator")
@click.option("--dept", help="The department scope of the grant.")
@click.option("--region", help="The region scope of the grant.")
@pass_app
def revoke_cmd(app: AppContext, role_name: str, operator: str, dept: str | None, region: str | None) -> None:
    """Revoke ROLE (in that scope) from OPERATOR."""
    from cloudctl.power import authorized, revoke_role

    with authorized(app.store, app.actor, "role.revoke") as conn:
        g = revoke_role(conn, role_name, operator, app.actor, _scope(dept, region))
    click.echo(f"revoked {g.role} ({g.scope_label}) from {g.operator}", err=True)


@role.command("list")
@click.option("--operator", help="Only this operator's grants.")
@format_option()
@pass_app
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
def bootstrap_cmd(app: AppContext, operator: str | None) -> None:
    """Grant `admin` to the first operator; only while nobody holds any role."""
    from cloudctl.power import bootstrap, os_user

    with app.store.begin() as conn:
        g = bootstrap(conn, operator or os_user(), app.actor)
    click.echo(f"{g.operator} is admin (the whole power list)", err=True)


def _perm_text(role: dict) -> str:
    from cloudctl.power import ADMIN

    if role["role"] == ADMIN:
        return f"the whole power list ({len(role['permissions'])} permissions)"
    return " ".join(role["permissions"])
