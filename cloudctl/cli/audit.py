"""cloudctl audit: list and verify the hash-chained audit log."""

from __future__ import annotations

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option


@click.group()
def audit() -> None:
    """The append-only, hash-chained audit log."""


@audit.command("log")
@click.option("--limit", type=int, default=50, show_default=True, help="Newest N entries (0 = all).")
@click.option("--object-type", help="Only entries about this kind of object.")
@click.option("--actor", help="Only entries by this operator.")
@format_option()
@pass_app
def log_cmd(app: AppContext, limit: int, object_type: str | None, actor: str | None, fmt: str) -> None:
    """List audit entries, newest first."""
    from cloudctl.audit import list_entries

    with app.store.connect() as conn:
        rows = list_entries(conn, limit=limit or None, object_type=object_type, actor=actor)
    cols = ["seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "command"]
    emit_rows(rows, cols, fmt)


@audit.command("verify")
@format_option()
@pass_app
def verify_cmd(app: AppContext, fmt: str) -> None:
    """Check the whole chain; exit 1 and name the first bad row if anything was tampered with."""
    from cloudctl.audit import verify_chain

    with app.store.connect() as conn:
        report = verify_chain(conn)
    data = {"ok": report.ok, "rows_checked": report.rows_checked,
            "first_bad_seq": report.first_bad_seq, "problem": report.problem}
    if fmt == "json":
        emit_json(data)
    elif report.ok:
        click.echo(f"audit chain intact: {report.rows_checked} entries verified")
    else:
        click.echo(f"audit chain BROKEN at row {report.first_bad_seq}: {report.problem}")
    if not report.ok:
        raise SystemExit(1)
