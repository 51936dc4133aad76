"""The store: SQLAlchemy Core tables, engines for SQLite and PostgreSQL, Alembic migrations."""

from cloudctl.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
