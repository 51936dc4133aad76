"""Tables of the address plan (IPAM): pools in a hierarchy and the prefixes taken from them.

Prefixes are stored as canonical CIDR text; all arithmetic happens in cloudctl.ipam.space on
integers. A reservation is an allocation row of kind 'reserved' with no owner.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from cloudctl.store.tables.base import metadata

ipam_pool = Table(
    "ipam_pool",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("cidr", String(64), nullable=False, unique=True),
    Column("version", SmallInteger, nullable=False),
    Column("parent_id", Integer, ForeignKey("ipam_pool.id", ondelete="RESTRICT"), nullable=True),
    Column("description", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_ipam_pool_parent_id", "parent_id"),
)

ipam_allocation = Table(
    "ipam_allocation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pool_id", Integer, ForeignKey("ipam_pool.id", ondelete="RESTRICT"), nullable=False),
    Column("prefix", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # 'allocation' | 'reserved'
    Column("owner", String(200), nullable=True, unique=True),  # NULL for reservations
    Column("note", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_ipam_allocation_pool_id", "pool_id"),
)
