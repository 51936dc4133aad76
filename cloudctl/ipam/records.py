"""Reading pools and allocations from the store, and the row locks that make writes race-free.

Locking (docs/ipam.md): on SQLite every write transaction already holds the database's write
lock (Store.begin issues BEGIN IMMEDIATE). On PostgreSQL a write first takes the audit
chain's head row (every write transaction ends up needing it for record_change, so taking
it first gives every transaction the same lock order and no deadlock with callers that
audited something earlier in their transaction), then locks the pool row with
SELECT ... FOR UPDATE, so two processes never decide on the same pool's free space at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from cloudctl.errors import NotFoundError
from cloudctl.ipam.space import Block, block_from_canonical, parse_block
from cloudctl.store.tables.core import audit_head
from cloudctl.store.tables.ipam import ipam_allocation, ipam_pool

ALLOCATION = "allocation"
RESERVED = "reserved"


@dataclass(frozen=True)
class Pool:
    id: int
    name: str
    block: Block
    parent_id: int | None
    description: str | None
    created_at: str
    created_by: str

    @property
    def cidr(self) -> str:
        return self.block.cidr

    def summary(self, parent: str | None = None) -> dict[str, Any]:
        return {"name": self.name, "cidr": self.cidr, "parent": parent, "description": self.description}


@dataclass(frozen=True)
class Allocation:
    id: int
    pool_id: int
    pool: str
    block: Block
    kind: str  # 'allocation' | 'reserved'
    owner: str | None
    note: str | None
    created_at: str
    created_by: str

    @property
    def prefix(self) -> str:
        return self.block.cidr

    @property
    def network(self):  # type: ignore[no-untyped-def]  # -> netaddr.IPNetwork
        return self.block.network

    def summary(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "pool": self.pool, "kind": self.kind, "owner": self.owner,
                "note": self.note}

    def as_row(self) -> dict[str, Any]:
        return {**self.summary(), "created_at": self.created_at, "created_by": self.created_by}


def _pool(row: Any) -> Pool:
    return Pool(row.id, row.name, block_from_canonical(row.cidr), row.parent_id, row.description, row.created_at,
                row.created_by)


def _allocation(row: Any, pool_name: str) -> Allocation:
    return Allocation(row.id, row.pool_id, pool_name, block_from_canonical(row.prefix), row.kind, row.owner, row.note,
                      row.created_at, row.created_by)


def serialise_writes(conn: Connection) -> None:
    """On PostgreSQL, take the audit head row first (see the module doc); SQLite is already serial."""
    if conn.dialect.name != "sqlite":
        conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1).with_for_update())


def find_pool(conn: Connection, name: str, *, lock: bool = False) -> Pool | None:
    q = select(ipam_pool).where(ipam_pool.c.name == name)
    if lock and conn.dialect.name != "sqlite":
        q = q.with_for_update()
    row = conn.execute(q).one_or_none()
    return _pool(row) if row else None


def get_pool(conn: Connection, name: str, *, lock: bool = False) -> Pool:
    pool = find_pool(conn, name, lock=lock)
    if pool is None:
        names = [r[0] for r in conn.execute(select(ipam_pool.c.name).order_by(ipam_pool.c.name).limit(20))]
        hint = f"known pools: {', '.join(names)}" if names else "create one with `cloudctl ipam pool add CIDR --name N`"
        raise NotFoundError(f"no address pool named {name!r}", field="--pool", hint=hint)
    return pool


def list_pools(conn: Connection) -> list[Pool]:
    return [_pool(r) for r in conn.execute(select(ipam_pool).order_by(ipam_pool.c.id))]


def child_pools(conn: Connection, parent_id: int | None) -> list[Pool]:
    cond = ipam_pool.c.parent_id.is_(None) if parent_id is None else ipam_pool.c.parent_id == parent_id
    return [_pool(r) for r in conn.execute(select(ipam_pool).where(cond))]


def pool_allocations(conn: Connection, pool: Pool) -> list[Allocation]:
    rows = conn.execute(select(ipam_allocation).where(ipam_allocation.c.pool_id == pool.id))
    return [_allocation(r, pool.name) for r in rows]


def occupied_blocks(conn: Connection, pool: Pool) -> list[Block]:
    """Everything taken inside `pool`: allocations, reservations and child pools (the hot path)."""
    taken = conn.execute(select(ipam_allocation.c.prefix).where(ipam_allocation.c.pool_id == pool.id)).scalars()
    kids = conn.execute(select(ipam_pool.c.cidr).where(ipam_pool.c.parent_id == pool.id)).scalars()
    return [block_from_canonical(t) for t in taken] + [block_from_canonical(k) for k in kids]


def list_allocations(conn: Connection, pool: str | None = None, kind: str | None = None) -> list[Allocation]:
    q = select(ipam_allocation, ipam_pool.c.name.label("pool_name")).join(
        ipam_pool, ipam_pool.c.id == ipam_allocation.c.pool_id)
    if pool is not None:
        q = q.where(ipam_pool.c.id == get_pool(conn, pool).id)
    if kind is not None:
        q = q.where(ipam_allocation.c.kind == kind)
    allocs = [_allocation(r, r.pool_name) for r in conn.execute(q)]
    return sorted(allocs, key=lambda a: (a.pool, a.block))


def find_allocation(conn: Connection, *, owner: str | None = None, prefix: str | None = None) -> Allocation | None:
    """The allocation held by `owner`, or the allocation/reservation at exactly `prefix`."""
    q = select(ipam_allocation, ipam_pool.c.name.label("pool_name")).join(
        ipam_pool, ipam_pool.c.id == ipam_allocation.c.pool_id)
    if owner is not None:
        q = q.where(ipam_allocation.c.owner == owner)
    elif prefix is not None:
        q = q.where(ipam_allocation.c.prefix == parse_block(prefix, field="--prefix").cidr)
    else:
        raise ValueError("find_allocation needs owner or prefix")
    row = conn.execute(q).one_or_none()
    return _allocation(row, row.pool_name) if row else None


def get_allocation(conn: Connection, owner: str):  # type: ignore[no-untyped-def]  # -> IPNetwork | None
    """The prefix (netaddr.IPNetwork) that `owner` holds, or None."""
    found = find_allocation(conn, owner=owner)
    return found.network if found else None
