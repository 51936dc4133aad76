"""Dev stack only: SQLite transactions of the OpenStack services begin IMMEDIATE.

oslo.db opens every SQLite transaction with a plain (deferred) BEGIN. A transaction that reads and
then writes must upgrade its lock; when another process wrote in between, SQLite answers "database
is locked" at once (the busy timeout does not apply to an upgrade: waiting could deadlock). Under
load that failed Nova's writes while it built or deleted servers and left them in BUILD or ERROR for
good. BEGIN IMMEDIATE takes the write lock up front, so a transaction waits (busy timeout) instead
of failing. Real deployments run MySQL or PostgreSQL and never see this.

Loaded by a .pth file in the dev stack's venv; does nothing unless CLOUDCTL_SQLITE_BEGIN_IMMEDIATE=1
(set by devstack.py for the services it starts), so the `openstack` CLI and nova-manage are untouched.
"""

from __future__ import annotations

import os
import sys

_TARGET = "oslo_db.sqlalchemy.engines"


def _patch() -> None:
    import sqlalchemy
    from sqlalchemy.engine import Engine

    @sqlalchemy.event.listens_for(Engine, "begin")
    def _begin_immediate(conn):  # type: ignore[no-untyped-def]
        # Engine-class listeners run before oslo.db's per-engine one, which then sees the marker
        # it uses itself and emits nothing. Only oslo.db's connections (pysqlite's own BEGIN off).
        if (conn.dialect.name == "sqlite" and "in_transaction" not in conn.info
                and conn.connection.dbapi_connection.isolation_level is None):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info["in_transaction"] = True

    @sqlalchemy.event.listens_for(Engine, "commit")
    @sqlalchemy.event.listens_for(Engine, "rollback")
    def _end(conn):  # type: ignore[no-untyped-def]
        conn.info.pop("in_transaction", None)


class _AfterImport:
    """Patch once oslo.db's engine module is imported (sqlalchemy is loaded by then anyway)."""

    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):  # type: ignore[no-untyped-def]
            run(module)
            _patch()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if os.environ.get("CLOUDCTL_SQLITE_BEGIN_IMMEDIATE") == "1" and _TARGET not in sys.modules:
    sys.meta_path.insert(0, _AfterImport())
