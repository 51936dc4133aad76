"""Alembic, driven from code: `upgrade(store)` brings any database to every head.

Each capability owns a branch of migrations rooted at 0001 (see versions/); upgrading to
"heads" applies them all.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cloudctl.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def _config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def _heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_config()).get_heads())


def current_revisions(store: Store) -> frozenset[str]:
    from sqlalchemy import inspect, text

    with store.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        return frozenset(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))


def is_current(store: Store) -> bool:
    """Whether the database is at every head (what `cloudctl serve` replicas report in /readyz)."""
    return current_revisions(store) == _heads()


def upgrade(store: Store) -> bool:
    """Apply pending migrations; True when something was applied. On PostgreSQL, replicas that
    start together take turns (a transaction-level advisory lock) and the later ones find nothing
    left to do."""
    if current_revisions(store) == _heads():
        return False
    from alembic import command
    from sqlalchemy import text

    cfg = _config()
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7262017)"))  # 'cloudctl migrate'
            done = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar() and frozenset(
                r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
            if done == _heads():
                return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    return True
