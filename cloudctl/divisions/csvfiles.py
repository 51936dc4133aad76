"""Reading the official division-code CSV files into columns, checking each one.

The five files (provinces, cities, areas, streets, villages; SOURCE.md in data/) are told
apart by their header. A file is read whole into columns and checked column by column
(C-speed joins, sets and maps); only when a check fails is the offending row located, and
its physical line reported. Every problem is an InputError naming file, line and field.
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudctl.divisions.codes import CODE_LENGTHS, LEVEL_NAMES, code_problem
from cloudctl.errors import InputError


@dataclass(frozen=True)
class FileFormat:
    name: str  # provinces, cities, areas, streets, villages
    level: int
    columns: tuple[str, ...]  # as in the official files, in order
    parent_column: str | None  # the direct parent's code
    ancestor_columns: tuple[str, ...]  # further codes that must be prefixes of the code


FORMATS: tuple[FileFormat, ...] = (
    FileFormat("provinces", 1, ("code", "name"), None, ()),
    FileFormat("cities", 2, ("code", "name", "provinceCode"), "provinceCode", ()),
    FileFormat("areas", 3, ("code", "name", "cityCode", "provinceCode"), "cityCode", ("provinceCode",)),
    FileFormat("streets", 4, ("code", "name", "areaCode", "provinceCode", "cityCode"), "areaCode",
               ("provinceCode", "cityCode")),
    FileFormat("villages", 5, ("code", "name", "streetCode", "provinceCode", "cityCode", "areaCode"),
               "streetCode", ("provinceCode", "cityCode", "areaCode")),
)
_BY_COLUMNS = {frozenset(f.columns): f for f in FORMATS}
_ANCESTOR_LENGTH = {"provinceCode": 2, "cityCode": 4, "areaCode": 6, "streetCode": 9}


@dataclass(eq=False)  # compared by identity: its columns are long
class DivisionFile:
    """One file's rows as columns (parents is None for provinces)."""

    path: str
    format: FileFormat
    codes: list[str]
    names: list[str]
    parents: list[str] | None
    _records: list[int] | None  # CSV record number (header = 0) of each row; None: row + 1
    _text: str

    @property
    def level(self) -> int:
        return self.format.level

    def __len__(self) -> int:
        return len(self.codes)

    def line_of(self, row: int) -> int:
        """The physical line (1-based) where data row ROW starts (only called on errors)."""
        record = self._records[row] if self._records is not None else row + 1
        reader = csv.reader(io.StringIO(self._text))
        last_line = 0
        for i, _ in enumerate(reader):
            if i == record:
                return last_line + 1
            last_line = reader.line_num
        return last_line + 1

    def error(self, row: int, message: str, *, field: str | None = None, hint: str | None = None) -> InputError:
        column = self.format.columns.index(field) + 1 if field in self.format.columns else None
        return InputError(message, file=self.path, line=self.line_of(row), column=column, field=field, hint=hint)


def _decode(path: Path, display: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=display, hint="check the path") from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=display) from e
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(f"not a readable gzip file: {e}", file=display,
                             hint="re-download the file or decompress it yourself") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise InputError(f"not UTF-8 text (byte {e.start})", file=display, line=line,
                         hint="save the file as UTF-8 (official files are UTF-8)") from e


def _format_for(header: list[str], display: str) -> FileFormat:
    columns = [c.strip() for c in header]
    fmt = _BY_COLUMNS.get(frozenset(columns))
    if fmt is None or len(columns) != len(fmt.columns):
        expected = "; ".join(f"{f.name}: {','.join(f.columns)}" for f in FORMATS)
        raise InputError(f"unrecognised header {','.join(columns)!r}", file=display, line=1,
                         hint=f"a division file has one of these headers: {expected}")
    return fmt


def read_division_file(path: str | Path, display: str | None = None) -> DivisionFile:
    """Read and check one official division CSV (plain or gzip); InputError on any problem."""
    path = Path(path)
    display = display or str(path)
    text = _decode(path, display)
    with paused_gc():
        return _parse(text, display)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while millions of small, acyclic objects are made (3x faster here)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str, display: str) -> DivisionFile:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError("the file is empty: no header", file=display, line=1,
                         hint="the first line names the columns, e.g. code,name,provinceCode")
    fmt = _format_for(rows[0], display)
    columns = [c.strip() for c in rows[0]]
    records = None
    body = rows[1:]
    if [] in body:  # blank lines: skip them, remember where the rows were
        records = [i for i, r in enumerate(rows) if r and i > 0]
        body = [rows[i] for i in records]
    width = len(fmt.columns)
    file = DivisionFile(display, fmt, [], [], None, records, text)
    if body and (min(map(len, body)) != width or max(map(len, body)) != width):
        row = next(i for i, r in enumerate(body) if len(r) != width)
        raise file.error(row, f"{len(body[row])} fields where the header has {width}",
                         hint="quote names that contain commas; remove stray commas")
    cols = list(zip(*body, strict=True)) if body else [() for _ in range(width)]
    del rows, body
    strip = any(ch in text for ch in (" ", "\t", "\u3000", "\xa0"))  # else nothing to strip anywhere
    by_name = {name: [v.strip() for v in cols[i]] if strip else list(cols[i]) for i, name in enumerate(columns)}
    file.codes = by_name["code"]
    file.names = by_name["name"]
    code_matrix = _check_codes(file, file.codes, "code", CODE_LENGTHS[fmt.level - 1])
    _check_names(file)
    if fmt.parent_column:
        file.parents = by_name[fmt.parent_column]
        _check_prefix(file, code_matrix, file.parents, fmt.parent_column)
    for column in fmt.ancestor_columns:
        _check_prefix(file, code_matrix, by_name[column], column)
    return file


def _digit_matrix(values: Sequence[str], length: int) -> Any:
    """An (n, length) uint8 array of the values' digits, or None unless all are LENGTH ASCII digits.

    One join and a few vectorised checks: a newline after each value must land every
    length + 1 bytes, and every other byte must be a digit.
    """
    import numpy as np

    if not values:
        return np.zeros((0, length), dtype=np.uint8)
    joined = "\n".join(values) + "\n"
    if len(joined) != (length + 1) * len(values) or not joined.isascii():
        return None
    matrix = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(values), length + 1)
    digits = matrix[:, :length]
    if not ((matrix[:, length] == 10).all() and (digits >= 48).all() and (digits <= 57).all()):
        return None
    return digits


def _check_codes(file: DivisionFile, codes: list[str], field: str, length: int) -> Any:
    matrix = _digit_matrix(codes, length)
    if matrix is not None:
        return matrix
    for row, code in enumerate(codes):
        problem = code_problem(code)
        if problem is None and len(code) != length:
            level = LEVEL_NAMES[file.level - 1]
            problem = (f"code {code!r} has {len(code)} digits; a {file.format.name} file holds "
                       f"{length}-digit {level} codes")
        if problem:
            raise file.error(row, problem, field=field,
                             hint="division codes are ASCII digits: 2 province, 4 prefecture, 6 county, "
                                  "9 township, 12 village")
    raise AssertionError("unreachable: a code failed the column check but no row did")


def _check_names(file: DivisionFile) -> None:
    if not file.names or min(map(len, file.names)) > 0:
        return
    row = file.names.index("")
    raise file.error(row, f"division {file.codes[row]} has an empty name", field="name",
                     hint="every division needs its official name")


def _check_prefix(file: DivisionFile, code_matrix: Any, values: Sequence[str], column: str) -> None:
    """Each value must be the code's prefix of that column's length (e.g. cityCode = code[:4]).

    Compared as digit matrices with numpy: one vectorised pass per column.
    """
    length = _ANCESTOR_LENGTH[column]
    matrix = _digit_matrix(values, length)
    if matrix is not None:
        same = (matrix == code_matrix[:, :length]).all(axis=1)
        if same.all():
            return
        row = int(same.argmin())
    else:
        row = next(i for i, v in enumerate(values) if code_problem(v) or len(v) != length)
    value, code = values[row], file.codes[row]
    problem = code_problem(value)
    if problem is None:
        problem = f"{column} {value!r} is not the parent of code {code!r} (expected {code[:length]!r})"
    raise file.error(row, problem, field=column, hint=f"{column} must be the first {length} digits of the code")
