"""The one CSV reader for every importer: plain or gzip, strict, bounded, errors at file:line.

    from cloudctl.inputs.csvfiles import read_csv

    table = read_csv(path)                         # CsvTable: header, rows (lists of str)
    table.check_header(("code", "name"))           # exact header, or InputError at line 1
    table.check_width()                            # every row as wide as the header
    codes, names = table.column("code"), table.column("name")   # whole columns, C speed
    table.check_text(names, "name")                # one-line names: no control characters
    raise table.error(row, "code is not 6 digits", field="code", hint="...")   # file:line:column

The file is read whole (importers work on columns, not rows) and refused, with its location,
when it is: missing or a directory; named .gz but not gzip, or a truncated gzip (the line
where the data stops); larger than max_bytes once decompressed (a gzip bomb stops there);
not UTF-8 (a BOM is allowed); malformed CSV — a quote never closed, text after a closing
quote, a field longer than max_field characters (named by its column). Blank lines are left
out; `table.line_of(row)` is the physical line where a data row starts. check_text refuses
control, format (bidi, zero-width) and line-separator characters in names, and lets
private-use characters through (official names write rare characters with them).
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import InputError
from cloudctl.inputs.documents import decode_utf8, read_input_bytes
from cloudctl.values import MAX_NAME, control_character

MAX_FIELD = 64 * 1024
MAX_CSV_BYTES = 128 * 1024 * 1024  # 3.4x the largest official file (villages, 37.7 MB)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(eq=False)  # compared by identity: its rows are long
class CsvTable:
    path: str  # as errors show it
    header: list[str]  # stripped
    rows: list[list[str]]  # data rows, blank lines left out
    text: str
    records: list[int] | None = None  # CSV record number (header = 0) of each row when blank lines were left out

    def __post_init__(self) -> None:
        self._columns: list[tuple[str, ...]] | None = None
        self._blanks = True

    def __len__(self) -> int:
        return len(self.rows)

    def line_of(self, row: int) -> int:
        """The physical line (1-based) where data row ROW starts (for errors: reads the text again)."""
        record = self.records[row] if self.records is not None else row + 1
        return _record_lines(self.text, record)[0]

    def row_lines(self) -> list[int]:
        """The line where each data row starts, in one pass (for importers that work row by row)."""
        if '"' not in self.text and self.records is None:
            return list(range(2, len(self.rows) + 2))
        starts: list[int] = []
        with _field_limit(2**31 - 1):
            reader = csv.reader(io.StringIO(self.text))
            last = 0
            for row in reader:
                if row:
                    starts.append(last + 1)
                last = reader.line_num
        return starts[1:]

    def error(self, row: int, message: str, *, field: str | None = None, hint: str | None = None) -> InputError:
        column = self.header.index(field) + 1 if field in self.header else None
        return InputError(message, file=self.path, line=self.line_of(row), column=column, field=field, hint=hint)

    def check_header(self, expected: Sequence[str]) -> None:
        if self.header == list(expected):
            return
        extra = [h for h in self.header if h not in expected]
        missing = [c for c in expected if c not in self.header]
        what = (f"unknown column {extra[0]!r}" if extra else f"missing column {missing[0]!r}" if missing
                else "columns in the wrong order")
        raise InputError(f"bad header: {what}", file=self.path, line=1,
                         column=self.header.index(extra[0]) + 1 if extra else None,
                         hint="the header must be exactly: " + ",".join(expected))

    def check_width(self, hint: str | None = None) -> None:
        width = len(self.header)
        if self.rows and (min(map(len, self.rows)) != width or max(map(len, self.rows)) != width):
            row = next(i for i, r in enumerate(self.rows) if len(r) != width)
            raise self.error(row, f"{len(self.rows[row])} fields where the header has {width}",
                             hint=hint or "quote fields that contain commas; remove stray commas")

    def column(self, name: str, *, strip: bool = True) -> list[str]:
        """One column's values, stripped of surrounding blanks (rows must be checked for width first)."""
        if self._columns is None:  # one C-speed transposition for all columns
            self._columns = list(zip(*self.rows, strict=True)) if self.rows else [() for _ in self.header]
            self._blanks = any(ch in self.text for ch in (" ", "\t", "\u3000", "\xa0"))
        values = self._columns[self.header.index(name)]
        return [v.strip() for v in values] if strip and self._blanks else list(values)

    def check_text(self, values: Sequence[str], field: str, *, max_len: int = MAX_NAME) -> None:
        """One line of printable text each, at most max_len characters (whole-column checks)."""
        if not values:
            return
        longest = max(map(len, values))
        if longest > max_len:
            row = next(i for i, v in enumerate(values) if len(v) > max_len)
            raise self.error(row, f"{field} is {len(values[row]):,} characters long (at most {max_len})",
                             field=field, hint="check the column order and the quoting")
        step = 4096  # whole chunks at C speed; only a chunk with a non-printable character is looked into
        for start in range(0, len(values), step):
            chunk = values[start:start + step]
            if "".join(chunk).isprintable():
                continue
            for row, value in enumerate(chunk, start):
                if not value.isprintable() and (bad := control_character(value)) is not None:
                    raise self.error(row, f"{field} contains the control character U+{ord(bad):04X}", field=field,
                                     hint="names are one line of printable text")



def read_csv(path: str | Path, display: str | None = None, *, max_field: int = MAX_FIELD,
             max_bytes: int = MAX_CSV_BYTES) -> CsvTable:
    """Read and parse a CSV file (plain or gzip); InputError, with its location, on any problem."""
    display = display or str(path)
    return parse_csv(read_csv_text(path, display, max_bytes=max_bytes), display, max_field=max_field)


def read_csv_text(path: str | Path, display: str, *, max_bytes: int = MAX_CSV_BYTES) -> str:
    raw = read_input_bytes(path, what="CSV", max_bytes=max_bytes)
    if raw[:2] == _GZIP_MAGIC:
        raw = _gunzip(raw, display, max_bytes)
    elif str(path).lower().endswith(".gz"):
        raise InputError("the file is named .gz but is not gzip-compressed", file=display, line=1,
                         hint="rename it without .gz, or compress it with gzip")
    return decode_utf8(raw, display)


def _gunzip(raw: bytes, display: str, max_bytes: int) -> bytes:
    """Every gzip member, at most max_bytes out (inflated in 1 MiB pieces: a bomb stops at the
    bound); a truncated stream is an error at its last line."""
    parts: list[bytes] = []
    size = 0
    data = raw
    while data:
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while data and not inflate.eof:
            try:
                part = inflate.decompress(data, 1 << 20)
            except zlib.error as e:
                lines = sum(p.count(b"\n") for p in parts)
                raise InputError(f"not a readable gzip file ({e})", file=display, line=lines + 1,
                                 hint="download the file again, or check that it is the right one") from None
            parts.append(part)
            size += len(part)
            if size > max_bytes:
                raise _too_big(display, max_bytes)
            data = inflate.unconsumed_tail
            if not part and not data:
                break
        if not inflate.eof:
            lines = sum(p.count(b"\n") for p in parts)
            raise InputError(f"the gzip data ends early: the file is truncated after {lines:,} complete lines",
                             file=display, line=lines + 1, hint="download or copy the file again")
        data = inflate.unused_data
        if data and data[:2] != _GZIP_MAGIC:
            raise InputError("bytes that are not gzip data follow the compressed data", file=display,
                             hint="download or copy the file again")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _too_big(display: str, max_bytes: int) -> InputError:
    return InputError(f"the file decompresses to more than {max_bytes:,} bytes", file=display,
                      hint="split the file, or check that it is the right one")


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def parse_csv(text: str, display: str, *, max_field: int = MAX_FIELD) -> CsvTable:
    """Header and rows of a CSV text, strictly (see the module docstring)."""
    with _field_limit(max_field):
        try:
            rows = list(csv.reader(io.StringIO(text), strict=True))
        except csv.Error as e:
            raise _csv_error(text, display, str(e), max_field) from None
    if not rows or not rows[0]:
        raise InputError("the file is empty: no header", file=display, line=1,
                         hint="the first line names the columns")
    header = [c.strip() for c in rows[0]]
    body = rows[1:]
    records = None
    if [] in body:  # blank lines: leave them out, remember where the rows were
        records = [i for i, r in enumerate(rows) if r and i > 0]
        body = [rows[i] for i in records]
    return CsvTable(display, header, body, text, records)


def _record_lines(text: str, record: int) -> tuple[int, int]:
    """(first, last) physical lines of CSV record RECORD (0 = header), read leniently."""
    with _field_limit(2**31 - 1):
        reader = csv.reader(io.StringIO(text))
        last_line = 0
        for i, _ in enumerate(reader):
            if i == record:
                return last_line + 1, reader.line_num
            last_line = reader.line_num
    return last_line + 1, last_line + 1


def _csv_error(text: str, display: str, problem: str, max_field: int) -> InputError:
    """Locate a csv.Error: the line where the failing record starts and, when known, its column."""
    with _field_limit(max_field):
        reader = csv.reader(io.StringIO(text), strict=True)
        start, record, header = 1, 0, None
        try:
            for row in reader:
                header = header if header is not None else [c.strip() for c in row]
                start, record = reader.line_num + 1, record + 1
        except csv.Error:
            pass
    with _field_limit(2**31 - 1):
        fields = next(csv.reader(io.StringIO("".join(text.splitlines(keepends=True)[start - 1:]))), [])
    index = None
    if "field larger" in problem:
        index = next((i for i, f in enumerate(fields) if len(f) > max_field), None)
        message = f"a field longer than {max_field:,} characters starts on this line"
        hint = "check for a quote that is never closed before it, or that this is the right file"
    elif "end of data" in problem:
        index = len(fields) - 1 if fields else None
        message = "a quoted field that starts on this line is never closed"
        hint = 'close the quote; a quote inside a quoted field is written twice ("")'
    elif "expected after" in problem:
        message = "text after the closing quote of a field"
        hint = 'quote the whole field, and write a quote inside it twice ("")'
    else:
        message, hint = f"malformed CSV ({problem})", "check the quoting on this line"
    field = header[index] if header and index is not None and index < len(header) else None
    return InputError(message, file=display, line=start, column=index + 1 if index is not None else None,
                      field=field, hint=hint)
