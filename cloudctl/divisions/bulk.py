"""Bulk reads and writes of the division table on the DB-API connection of a transaction.

SQLite: executemany of prepared statements. PostgreSQL: COPY (psycopg 3) into the table, or
into a temporary table followed by one UPDATE ... FROM. Never one object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Connection

Row = tuple[Any, ...]
Progress = Callable[..., None]
CHUNK = 50_000
DIVISION_COLUMNS = ("code", "name", "level", "parent_code", "kind")


def _chunks(rows: Iterable[Row], size: int = CHUNK) -> Iterable[list[Row]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _cursor(conn: Connection) -> Any:
    return conn.connection.cursor()


def fetch_divisions(conn: Connection, levels: Sequence[int]) -> set[tuple[str, str, str]]:
    """{(code, name, kind)} of every stored division of LEVELS."""
    if not levels:
        return set()
    marks = ", ".join(str(int(level)) for level in levels)
    cur = _cursor(conn)
    try:
        cur.execute(f"SELECT code, name, kind FROM division WHERE level IN ({marks})")
        return set(map(tuple, cur.fetchall()))
    finally:
        cur.close()


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


def _copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Row],
               progress: Progress) -> None:
    cur = _cursor(conn)
    try:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for chunk in _chunks(rows):
                for row in chunk:
                    copy.write_row(row)
                progress(len(chunk))
    finally:
        cur.close()
