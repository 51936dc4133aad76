"""The five-level administrative division registry."""

from sqlalchemy import Column, Index, Integer, SmallInteger, String, Table, Text

from cloudctl.store.tables.base import metadata

division = Table(
    "division",
    metadata,
    Column("code", String(12), primary_key=True),  # a string: never parse as int
    Column("name", Text, nullable=False),
    Column("level", SmallInteger, nullable=False),  # 1 province .. 5 village
    Column("parent_code", String(12), nullable=True),
    Column("kind", String(32), nullable=False),
    Index("ix_division_parent_code", "parent_code"),
    Index("ix_division_level", "level"),
)

# A rename keeps the old name: one row per change, written by the import.
division_name_history = Table(
    "division_name_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(12), nullable=False, index=True),
    Column("old_name", Text, nullable=False),
    Column("new_name", Text, nullable=False),
    Column("changed_at", String(40), nullable=False),
)
