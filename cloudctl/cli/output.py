"""Rendering data for people and machines: table, JSON, CSV.

Data goes to stdout; progress and errors to stderr. Tables: rich on a terminal (colour,
NO_COLOR honoured), plain ASCII frames in a pipe (never truncated, one line per row). Every
value that reaches a terminal is escaped: control and format characters (escape sequences,
bidi overrides, NUL) are shown as \\x1b, \\u202e..., never sent raw, and rich markup in values
([bold], [link=...]) is printed as text. Nested values (mappings, lists) read as text, e.g.
`kinds: [quota-increase], max: {vcpus: 4, ram: 8192}`, not Python reprs. CSV cells go through
cloudctl.inputs.csvout (no spreadsheet formulas); JSON escapes the same characters as \\uXXXX.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

FORMATS = ("table", "json", "csv")
# Categories Cc, Cf, Zl, Zp and Cs (Unicode 14; tests/inputs/test_output.py checks the list).
_UNSAFE_ABOVE_ASCII_CONTROLS = (
    "\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_UNSAFE = re.compile(f"[\x00-\x1f{_UNSAFE_ABOVE_ASCII_CONTROLS}]")
_UNSAFE_IN_JSON = re.compile(f"[{_UNSAFE_ABOVE_ASCII_CONTROLS}]")  # json.dumps escapes the ASCII controls


def format_option(default: str = "table"):  # type: ignore[no-untyped-def]
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default=default, show_default=True,
        help="Output format.",
    )


class OutputPath(click.ParamType):
    """A file or directory the command will write, checked while the command line is parsed
    (cloudctl.inputs.paths): a bad path exits 2 before any work starts."""

    name = "path"

    def __init__(self, kind: str = "file", *, create_parents: bool = False) -> None:
        self.kind, self.create_parents = kind, create_parents

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:

        from cloudctl.inputs.paths import check_output_dir, check_output_file

        field = max(param.opts, key=len) if param is not None and param.opts else "path"
        if self.kind == "dir":
            return check_output_dir(value, field=field, create_parents=self.create_parents)
        return check_output_file(value, field=field)


OUTPUT_FILE = OutputPath("file")
OUTPUT_DIR = OutputPath("dir", create_parents=True)  # `--out reports/2026/may` makes what is missing


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """TEXT safe for a terminal: control and format characters written as escapes."""
    if text.isprintable():
        return text
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text)


def readable(value: Any, *, nested: bool = False) -> str:
    """A value as text: None empty, floats short, mappings `k: v, ...`, lists `a, b` ({...}, [...] inside)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {readable(v, nested=True)}" for k, v in value.items())
        return "{" + inner + "}" if nested else inner
    if isinstance(value, list | tuple | set | frozenset):
        inner = ", ".join(readable(v, nested=True) for v in value)
        return "[" + inner + "]" if nested else inner
    return str(value)


def _cell(value: Any) -> str:
    return printable(readable(value))


def _json_escape(match: re.Match[str]) -> str:
    return json.dumps(match.group())[1:-1] if ord(match.group()) > 0xFFFF else f"\\u{ord(match.group()):04x}"


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if not text.isascii() or "\x7f" in text:
        text = _UNSAFE_IN_JSON.sub(_json_escape, text)  # still valid JSON: \uXXXX means the same
    click.echo(text)


def emit_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str,
              *, title: str | None = None, json_data: Any = None) -> None:
    """Print rows as a table, CSV, or JSON (json_data overrides the JSON shape)."""
    if fmt == "json":
        emit_json(json_data if json_data is not None else list(rows))
    elif fmt == "csv":
        from cloudctl.inputs.csvout import csv_writer

        tty = sys.stdout.isatty()
        writer = csv_writer(sys.stdout)
        writer.writerow(columns)
        for row in rows:
            cells = [row.get(c) for c in columns]
            cells = [readable(v) if isinstance(v, dict | list | tuple | set) else v for v in cells]
            writer.writerow([printable(v) if tty and isinstance(v, str) else v for v in cells])
    else:
        emit_table(rows, columns, title=title)


def emit_table(rows: Iterable[dict[str, Any]], columns: Sequence[str], *, title: str | None = None) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if not sys.stdout.isatty():
        click.echo(ascii_table([printable(str(c)) for c in columns], cells,
                               title=printable(title) if title else None), nl=False)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(printable(title)) if title else None, show_edge=False, header_style="bold",
                  box=box.HEAVY_HEAD)
    for c in columns:
        table.add_column(Text(printable(str(c))), overflow="fold")
    for row_cells in cells:
        table.add_row(*(Text(c) for c in row_cells))  # Text: values are never read as markup
    Console().print(table)


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def ascii_table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None) -> str:
    """A plain table: columns two spaces apart, a line of dashes under the header, nothing cut."""
    widths = [_width(c) for c in columns]
    cell_widths = [[_width(c) for c in row] for row in rows]
    for row in cell_widths:
        widths = [max(w, c) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str], sizes: Sequence[int]) -> str:
        return "  ".join(c + " " * (w - s) for c, s, w in zip(cells, sizes, widths, strict=True)).rstrip() + "\n"

    out = [title + "\n"] if title else []
    out.append(line(columns, [_width(c) for c in columns]))
    out.append("  ".join("-" * w for w in widths) + "\n")
    out.extend(line(row, sizes) for row, sizes in zip(rows, cell_widths, strict=True))
    return "".join(out)


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
