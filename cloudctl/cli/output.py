"""Rendering data for people and machines: table (rich on a terminal), JSON, CSV.

Data goes to stdout; progress and errors to stderr. Colour only on a terminal; NO_COLOR
is honoured by rich.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

FORMATS = ("table", "json", "csv")


def format_option(default: str = "table"):  # type: ignore[no-untyped-def]
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default=default, show_default=True,
        help="Output format.",
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return str(value)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def emit_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str,
              *, title: str | None = None, json_data: Any = None) -> None:
    """Print rows as a table, CSV, or JSON (json_data overrides the JSON shape)."""
    if fmt == "json":
        emit_json(json_data if json_data is not None else list(rows))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    else:
        emit_table(rows, columns, title=title)


def emit_table(rows: Iterable[dict[str, Any]], columns: Sequence[str], *, title: str | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    tty = sys.stdout.isatty()
    # In a pipe: plain ASCII, never truncated (a wide virtual console), no colour.
    table = Table(title=title, show_edge=False, header_style="bold" if tty else "",
                  box=box.HEAVY_HEAD if tty else box.SIMPLE_HEAD)
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console = Console() if tty else Console(width=100_000, no_color=True, highlight=False)
    console.print(table)


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Any]:
    """A rich progress bar on a terminal (stderr); a no-op callable in a pipe.

    Yields advance(n=1, total=None) for library code that takes a progress callback.
    """
    if not sys.stderr.isatty():
        yield lambda n=1, total=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as p:
        task = p.add_task(description, total=total)

        def advance(n: int = 1, total: int | None = None) -> None:
            if total is not None:
                p.update(task, total=total)
            p.advance(task, n)

        yield advance
