"""Reading the official division-code CSV files into columns, checking each one.

The five files (provinces, cities, areas, streets, villages; SOURCE.md in data/) are told
apart by their header. A file is read whole by cloudctl.inputs.csvfiles (plain or gzip,
strict quoting, bounded fields) into columns and checked column by column (C-speed joins,
sets and maps; names: one line of printable text); only when a check fails is the
offending row located, and its physical line reported. Every problem is an InputError
naming file, line and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudctl.divisions.codes import CODE_LENGTHS, LEVEL_NAMES, code_problem
from cloudctl.errors import InputError
from cloudctl.inputs.csvfiles import CsvTable, parse_csv, read_csv_text
from cloudctl.inputs.documents import paused_gc


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
    table: CsvTable  # where rows came from (line numbers for errors)

    @property
    def level(self) -> int:
        return self.format.level

    def __len__(self) -> int:
        return len(self.codes)

    def line_of(self, row: int) -> int:
        """The physical line (1-based) where data row ROW starts (only called on errors)."""
        return self.table.line_of(row)

    def error(self, row: int, message: str, *, field: str | None = None, hint: str | None = None) -> InputError:
        column = self.format.columns.index(field) + 1 if field in self.format.columns else None
        return InputError(message, file=self.path, line=self.line_of(row), column=column, field=field, hint=hint)


def _format_for(header: list[str], display: str) -> FileFormat:
    fmt = _BY_COLUMNS.get(frozenset(header))
    if fmt is None or len(header) != len(fmt.columns):
        expected = "; ".join(f"{f.name}: {','.join(f.columns)}" for f in FORMATS)
        raise InputError(f"unrecognised header {','.join(header)[:200]!r}", file=display, line=1,
                         hint=f"a division file has one of these headers: {expected}")
    return fmt


def read_division_file(path: str | Path, display: str | None = None) -> DivisionFile:
    """Read and check one official division CSV (plain or gzip); InputError on any problem."""
    path = Path(path)
    display = display or str(path)
    text = read_csv_text(path, display)
    with paused_gc():
        return _parse(parse_csv(text, display), display)


def _parse(table: CsvTable, display: str) -> DivisionFile:
    fmt = _format_for(table.header, display)
    table.check_width(hint="quote names that contain commas; remove stray commas")
    file = DivisionFile(display, fmt, table.column("code"), table.column("name"), None, table)
    code_matrix = _check_codes(file, file.codes, "code", CODE_LENGTHS[fmt.level - 1])
    _check_names(file)
    if fmt.parent_column:
        file.parents = table.column(fmt.parent_column)
        _check_prefix(file, code_matrix, file.parents, fmt.parent_column)
    for column in fmt.ancestor_columns:
        _check_prefix(file, code_matrix, table.column(column), column)
    table.rows, table._columns = [], None  # the columns hold the data now; the text stays for line numbers
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
    if file.names and min(map(len, file.names)) == 0:
        row = file.names.index("")
        raise file.error(row, f"division {file.codes[row]} has an empty name", field="name",
                         hint="every division needs its official name")
    file.table.check_text(file.names, "name")


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
