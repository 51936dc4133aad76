"""`cloudctl share`: data sharing between departments (数据共享交换; docs/sharing.md).

The catalogue (`share resource add|list|show|retire`), requests through the one approval engine
(`share request`; votes are `cloudctl request approve|reject ID`), `share list|show`,
`share revoke` and `share report`. The mutating commands are adapters over
cloudctl/sharing/actions.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import OUTPUT_DIR, emit_json, emit_rows, format_option
from cloudctl.cli.params import ISO_DATE, ROW_ID
from cloudctl.cli.perform import performs, read_only, yes_option

RESOURCE_COLUMNS = ["name", "owner_dept", "gateway", "service", "share_class", "approval_policy", "status",
                    "description"]
SHARE_COLUMNS = ["id", "resource", "class", "owner", "consumer", "service", "ports", "until", "state", "requester",
                 "decided_at"]
STATES = ["pending", "active", "expired", "revoked", "rejected", "withdrawn"]
at_option = click.option("--at", "at", type=ISO_DATE, metavar="YYYY-MM-DD",
                         help="States on this date (expiry). Default: today in the configured zone.")


@click.group()
def share() -> None:
    """Data sharing between departments: the catalogue, requests through parallel approval, gateway flows."""


@share.group()
def resource() -> None:
    """The catalogue of shareable resources (政务信息资源目录)."""


@resource.command("add")
@click.argument("name")
@click.option("--dept", required=True, help="The owner department (code).")
@click.option("--gateway", required=True, help="The stored gateway the service is on.")
@click.option("--service", required=True, help="A service of that gateway's policy, in the owner's zone.")
@click.option("--class", "share_class", required=True, type=click.Choice(["open", "conditional", "closed"]),
              help="open 无条件共享, conditional 有条件共享 (always votes), closed 不予共享 (never shared).")
@click.option("--policy", help="Approval policy with groups owner, data-authority, security (default share-<dept>).")
@click.option("--description", help="What the data is; for a closed resource, the basis of the refusal.")
@format_option()
@performs("cloudctl.sharing.actions:ADD_RESOURCE")
def resource_add(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Put one of the department's gateway services in the catalogue."""
    emit_rows([result], RESOURCE_COLUMNS, fmt, json_data=result)


@resource.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Also retired resources.")
@format_option()
@pass_app
@read_only
def resource_list(app: AppContext, include_retired: bool, fmt: str) -> None:
    """The catalogue."""
    from cloudctl.sharing.store import list_resources

    with app.store.connect() as conn:
        rows = list_resources(conn, include_retired=include_retired)
    emit_rows(rows, RESOURCE_COLUMNS, fmt, json_data=rows)


@resource.command("show")
@click.argument("name")
@at_option
@format_option()
@pass_app
@read_only
def resource_show(app: AppContext, name: str, at: dt.date | None, fmt: str) -> None:
    """One resource and its shares."""
    from cloudctl.sharing.store import get_resource, list_shares

    with app.store.connect() as conn:
        row = dict(get_resource(conn, name, "NAME")._mapping)
        shares = [s for s in list_shares(conn, at or app.clock.today(), app.clock.zone) if s["resource"] == name]
    if fmt == "json":
        emit_json({**row, "shares": shares})
        return
    emit_rows([{"field": k, "value": v} for k, v in row.items()], ["field", "value"], fmt, title=name)
    emit_rows(shares, SHARE_COLUMNS, fmt, title="shares")


@resource.command("retire")
@click.argument("name")
@click.option("--reason", help="Why (kept in the audit log and on its closed shares).")
@yes_option
@format_option()
@performs("cloudctl.sharing.actions:RETIRE_RESOURCE")
def resource_retire(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Retire a resource: pending requests are withdrawn, shares revoked (flows close at the next deploy)."""
    emit_rows([{**result, "closed_shares": ",".join(map(str, result["closed_shares"]))}],
              ["name", "status", "closed_shares"], fmt, json_data=result)


@share.command("request")
@click.argument("resource", metavar="RESOURCE")
@click.option("--dept", required=True, help="The consumer department (code).")
@click.option("--purpose", required=True, help="What the data is needed for (the reviewers read it).")
@click.option("--until", required=True, type=ISO_DATE, metavar="YYYY-MM-DD",
              help="The last day the share is in effect.")
@click.option("--ports", metavar="P,...", help="Only these of the service's ports (default: all of them).")
@format_option()
@performs("cloudctl.sharing.actions:REQUEST_SHARE")
def request_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Ask for a catalogued resource: the owner's approvers, the data authority and security are asked at once."""
    row = {**result, "ports": ",".join(map(str, result["ports"]))}
    emit_rows([row], ["id", "resource", "class", "owner", "consumer", "ports", "until", "status", "policy",
                      "deadline_at"], fmt, json_data=result)
    if fmt == "table" and result["status"] == "pending":
        click.echo(f"reviewers vote with: cloudctl request approve|reject {result['id']}", err=True)


@share.command("list")
@click.option("--dept", help="Shares where this department is the owner or the consumer.")
@click.option("--status", type=click.Choice(STATES), help="Only shares in this state.")
@at_option
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, dept: str | None, status: str | None, at: dt.date | None, fmt: str) -> None:
    """Shares and their state (pending, active, expired, revoked, rejected, withdrawn)."""
    from cloudctl.sharing.store import list_shares

    with app.store.connect() as conn:
        rows = list_shares(conn, at or app.clock.today(), app.clock.zone, dept=dept, state=status)
    table = [{**r, "ports": ",".join(map(str, r["ports"]))} for r in rows]
    emit_rows(table, SHARE_COLUMNS, fmt, json_data=rows)


@share.command("show")
@click.argument("share_id", metavar="ID", type=ROW_ID)
@at_option
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, share_id: int, at: dt.date | None, fmt: str) -> None:
    """One share: what it grants, its state, and its approval (groups and votes)."""
    from cloudctl.approvals import show_request
    from cloudctl.sharing.store import list_shares, share_row

    with app.store.connect() as conn:
        share_row(conn, share_id)
        row = next(s for s in list_shares(conn, at or app.clock.today(), app.clock.zone) if s["id"] == share_id)
        request = show_request(conn, share_id)
    if fmt == "json":
        emit_json({**row, "groups": request["groups"], "votes": request["votes"]})
        return
    emit_rows([{"field": k, "value": v} for k, v in row.items()], ["field", "value"], fmt, title=f"share {share_id}")
    emit_rows(request["groups"], ["group", "rule", "approvals", "needed", "holds", "waiting_for"], fmt)
    emit_rows(request["votes"], ["reviewer", "decision", "reason", "at", "cast_by"], fmt)


@share.command("revoke")
@click.argument("share_id", metavar="ID")
@click.option("--reason", required=True, help="Why (kept with the share and in the audit log).")
@yes_option
@format_option()
@performs("cloudctl.sharing.actions:REVOKE_SHARE")
def revoke_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Close a share (no approval needed): its flow closes at the next compile or deploy of its gateway."""
    emit_rows([result], ["id", "resource", "consumer", "gateway", "was", "state", "reason"], fmt, json_data=result)
    if fmt == "table":
        click.echo(f"the flow closes at the next deploy: cloudctl gateway deploy {result['gateway']}", err=True)


@share.command("report")
@click.option("--out", "out", type=OUTPUT_DIR, required=True, help="Output directory (created if missing).")
@at_option
@click.option("--expiring-days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="List active shares ending within this many days.")
@format_option()
@pass_app
@read_only
def report_cmd(app: AppContext, out: Path, at: dt.date | None, expiring_days: int, fmt: str) -> None:
    """Who shares what with whom: a self-contained HTML page with charts, CSV and JSON."""
    from cloudctl.sharing.report import build_report, write_report

    with app.store.connect() as conn:
        data = build_report(conn, at or app.clock.today(), app.clock, expiring_days)
    files = write_report(data, Path(out))
    summary = data["summary"]
    if fmt == "json":
        emit_json({"out": str(out), "files": [str(f) for f in files], "summary": summary})
        return
    click.echo(f"report written: {Path(out) / 'index.html'} ({len(files)} files)", err=True)
    emit_rows([summary], list(summary), fmt, title=f"data sharing on {data['at']}")
