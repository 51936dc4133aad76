"""cloudctl settings: store-wide settings. `timezone` is the zone of "today" for every command,
endpoint, metric, report and gateway expiry (default Asia/Shanghai; CLOUDCTL_TZ overrides it for one
process)."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_rows, format_option
from cloudctl.cli.perform import performs, read_only


@click.group()
def settings() -> None:
    """Store-wide settings."""


@settings.command("show")
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, fmt: str) -> None:
    """Every setting with its value, and the zone this process uses."""
    from cloudctl.settings import get_settings

    values = get_settings(app.store)
    rows = [{"key": k, "value": v} for k, v in values.items()]
    rows.append({"key": "timezone (this process)", "value": str(app.clock.zone)})
    emit_rows(rows, ["key", "value"], fmt, json_data={**values, "effective_timezone": str(app.clock.zone)})


@settings.command("set")
@click.argument("key")
@click.argument("value")
@performs("cloudctl.settings_actions:SET_SETTING")
def set_cmd(app: AppContext, result: dict[str, Any]) -> None:
    """Set KEY to VALUE (timezone: an IANA zone name such as Asia/Shanghai or Asia/Urumqi)."""
    click.echo(f"{result['key']} = {result['value']}" + ("" if result["changed"] else " (unchanged)"))
