"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

Write transactions (Store.begin) on SQLite start with BEGIN IMMEDIATE, so two processes
never both read-then-write the same rows (allocation, votes, the audit chain); reads
(Store.connect) use a deferred BEGIN and run beside a writer (WAL). On PostgreSQL the same
code takes row locks (SELECT ... FOR UPDATE) where it needs them.

SQLAlchemy is imported when the first SQLAlchemy connection is asked for, not before: a
read command that works on DB-API cursors (the coverage roll-up) opens a SQLite file with
the standard library alone (Store.raw_connection), which keeps its start-up short.

Opening: `open_store(url)` creates a missing store (tests, library use); the CLI and the
API open with `create=False`, which refuses a store that does not exist or has no cloudctl
schema (exit 2) and creates nothing; only `cloudctl init` and `cloudctl demo` create.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudctl.errors import InputError, OperationFailed

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

_WRITE = "cloudctl_write"
_SQLITE_SCHEMES = ("sqlite://", "sqlite+pysqlite://")


def normalise_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_file(url: str) -> Path | None:
    """The database file of a plain SQLite URL (sqlite:///rel or sqlite:////abs), else None
    (another backend, an in-memory database, or a URL with query options)."""
    for scheme in _SQLITE_SCHEMES:
        if url.startswith(scheme):
            rest = url[len(scheme):]
            if not rest.startswith("/") or "?" in rest:
                return None
            path = rest[1:]
            return None if path in ("", ":memory:") else Path(path)
    return None


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


def _sqlite_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

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


def _build_engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Store:
    """A database and how to open transactions on it."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.file = sqlite_file(self.url)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._writers: threading.RLock | nullcontext[None] = (
            threading.RLock() if self.url.startswith("sqlite") else nullcontext())
        if self.file is None:  # only a plain SQLite file is opened without SQLAlchemy
            _ = self.engine  # a bad URL or a missing driver is reported now

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, built (and SQLAlchemy imported) on first use."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    try:
                        self._engine = _build_engine(self.url)
                    except Exception as e:  # bad URL, missing driver
                        raise InputError(
                            f"cannot use database URL {safe_url(self.url)!r}: {e}",
                            field="--db",
                            hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
                        ) from e
        return self._engine

    @property
    def dialect(self) -> str:
        if self._engine is not None:
            return self._engine.dialect.name
        return self.url.split(":", 1)[0].split("+", 1)[0]

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

    def raw_connection(self) -> Any:
        """A DB-API connection (autocommit on SQLite), for bulk work on hot paths; close() it.

        For a SQLite file, before anything has built the SQLAlchemy engine, this is a plain
        sqlite3 connection that never creates the file (a read command imports no SQLAlchemy);
        afterwards it comes from the engine's pool."""
        if self._engine is None and self.file is not None:
            return _sqlite_connection(self.file, self.url)
        try:
            return self.engine.raw_connection()
        except Exception as e:
            raise _translate(e, self.url) from e

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _sqlite_connection(path: Path, url: str) -> Any:
    """sqlite3 connection to an existing file, set up as the engine's are (WAL is a property
    of the file, set when the store was created)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=60, check_same_thread=False,
                               isolation_level=None)
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as e:
        raise OperationFailed(f"database error on {url}: {e}",
                              hint="is the path a cloudctl store you can read and write?") from e
    return conn


def _translate(e: Exception, url: str) -> Exception:
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

    from cloudctl.errors import CloudctlError

    if isinstance(e, CloudctlError):
        return e
    # the server went away (restart, network): the API answers 503 and clients retry
    if isinstance(e, OperationalError | InterfaceError) or (isinstance(e, DBAPIError) and e.connection_invalidated):
        return OperationFailed(f"database error on {safe_url(url)}: {e.orig}")
    if isinstance(e, DisconnectionError):
        return OperationFailed(f"database error on {safe_url(url)}: {e}")
    return e


def missing_store_error(problem: str) -> InputError:
    return InputError(problem, field="--db",
                      hint="run `cloudctl init` to create the store (or `cloudctl demo`), "
                           "or point --db / CLOUDCTL_DB at an existing one")


def open_store(url: str, *, migrate: bool = True, create: bool = True) -> Store:
    """Open the store at URL, bringing its schema up to date unless migrate=False.

    create=False refuses (InputError, exit 2) a SQLite file that does not exist and any
    database without a cloudctl schema, and creates nothing; an existing store at an older
    revision is still upgraded."""
    from cloudctl.store.migrate import current_revisions, upgrade

    store = Store(url)
    current = None
    if not create:
        if store.file is not None and not store.file.is_file():
            raise missing_store_error(f"no cloudctl store at {store.file}: the file does not exist")
        try:
            current = current_revisions(store)
        except Exception as e:  # e.g. "file is not a database"
            if store.file is None or type(e).__module__ != "sqlite3":
                raise
            raise missing_store_error(f"{store.file} is not a cloudctl store: {e}") from e
        if not current:
            raise missing_store_error(f"{safe_url(store.url)} is not a cloudctl store: it has no cloudctl schema")
    if migrate:
        upgrade(store, current)
    return store
