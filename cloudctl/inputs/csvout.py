"""CSV output that a spreadsheet will not run: the one CSV writer every command and report uses.

OWASP's advice against CSV injection: a text cell that starts with = + - @ a tab or a carriage
return is read as a formula by Excel, LibreOffice and Google Sheets (`=cmd|' /C calc'!A0`),
so it gets a leading single quote, which those programs show as text. Numbers are left as
they are, and so is text that is exactly a number (-5, +1.5, -2.5e3): a negative figure is
no formula. Separators and quotes inside cells are quoted by the csv module as usual.

    writer = csv_writer(stream)          # .writerow(cells), .writerows(rows)
    text = csv_text(columns, rows)       # header + rows (sequences or dicts) as one string
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """VALUE as a CSV cell that no spreadsheet evaluates (None is an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, str) and value and value[0] in FORMULA_START and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """A csv.writer whose every cell goes through safe_cell."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: IO[str]) -> SafeWriter:
    return SafeWriter(stream)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> str:
    """The header and every row (a sequence in column order, or a mapping by column name)."""
    buf = io.StringIO()
    writer = SafeWriter(buf)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c) for c in columns] if isinstance(row, Mapping) else row)
    return buf.getvalue()
