"""cloudctl usage: showback, allocated (quota) against used per department, from OpenStack's usage APIs."""

from __future__ import annotations

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import OUTPUT_FILE, emit_rows, format_option
from cloudctl.cli.perform import read_only


@click.group()
def usage() -> None:
    """Showback: allocated against used, per department."""


@usage.command("report")
@click.option("--from", "start_text", required=True, metavar="TIME", help="Period start (ISO 8601, UTC if no offset).")
@click.option("--to", "end_text", required=True, metavar="TIME", help="Period end (ISO 8601).")
@click.option("--dept", "depts", multiple=True, metavar="CODE", help="Only these departments (repeatable).")
@click.option("--html", "html_path", type=OUTPUT_FILE,
              help="Also write a self-contained HTML page with a chart to this file.")
@cloud_option
@format_option()
@pass_app
@read_only
def report_cmd(app: AppContext, start_text: str, end_text: str, depts: tuple[str, ...], html_path: str | None,
               cloud_name: str | None, fmt: str) -> None:
    """Per department: servers, vCPU-hours, RAM GB-hours, volumes and GB-hours against quotas."""
    from pathlib import Path

    from cloudctl.approvals.requests import parse_time
    from cloudctl.cloud_ops.report_html import render_html
    from cloudctl.cloud_ops.showback import COLUMNS
    from cloudctl.cloud_ops.usage import usage_report

    start, end = parse_time(start_text, "--from"), parse_time(end_text, "--to")
    rows = usage_report(app.store, open_cloud(cloud_name), start, end, list(depts) or None)
    if html_path:
        Path(html_path).write_text(render_html(rows, start=start.isoformat(), end=end.isoformat()), encoding="utf-8")
        click.echo(f"wrote {html_path}", err=True)
    data = [r.as_dict() for r in rows]
    emit_rows(data, COLUMNS, fmt, json_data={"from": start.isoformat(), "to": end.isoformat(), "departments": data})
