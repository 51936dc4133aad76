"""Bulk reads and writes of the division table on the DB-API connection of a transaction.

SQLite: executemany of prepared statements. PostgreSQL: COPY (psycopg 3) into the table, or
into a temporary table followed by one UPDATE ... FROM. Never one object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from sqlalchemy import Connection

from cloudctl.store.tables.divisions import division

Row = tuple[Any, ...]
Columns = tuple[list[str], list[str], list[str]]
Progress = Callable[..., None]
CHUNK = 50_000
BULK_ROWS = 100_000
DIVISION_COLUMNS = ("code", "name", "level", "parent_code", "kind")


def _chunks(rows: Iterable[Row], size: int = CHUNK) -> Iterable[list[Row]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _cursor(conn: Connection) -> Any:
    return conn.connection.cursor()


def fetch_columns(conn: Connection, level: int) -> Columns:
    """(codes, names, kinds) of the stored divisions of LEVEL, as lists."""
    cur = _cursor(conn)
    try:
        # no ORDER BY: rows come in insertion order, which is code order after an import of sorted
        # files (the fast path); any other order just takes the set-difference path
        cur.execute(f"SELECT code, name, kind FROM division WHERE level = {int(level)}")
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return [], [], []
    codes, names, kinds = zip(*rows, strict=True)
    return list(codes), list(names), list(kinds)


def fetch_codes(conn: Connection, level: int) -> set[str]:
    cur = _cursor(conn)
    try:
        cur.execute(f"SELECT code FROM division WHERE level = {int(level)}")
        return {r[0] for r in cur.fetchall()}
    finally:
        cur.close()


def lock_divisions(conn: Connection) -> None:
    """Serialise imports: SQLite already holds the write lock (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE division IN SHARE ROW EXCLUSIVE MODE")


@contextmanager
def bulk_load(conn: Connection, rows: int) -> Iterator[None]:
    """Prepare for inserting ROWS rows: above BULK_ROWS, drop the secondary indexes and rebuild
    them afterwards (a sorted build beats 600k random index inserts by ~30 %); on SQLite also
    give this connection a larger page cache. All inside the caller's transaction."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB, this connection only
    if rows < BULK_ROWS:
        yield
        return
    indexes = sorted(division.indexes, key=lambda ix: str(ix.name))
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)


def insert_divisions(conn: Connection, rows: Iterable[Row], progress: Progress) -> None:
    """Insert new rows (code, name, level, parent_code, kind); the caller made sure they are new."""
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, "division", DIVISION_COLUMNS, rows, progress)
        return
    cur = _cursor(conn)
    try:
        for chunk in _chunks(rows):
            cur.executemany("INSERT INTO division (code, name, level, parent_code, kind) VALUES (?, ?, ?, ?, ?)",
                            chunk)
            progress(len(chunk))
    finally:
        cur.close()


def update_divisions(conn: Connection, rows: Sequence[tuple[str, str, str]], progress: Progress) -> None:
    """Set name and kind of existing rows from (code, name, kind)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE TEMP TABLE division_update (code varchar(12) PRIMARY KEY, name text, "
                             "kind varchar(32)) ON COMMIT DROP")
        _copy_rows(conn, "division_update", ("code", "name", "kind"), rows, progress)
        conn.exec_driver_sql("UPDATE division AS d SET name = u.name, kind = u.kind FROM division_update AS u "
                             "WHERE d.code = u.code")
        conn.exec_driver_sql("DROP TABLE division_update")
        return
    cur = _cursor(conn)
    try:
        for chunk in _chunks(rows):
            cur.executemany("UPDATE division SET name = ?, kind = ? WHERE code = ?",
                            [(name, kind, code) for code, name, kind in chunk])
            progress(len(chunk))
    finally:
        cur.close()


def insert_name_history(conn: Connection, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """(code, old_name, new_name, changed_at) rows."""
    if not rows:
        return
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    cur = _cursor(conn)
    try:
        cur.executemany("INSERT INTO division_name_history (code, old_name, new_name, changed_at) "
                        f"VALUES ({mark}, {mark}, {mark}, {mark})", rows)
    finally:
        cur.close()


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_text(chunk: list[Row]) -> str | None:
    """The chunk in COPY text format, built column by column with C-level joins; None when a
    value would need escaping (then the caller writes rows one by one)."""
    columns: list[Sequence[str]] = []
    for column in zip(*chunk, strict=True):
        if set(map(type, column)) != {str}:  # level numbers, NULL parents
            column = tuple("\\N" if v is None else str(v) for v in column)
            values = "".join(v for v in column if v != "\\N")
        else:
            values = "".join(column)
        if any(ch in values for ch in _COPY_SPECIAL):
            return None
        columns.append(column)
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Row],
               progress: Progress) -> None:
    """COPY rows in: whole chunks as text when no value needs escaping, else row by row."""
    cur = _cursor(conn)
    try:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for chunk in _chunks(rows):
                text = _copy_text(chunk)
                if text is not None:
                    copy.write(text.encode("utf-8"))
                else:
                    for row in chunk:
                        copy.write_row(row)
                progress(len(chunk))
    finally:
        cur.close()
