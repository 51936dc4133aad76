"""The address plan (IPAM): hierarchical pools, deterministic best-fit allocation, reservations.

Python API for other capabilities (call inside a Store.begin() transaction):

    allocate_prefix(conn, pool_name, length, owner, actor) -> netaddr.IPNetwork
    release_prefix(conn, owner, actor, missing_ok=False) -> netaddr.IPNetwork | None
    create_pool(conn, cidr, name, parent, actor, description=None) -> Pool
    get_allocation(conn, owner) -> netaddr.IPNetwork | None

Pure rules live in cloudctl.ipam.space; reads in records/report; writes in allocate.
"""

from cloudctl.ipam.allocate import (
    PoolExhausted,
    allocate,
    allocate_prefix,
    create_pool,
    delete_pool,
    release_by_prefix,
    release_owner,
    release_prefix,
    reserve_prefix,
)
from cloudctl.ipam.records import Allocation, Pool, find_allocation, get_allocation, list_allocations, list_pools
from cloudctl.ipam.report import pool_free, pool_tree

__all__ = [
    "Allocation",
    "Pool",
    "PoolExhausted",
    "allocate",
    "allocate_prefix",
    "create_pool",
    "delete_pool",
    "find_allocation",
    "get_allocation",
    "list_allocations",
    "list_pools",
    "pool_free",
    "pool_tree",
    "release_by_prefix",
    "release_owner",
    "release_prefix",
    "reserve_prefix",
]
