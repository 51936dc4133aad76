"""cloudctl power: the published power list (every registered permission)."""

from __future__ import annotations

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_rows, format_option
from cloudctl.cli.perform import read_only


@click.group()
def power() -> None:
    """The power list: every action an operator can take, by permission name."""


@power.command("list")
@format_option()
@read_only
def list_cmd(fmt: str) -> None:
    """Print the whole power list (no store needed)."""
    from cloudctl.power import POWER_LIST

    emit_rows([p.as_row() for p in POWER_LIST], ["permission", "command", "scopes", "description"], fmt,
              title="power list")


@power.command("check")
@click.argument("permission")
@click.option("--dept", help="Department scope.")
@click.option("--region", help="Region (division code) scope.")
@format_option()
@pass_app
@read_only
def check_cmd(app: AppContext, permission: str, dept: str | None, region: str | None, fmt: str) -> None:
    """Would the current operator be allowed PERMISSION? (Reads only; records nothing.)"""
    from cloudctl.power import Scope, decide

    with app.store.connect() as conn:
        d = decide(conn, app.actor.name, permission, Scope(dept=dept, region=region))
    row = d.as_dict()
    emit_rows([row], ["operator", "permission", "decision", "role", "reason"], fmt, json_data=row)
    if not d.allowed:
        raise SystemExit(1)
