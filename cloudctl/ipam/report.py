"""Read-only views of the address plan: the pool tree with utilisation, and a pool's free blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cloudctl.errors import NotFoundError
from cloudctl.ipam import records as rec
from cloudctl.ipam.space import Block, Usage, free_blocks, usage


@dataclass(frozen=True)
class PoolView:
    pool: rec.Pool
    parent: str | None
    depth: int
    usage: Usage
    allocations: int
    reservations: int
    children: int

    def as_row(self) -> dict[str, Any]:
        u = self.usage
        return {
            "name": self.pool.name, "tree": "  " * self.depth + self.pool.name, "cidr": self.pool.cidr,
            "parent": self.parent, "depth": self.depth, "version": self.pool.block.version,
            "size": u.size, "allocated": u.allocated, "reserved": u.reserved, "delegated": u.delegated,
            "free": u.free, "utilisation": u.utilisation,
            "largest_free": f"/{u.largest_free}" if u.largest_free is not None else None,
            "allocations": self.allocations, "reservations": self.reservations, "child_pools": self.children,
            "description": self.pool.description,
        }


def pool_tree(conn: Connection, root: str | None = None) -> list[PoolView]:
    """Every pool (or the subtree under `root`), depth first, children in address order."""
    pools = rec.list_pools(conn)
    by_id = {p.id: p for p in pools}
    kids: dict[int | None, list[rec.Pool]] = {}
    for p in pools:
        kids.setdefault(p.parent_id, []).append(p)
    allocs: dict[int, list[rec.Allocation]] = {}
    for a in rec.list_allocations(conn):
        allocs.setdefault(a.pool_id, []).append(a)
    start = [rec.get_pool(conn, root)] if root is not None else kids.get(None, [])
    views: list[PoolView] = []

    def walk(pool: rec.Pool, depth: int) -> None:
        children = sorted(kids.get(pool.id, []), key=lambda c: c.block)
        mine = allocs.get(pool.id, [])
        taken = [a.block for a in mine if a.kind == rec.ALLOCATION]
        held = [a.block for a in mine if a.kind == rec.RESERVED]
        parent = by_id[pool.parent_id].name if pool.parent_id in by_id else None
        views.append(PoolView(pool, parent, depth, usage(pool.block, taken, held, [c.block for c in children]),
                              len(taken), len(held), len(children)))
        for c in children:
            walk(c, depth + 1)

    for p in sorted(start, key=lambda c: c.block):
        walk(p, 0)
    return views


def pool_free(conn: Connection, name: str, length: int | None = None) -> list[Block]:
    """The free blocks of one pool (space not allocated, reserved or delegated to a child pool).

    With `length`, only blocks that can hold a /length.
    """
    pool = rec.get_pool(conn, name)
    used = [a.block for a in rec.pool_allocations(conn, pool)] + [c.block for c in rec.child_pools(conn, pool.id)]
    blocks = free_blocks(pool.block, used)
    if length is not None:
        blocks = [b for b in blocks if b.prefixlen <= length]
    return blocks


def ensure_pool(conn: Connection, name: str) -> rec.Pool:
    pool = rec.find_pool(conn, name)
    if pool is None:
        raise NotFoundError(f"no address pool named {name!r}", field="POOL")
    return pool
