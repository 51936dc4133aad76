"""cloudctl divisions: import official CSVs, show one division, search, list kinds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only

if TYPE_CHECKING:
    from cloudctl.divisions.importer import ImportResult

IMPORT_COLUMNS = ["level", "rows", "inserted", "renamed", "reclassified", "unchanged"]


@click.group()
def divisions() -> None:
    """The five-level division registry (province, prefecture, county, township, village)."""


@divisions.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@format_option()
@performs("cloudctl.divisions.actions:IMPORT_DIVISIONS", progress="importing divisions")
def import_cmd(app: AppContext, result: ImportResult, fmt: str) -> None:
    """Import official division CSV files (plain or .gz), all-or-nothing.

    PATH... are provinces/cities/areas/streets/villages files (told apart by their header),
    in any order. Re-importing is idempotent; renamed divisions keep their old names.
    """
    emit_import_result(result, fmt)


def emit_import_result(result: ImportResult, fmt: str) -> None:
    """The per-level counts on stdout; a one-line summary on stderr (table format)."""
    if fmt == "json":
        emit_json(result.to_json())
        return
    emit_rows(result.rows(), IMPORT_COLUMNS, fmt)
    if fmt == "table":
        click.echo(f"{result.total} rows: {result.inserted} inserted, {result.renamed} renamed, "
                   f"{result.unchanged} unchanged in {result.seconds:.1f} s "
                   f"(divisions generation {result.generation})", err=True)


@divisions.command("show")
@click.argument("code")
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, code: str, fmt: str) -> None:
    """One division: its path from the province down, counts below it, earlier names."""
    from cloudctl.divisions.registry import children_counts, division_path, name_history

    with app.store.connect() as conn:
        path = division_path(conn, code)
        counts = children_counts(conn, path[-1].code)
        history = name_history(conn, path[-1].code)
    target = path[-1]
    if fmt == "json":
        emit_json({"division": target.to_json(), "path": [d.to_json() for d in path],
                   "below": counts, "name_history": history})
        return
    rows = [{"record": "path", "level": d.level_name, "code": d.code, "name": d.name, "kind": d.kind} for d in path]
    if fmt == "csv":
        rows += [{"record": "below", "level": level, "count": n} for level, n in counts.items()]
        rows += [{"record": "renamed", "name": h["old_name"], "changed_at": h["changed_at"]} for h in history]
        emit_rows(rows, ["record", "level", "code", "name", "kind", "count", "changed_at"], fmt)
        return
    emit_rows(rows, ["level", "code", "name", "kind"], fmt, title=f"{target.code} {target.name}")
    if counts:
        emit_rows([{"level": level, "divisions below": n} for level, n in counts.items()],
                  ["level", "divisions below"], fmt)
    for h in history:
        click.echo(f"formerly {h['old_name']} (renamed to {h['new_name']} at {h['changed_at']})")


@divisions.command("search")
@click.argument("text")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N results.")
@click.option("--level", "level", metavar="LEVEL", help="Only this level (province..village or 1..5).")
@format_option()
@pass_app
@read_only
def search_cmd(app: AppContext, text: str, limit: int, level: str | None, fmt: str) -> None:
    """Find divisions by part of their name or by code prefix."""
    from cloudctl.divisions.codes import level_number
    from cloudctl.divisions.registry import search_divisions

    level_no = level_number(level) if level else None
    with app.store.connect() as conn:
        found = search_divisions(conn, text, limit, level=level_no)
    rows = [{"code": d.code, "name": d.name, "level": d.level_name, "kind": d.kind, "path": d.full_name}
            for d in found]
    emit_rows(rows, ["code", "name", "level", "kind", "path"], fmt, json_data=[d.to_json() for d in found])
    if not found and fmt == "table":
        click.echo(f"no division matches {text!r}", err=True)


@divisions.command("kinds")
@format_option()
@pass_app
@read_only
def kinds_cmd(app: AppContext, fmt: str) -> None:
    """The kinds a division can have (for --exclude-kind) and how many the store holds."""
    from cloudctl.divisions.kinds import KIND_DESCRIPTIONS, KINDS
    from cloudctl.divisions.registry import kind_counts

    with app.store.connect() as conn:
        counts = kind_counts(conn)
    rows = [{"kind": k, "count": sum(n for (_, kind), n in counts.items() if kind == k),
             "description": KIND_DESCRIPTIONS[k]} for k in KINDS]
    emit_rows(rows, ["kind", "count", "description"], fmt)
