"""Changes to the address plan: pools, allocations, reservations, releases.

Every function takes a connection inside the caller's write transaction (Store.begin()) and
an actor, takes the locks described in cloudctl.ipam.records, decides with the pure rules
in cloudctl.ipam.space and writes one audit record per change. Asking again for what is
already there changes nothing and writes no audit record.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from cloudctl.audit import Actor, record_change
from cloudctl.audit.log import now_utc
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.ipam import records as rec
from cloudctl.ipam.space import (
    Block,
    best_fit,
    block_from_canonical,
    check_length,
    describe_free,
    free_blocks,
    parse_block,
)
from cloudctl.store.tables.ipam import ipam_allocation, ipam_pool

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


class PoolExhausted(ConflictError):
    """No free block of the requested length is left in the pool."""

    def __init__(self, pool: str, cidr: str, length: int, free: list[Block]) -> None:
        super().__init__(
            f"address pool {pool!r} ({cidr}) has no free /{length}: {describe_free(free)}",
            hint="ask for a longer prefix, release unused prefixes, or add space to the plan",
        )
        self.pool = pool
        self.length = length
        self.free = free


def _actor(actor: Actor | str) -> Actor:
    return actor if isinstance(actor, Actor) else Actor(str(actor))


def _occupied(conn: Connection, pool: rec.Pool) -> tuple[list[rec.Allocation], list[rec.Pool]]:
    return rec.pool_allocations(conn, pool), rec.child_pools(conn, pool.id)


def _describe(thing: rec.Allocation | rec.Pool) -> str:
    if isinstance(thing, rec.Pool):
        return f"pool {thing.name!r} ({thing.cidr})"
    if thing.kind == rec.RESERVED:
        return f"reserved range {thing.prefix}" + (f" ({thing.note})" if thing.note else "")
    return f"{thing.prefix} allocated to {thing.owner!r}"


def _clash(block: Block, allocs: list[rec.Allocation], pools: list[rec.Pool]) -> str | None:
    for thing in [*allocs, *pools]:
        if block.overlaps(thing.block):
            return _describe(thing)
    return None


def create_pool(conn: Connection, cidr: str, name: str, parent: str | None, actor: Actor | str,
                description: str | None = None) -> rec.Pool:
    """Add a pool; a child must lie inside its parent and overlap nothing already there.

    Idempotent: the same name, CIDR and parent again returns the existing pool unchanged.
    """
    if not NAME_RE.match(name or ""):
        raise InputError(f"bad pool name {name!r}", field="--name",
                         hint="letters, digits, '.', '_', ':' and '-', at most 100 characters")
    block = parse_block(cidr)
    rec.serialise_writes(conn)
    parent_pool = rec.get_pool(conn, parent, lock=True) if parent else None
    existing = rec.find_pool(conn, name)
    if existing is not None:
        if existing.block == block and existing.parent_id == (parent_pool.id if parent_pool else None):
            return existing
        raise ConflictError(f"pool {name!r} already exists as {existing.cidr}",
                            hint="choose another name, or remove the pool first")
    if parent_pool is not None:
        if block.version != parent_pool.block.version or not parent_pool.block.contains(block) \
                or block == parent_pool.block:
            raise InputError(f"{block.cidr} does not lie inside parent pool {parent!r} ({parent_pool.cidr})",
                             field="CIDR", hint=f"a child of {parent!r} must be a smaller prefix inside "
                                                f"{parent_pool.cidr}")
        allocs, siblings = _occupied(conn, parent_pool)
        clash = _clash(block, allocs, siblings)
    else:
        clash = _clash(block, [], rec.child_pools(conn, None))
    if clash:
        raise ConflictError(f"{block.cidr} overlaps {clash}", hint="pools must not overlap their siblings, "
                            "nor prefixes allocated or reserved in the parent")
    at, who = now_utc(), _actor(actor)
    pool_id = conn.execute(insert(ipam_pool).values(
        name=name, cidr=block.cidr, version=block.version, parent_id=parent_pool.id if parent_pool else None,
        description=description, created_at=at, created_by=who.name,
    ).returning(ipam_pool.c.id)).scalar_one()
    pool = rec.Pool(pool_id, name, block, parent_pool.id if parent_pool else None, description, at, who.name)
    record_change(conn, who, "ipam.pool.add", "ipam_pool", name, None, pool.summary(parent), at=at)
    return pool


def delete_pool(conn: Connection, name: str, actor: Actor | str) -> rec.Pool:
    """Remove an empty pool (no child pools, no allocations, no reservations)."""
    rec.serialise_writes(conn)
    pool = rec.get_pool(conn, name, lock=True)
    allocs, children = _occupied(conn, pool)
    if allocs or children:
        raise ConflictError(f"pool {name!r} is not empty: {len(children)} child pools, {len(allocs)} "
                            "allocations/reservations", hint="release or remove them first")
    parent = next((p.name for p in rec.list_pools(conn) if p.id == pool.parent_id), None)
    conn.execute(delete(ipam_pool).where(ipam_pool.c.id == pool.id))
    record_change(conn, _actor(actor), "ipam.pool.remove", "ipam_pool", name, pool.summary(parent), None)
    return pool


def _insert_allocation(conn: Connection, pool: rec.Pool, block: Block, kind: str, owner: str | None,
                       note: str | None, who: Actor) -> rec.Allocation:
    at = now_utc()
    try:  # no savepoint needed: on an error the caller's whole transaction rolls back
        new_id = conn.execute(insert(ipam_allocation).values(
            pool_id=pool.id, prefix=block.cidr, kind=kind, owner=owner, note=note, created_at=at,
            created_by=who.name,
        ).returning(ipam_allocation.c.id)).scalar_one()
    except IntegrityError as e:  # the same owner taken in another pool at this very moment
        raise ConflictError(f"{owner or block.cidr!r} was allocated concurrently; retry to see it",
                            hint="cloudctl ipam list") from e
    alloc = rec.Allocation(new_id, pool.id, pool.name, block, kind, owner, note, at, who.name)
    action = "ipam.allocate" if kind == rec.ALLOCATION else "ipam.reserve"
    record_change(conn, who, action, "ipam_allocation", block.cidr, None, alloc.summary(), at=at)
    return alloc


def allocate_prefix(conn: Connection, pool_name: str, length: int, owner: str, actor: Actor | str,
                    note: str | None = None):  # type: ignore[no-untyped-def]  # -> netaddr.IPNetwork
    """Allocate a /length for `owner` from pool `pool_name` by best fit; the same again returns the same."""
    return allocate(conn, pool_name, length, owner, actor, note).network


def allocate(conn: Connection, pool_name: str, length: int, owner: str, actor: Actor | str,
             note: str | None = None) -> rec.Allocation:
    """allocate_prefix, returning the whole Allocation record."""
    owner = (owner or "").strip()
    if not owner:
        raise InputError("an allocation needs an owner", field="--for", hint="e.g. --for dept:health")
    rec.serialise_writes(conn)
    pool = rec.get_pool(conn, pool_name, lock=True)
    check_length(pool.block, int(length))
    # one query for both: what the pool holds, and what the owner holds anywhere
    rows = conn.execute(select(ipam_allocation.c.pool_id, ipam_allocation.c.prefix, ipam_allocation.c.owner).where(
        (ipam_allocation.c.pool_id == pool.id) | (ipam_allocation.c.owner == owner))).all()
    if any(r.owner == owner for r in rows):
        held = rec.find_allocation(conn, owner=owner)
        assert held is not None
        if held.pool_id == pool.id and held.block.prefixlen == int(length):
            return held
        raise ConflictError(f"{owner!r} already holds {held.prefix} in pool {held.pool!r}",
                            hint=f"release it first: cloudctl ipam release --for {owner}")
    used = [block_from_canonical(r.prefix) for r in rows if r.pool_id == pool.id]
    children = conn.execute(select(ipam_pool.c.cidr).where(ipam_pool.c.parent_id == pool.id)).scalars()
    free = free_blocks(pool.block, used + [block_from_canonical(c) for c in children])
    chosen = best_fit(free, int(length))
    if chosen is None:
        raise PoolExhausted(pool.name, pool.cidr, int(length), free)
    return _insert_allocation(conn, pool, chosen, rec.ALLOCATION, owner, note, _actor(actor))


def _deepest_pool(conn: Connection, block: Block) -> rec.Pool:
    inside = [p for p in rec.list_pools(conn) if p.block.contains(block)]
    if not inside:
        raise NotFoundError(f"{block.cidr} lies in no address pool", field="CIDR",
                            hint="add a pool that contains it, or check the prefix")
    return max(inside, key=lambda p: p.block.prefixlen)


def reserve_prefix(conn: Connection, cidr: str, actor: Actor | str, pool: str | None = None,
                   reason: str | None = None) -> rec.Allocation:
    """Reserve a range (gateways, future use) so nothing is ever allocated there.

    The pool is the deepest one containing the range unless named. Idempotent for the same range.
    """
    block = parse_block(cidr)
    rec.serialise_writes(conn)
    target = rec.get_pool(conn, pool) if pool else _deepest_pool(conn, block)
    target = rec.get_pool(conn, target.name, lock=True)
    if not target.block.contains(block):
        raise InputError(f"{block.cidr} does not lie inside pool {target.name!r} ({target.cidr})", field="CIDR")
    allocs, children = _occupied(conn, target)
    same = next((a for a in allocs if a.block == block and a.kind == rec.RESERVED), None)
    if same is not None:
        return same
    clash = _clash(block, allocs, children)
    if clash:
        raise ConflictError(f"cannot reserve {block.cidr}: it overlaps {clash}")
    return _insert_allocation(conn, target, block, rec.RESERVED, None, reason, _actor(actor))


def _release(conn: Connection, alloc: rec.Allocation, who: Actor) -> rec.Allocation:
    rec.get_pool(conn, alloc.pool, lock=True)
    conn.execute(delete(ipam_allocation).where(ipam_allocation.c.id == alloc.id))
    action = "ipam.release" if alloc.kind == rec.ALLOCATION else "ipam.unreserve"
    record_change(conn, who, action, "ipam_allocation", alloc.prefix, alloc.summary(), None)
    return alloc


def release_prefix(conn: Connection, owner: str, actor: Actor | str, *, missing_ok: bool = False):  # type: ignore[no-untyped-def]
    """Give back what `owner` holds; returns the released netaddr.IPNetwork (None if missing_ok and nothing)."""
    alloc = release_owner(conn, owner, actor, missing_ok=missing_ok)
    return alloc.network if alloc else None


def release_owner(conn: Connection, owner: str, actor: Actor | str, *,
                  missing_ok: bool = False) -> rec.Allocation | None:
    """release_prefix, returning the whole Allocation record that was released."""
    rec.serialise_writes(conn)
    alloc = rec.find_allocation(conn, owner=owner)
    if alloc is None:
        if missing_ok:
            return None
        raise NotFoundError(f"{owner!r} holds no prefix", field="--for", hint="cloudctl ipam list")
    return _release(conn, alloc, _actor(actor))


def release_by_prefix(conn: Connection, cidr: str, actor: Actor | str) -> rec.Allocation:
    """Give back an allocation or a reservation named by its exact prefix."""
    rec.serialise_writes(conn)
    alloc = rec.find_allocation(conn, prefix=cidr)
    if alloc is None:
        raise NotFoundError(f"{cidr} is neither allocated nor reserved", field="--prefix",
                            hint="cloudctl ipam list shows what is taken")
    return _release(conn, alloc, _actor(actor))


__all__ = ["PoolExhausted", "allocate", "allocate_prefix", "create_pool", "delete_pool", "release_by_prefix",
           "release_owner", "release_prefix", "reserve_prefix"]
