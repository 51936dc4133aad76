"""Alembic, driven from code: `upgrade(store)` brings any database to every head.

Each capability owns a branch of migrations rooted at 0001 (see versions/); upgrading to
"heads" applies them all.

Alembic (and SQLAlchemy) are imported only when a migration is due. Whether one is due is
decided without them: the heads are read from the version files' `revision` and
`down_revision` lines (tests/test_store_open.py checks they equal Alembic's own answer), and
the store's revisions with one DB-API query.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from cloudctl.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=\n]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def _config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def alembic_heads() -> frozenset[str]:
    """The heads as Alembic computes them (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_config()).get_heads())


def scan_heads(versions: Path = MIGRATIONS / "versions") -> frozenset[str] | None:
    """The heads from the version files' revision lines: revisions no other file names as its
    down_revision. None when a file's lines cannot be read this way (then ask Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        revision = _QUOTED.findall(found.get("revision", ""))
        if len(revision) != 1 or "down_revision" not in found:
            return None
        down = found["down_revision"].split("#", 1)[0].strip()
        if down != "None" and not _QUOTED.findall(down):
            return None
        revisions.add(revision[0])
        parents.update(_QUOTED.findall(down))
    return frozenset(revisions - parents) if revisions else None


@cache
def heads() -> frozenset[str]:
    return scan_heads() or alembic_heads()


def current_revisions(store: Store) -> frozenset[str]:
    """The revisions the store is at (empty: no cloudctl schema), with one DB-API query."""
    if store.file is not None and not store.file.exists():
        return frozenset()
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        if store.is_sqlite:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
        else:
            cur.execute("SELECT to_regclass('alembic_version')")
        row = cur.fetchone()
        if row is None or row[0] is None:
            return frozenset()
        cur.execute("SELECT version_num FROM alembic_version")
        found = frozenset(r[0] for r in cur.fetchall())
        cur.close()
    finally:
        raw.close()
    return found


def is_current(store: Store) -> bool:
    """Whether the database is at every head (what `cloudctl serve` replicas report in /readyz)."""
    return current_revisions(store) == heads()


def upgrade(store: Store, current: frozenset[str] | None = None) -> bool:
    """Apply pending migrations; True when something was applied. `current`: the store's
    revisions when the caller has just read them. On PostgreSQL, replicas that start together
    take turns (a transaction-level advisory lock) and the later ones find nothing left to do."""
    if (current_revisions(store) if current is None else current) == heads():
        return False
    from alembic import command
    from sqlalchemy import text

    cfg = _config()
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7262017)"))  # 'cloudctl migrate'
            done = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar() and frozenset(
                r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
            if done == heads():
                return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    return True
