"""cloudctl agent probe: what the agents probe, on the power list (cloudctl/agents/actions.py).

`add`, `remove` and `import` are actions (region-scoped, validated, audited; the API's /v1/probes runs
the same ones); `list` and `defaults` only read. `defaults` proposes one probe per active link of a
division, aimed at the nearest registered gateway above it, in the format `import` reads.
"""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only, yes_option

AGENTS = "cloudctl.agents.actions"
COLUMNS = ["division", "name", "kind", "target", "link", "count", "timeout", "expect_status"]


@click.group()
def probe() -> None:
    """Probes: what the agents of a division check, and which link each result reports."""


@probe.command("add")
@click.option("--division", required=True, metavar="CODE", help="The division whose agents run the probe.")
@click.option("--name", required=True, help="Unique within the division.")
@click.option("--kind", required=True, type=click.Choice(["tcp", "http", "icmp"]))
@click.option("--target", required=True, help="tcp: HOST:PORT; http: URL; icmp: HOST.")
@click.option("--link", "link", required=True, metavar="LINK_ID", help="The division's link the result reports.")
@click.option("--count", help="Packets or attempts per round (1-100, default 3).")
@click.option("--timeout", help="Seconds per attempt (0.1-60, default 2).")
@click.option("--expect-status", "expect_status", help="http: the status that counts as up (default 200).")
@format_option()
@performs(f"{AGENTS}:ADD_PROBE")
def add_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Add a probe."""
    emit_rows([result], COLUMNS, fmt, json_data=result)


@probe.command("list")
@click.option("--division", metavar="CODE", help="Only this division's probes.")
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, division: str | None, fmt: str) -> None:
    """Probes, by division and name."""
    from cloudctl.agents.probes import list_probes

    with app.store.connect() as conn:
        rows = list_probes(conn, division)
    emit_rows(rows, COLUMNS, fmt)


@probe.command("remove")
@click.option("--division", required=True, metavar="CODE")
@click.option("--name", required=True)
@yes_option
@performs(f"{AGENTS}:REMOVE_PROBE")
def remove_cmd(app: AppContext, result: dict[str, Any]) -> None:
    """Remove a probe (its agents stop running it at their next configuration read)."""
    click.echo(f"probe {result['name']} of division {result['division']} removed", err=True)


@probe.command("import")
@click.argument("path", metavar="FILE")
@format_option()
@performs(f"{AGENTS}:IMPORT_PROBES")
def import_cmd(app: AppContext, result: dict[str, int], fmt: str) -> None:
    """Add or update probes from FILE (YAML list, or CSV with a header: division,name,kind,target,link[,count,
    timeout,expect_status]); all or nothing, every problem as FILE:LINE."""
    emit_rows([result], ["probes", "added", "updated", "unchanged"], fmt, json_data=result)


@probe.command("defaults")
@click.option("--division", required=True, metavar="CODE", help="The division whose links to cover.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "csv", "json", "table"]), default="yaml",
              show_default=True, help="yaml and csv are what `agent probe import` reads.")
@pass_app
@read_only
def defaults_cmd(app: AppContext, division: str, fmt: str) -> None:
    """Propose one probe per active link of DIVISION that has a known address: ICMP to the nearest
    gateway registered above the division (`cloudctl inventory add NAME --role gateway --division ...`)."""
    from cloudctl.agents.defaults import propose_probes

    with app.store.connect() as conn:
        proposal = propose_probes(conn, division, app.clock.today())
    rows = [p.model_dump() for p in proposal.probes]
    if fmt == "yaml":
        import yaml

        click.echo(yaml.safe_dump(rows, sort_keys=False, allow_unicode=True), nl=False)
    elif fmt == "json":
        emit_json({"probes": rows, "skipped": proposal.skipped})
    else:
        emit_rows(rows, COLUMNS, fmt)
    for link_id, why in proposal.skipped.items():
        click.echo(f"link {link_id}: no probe proposed: {why}", err=True)
