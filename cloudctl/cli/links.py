"""cloudctl links: import, add, retire and list extranet links (docs/coverage.md)."""

from __future__ import annotations

from datetime import date

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.params import ISO_DATE
from cloudctl.cli.perform import performs, read_only, yes_option
from cloudctl.coverage.links import ImportResult, LinkRecord

LINK_TYPE_CHOICE = click.Choice(["fiber", "mstp", "sdh", "vpn", "wireless", "satellite"])
COLUMNS = ["link_id", "division_code", "link_type", "bandwidth_mbps", "activated_on", "retired_on", "provider"]


@click.group()
def links() -> None:
    """Extranet links: one division's government node connected to the extranet."""


@links.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@format_option()
@performs("cloudctl.coverage.actions:IMPORT_LINKS")
def import_cmd(app: AppContext, result: ImportResult, fmt: str) -> None:
    """Import FILE.csv (header: link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider).

    All-or-nothing; re-importing updates by link_id. Region-scoped: the file's divisions must all lie in a
    region the operator holds links.import for.
    """
    if fmt == "table":
        click.echo(f"{result.source}: {result.rows} links: {result.inserted} new, {result.updated} updated, "
                   f"{result.unchanged} unchanged")
    else:
        emit_rows([result.to_json()], ["source", "rows", "inserted", "updated", "unchanged"], fmt,
                  json_data=result.to_json())


@links.command("add")
@click.option("--id", "link_id", required=True, help="Link id (unique).")
@click.option("--division", "division_code", required=True, metavar="CODE", help="Division code of the node.")
@click.option("--type", "link_type", type=LINK_TYPE_CHOICE, required=True)
@click.option("--bandwidth", "bandwidth_mbps", required=True, help="Mbit/s.")
@click.option("--activated", "activated_on", type=ISO_DATE, required=True)
@click.option("--retired", "retired_on", type=ISO_DATE, default=None)
@click.option("--provider", default=None)
@format_option()
@performs("cloudctl.coverage.actions:ADD_LINK")
def add_cmd(app: AppContext, result: LinkRecord, fmt: str) -> None:
    """Add one link."""
    if fmt == "table":
        click.echo(f"link {result.link_id} added for {result.division_code}")
    else:
        emit_rows([result.to_json()], COLUMNS, fmt, json_data=result.to_json())


@links.command("retire")
@click.argument("link_id")
@click.option("--on", "retired_on", type=ISO_DATE, default=None, help="Retirement date (default: today).")
@yes_option
@format_option()
@performs("cloudctl.coverage.actions:RETIRE_LINK")
def retire_cmd(app: AppContext, result: LinkRecord, fmt: str) -> None:
    """Retire a link: it no longer covers its division from that date on."""
    if fmt == "table":
        click.echo(f"link {result.link_id} retired on {result.retired_on}")
    else:
        emit_rows([result.to_json()], COLUMNS, fmt, json_data=result.to_json())


@links.command("list")
@click.option("--region", metavar="CODE", help="Links of divisions under this code (prefix).")
@click.option("--division", "division_code", metavar="CODE", help="Links of exactly this division.")
@click.option("--type", "link_type", type=LINK_TYPE_CHOICE)
@click.option("--provider")
@click.option("--active-on", type=ISO_DATE, default=None, help="Only links active on this date.")
@click.option("--limit", type=click.IntRange(min=0), default=0, help="At most N links (0 = all).")
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, region: str | None, division_code: str | None, link_type: str | None,
             provider: str | None, active_on: date | None, limit: int, fmt: str) -> None:
    """List links, ordered by division code."""
    from cloudctl.coverage.links import list_links

    with app.store.connect() as conn:
        recs = list_links(conn, region=region, division_code=division_code, link_type=link_type,
                          provider=provider, active_on=active_on, limit=limit or None)
    rows = [r.to_json() for r in recs]
    if fmt == "json":
        emit_json(rows)
    else:
        emit_rows(rows, COLUMNS, fmt)
