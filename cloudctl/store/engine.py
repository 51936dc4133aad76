"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

Write transactions (Store.begin) on SQLite start with BEGIN IMMEDIATE, so two processes
never both read-then-write the same rows (allocation, votes, the audit chain); reads
(Store.connect) use a deferred BEGIN and run beside a writer (WAL). On PostgreSQL the same
code takes row locks (SELECT ... FOR UPDATE) where it needs them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from cloudctl.errors import InputError, OperationFailed

_WRITE = "cloudctl_write"


def normalise_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    in_memory = not parsed.database or parsed.database == ":memory:"
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                           **({"poolclass": NullPool} if in_memory else {"pool_size": 8, "max_overflow": 16}))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # writers take the write lock up front; readers stay concurrent (WAL)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


class Store:
    """A database and how to open transactions on it."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self._writers: threading.RLock | nullcontext[None] = nullcontext()
        try:
            if self.url.startswith("sqlite"):
                self.engine = _sqlite_engine(self.url)
                self._writers = threading.RLock()
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        except Exception as e:  # bad URL, missing driver
            raise InputError(
                f"cannot use database URL {url!r}: {e}",
                field="--db",
                hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
            ) from e

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception.

        On SQLite the threads of one process queue on a lock before BEGIN IMMEDIATE: SQLite's
        busy handler polls with growing sleeps and is not fair, so under many concurrent
        writers (the API's worker threads) a waiter could starve for seconds; the lock hands
        the database over in turn. Other processes still wait in the busy handler."""
        try:
            with self._writers, self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    yield conn
        except Exception as e:
            raise _translate(e, self.url) from e

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except Exception as e:
            raise _translate(e, self.url) from e

    def raw_connection(self):  # type: ignore[no-untyped-def]
        """The DB-API connection, for bulk loads (executemany, COPY) on hot paths."""
        return self.engine.raw_connection()

    def dispose(self) -> None:
        self.engine.dispose()


def _translate(e: Exception, url: str) -> Exception:
    from sqlalchemy.exc import OperationalError

    from cloudctl.errors import CloudctlError

    if isinstance(e, CloudctlError):
        return e
    if isinstance(e, OperationalError):
        safe = make_url(url).render_as_string(hide_password=True)
        return OperationFailed(f"database error on {safe}: {e.orig}")
    return e


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at URL, bringing its schema up to date unless migrate=False."""
    store = Store(url)
    if migrate:
        from cloudctl.store.migrate import upgrade

        upgrade(store)
    return store
