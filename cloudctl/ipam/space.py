"""Pure address-space arithmetic: integer ranges, aligned CIDR blocks and the best-fit rule.

No database and no I/O. An address is an int; a block is an aligned CIDR (first address,
prefix length, family). Free space is computed from sorted integer ranges, never by
enumerating addresses, so an IPv6 /32 costs the same as an IPv4 /24.

The best-fit rule (docs/ipam.md): split the free space of a pool into maximal aligned CIDR
blocks; among the blocks at least as large as the request, take the *smallest*; on a tie
the one at the *lowest address*; hand out the first subnet of the requested length inside
it. Filling the smallest hole first keeps large blocks whole for the large requests that
come later (a /16 pool that handed out /24s lowest-first would have no /20 left after a
few releases; best-fit keeps one as long as the space allows).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cloudctl.errors import InputError

BITS = {4: 32, 6: 128}


@dataclass(frozen=True, order=True)
class Block:
    """An aligned CIDR block: first address (int), prefix length, IP version (4 or 6)."""

    version: int
    first: int
    prefixlen: int

    def __post_init__(self) -> None:
        bits = BITS[self.version]
        if not 0 <= self.prefixlen <= bits:
            raise ValueError(f"prefix length {self.prefixlen} out of range for IPv{self.version}")
        if self.first & ((1 << (bits - self.prefixlen)) - 1):
            raise ValueError("block start is not aligned to its prefix length")

    @property
    def bits(self) -> int:
        return BITS[self.version]

    @property
    def size(self) -> int:
        return 1 << (self.bits - self.prefixlen)

    @property
    def last(self) -> int:
        return self.first + self.size - 1

    @property
    def network(self):  # type: ignore[no-untyped-def]  # -> netaddr.IPNetwork
        from netaddr import IPNetwork

        return IPNetwork((self.first, self.prefixlen), version=self.version)

    @property
    def cidr(self) -> str:
        return str(self.network)

    def __str__(self) -> str:
        return self.cidr

    def contains(self, other: Block) -> bool:
        return self.version == other.version and self.first <= other.first and other.last <= self.last

    def overlaps(self, other: Block) -> bool:
        return self.version == other.version and self.first <= other.last and other.first <= self.last


def parse_block(text: str, *, field: str = "CIDR") -> Block:
    """A CIDR typed by a person; host bits set or bad syntax is an InputError naming the fix."""
    from netaddr import AddrFormatError, IPNetwork

    raw = (text or "").strip()
    if "/" not in raw:
        raise InputError(f"{text!r} is not a CIDR prefix (no /LENGTH)", field=field,
                         hint="write it as ADDRESS/LENGTH, e.g. 10.20.0.0/16 or 2001:db8::/32")
    try:
        net = IPNetwork(raw)
    except (AddrFormatError, ValueError, TypeError) as e:
        raise InputError(f"{text!r} is not a valid CIDR prefix: {e}", field=field,
                         hint="e.g. 10.20.0.0/16 or 2001:db8::/32") from e
    if net.ip != net.network:
        raise InputError(f"{text!r} has host bits set", field=field,
                         hint=f"the prefix is {net.cidr}")
    return Block(net.version, int(net.first), int(net.prefixlen))


@lru_cache(maxsize=1 << 16)
def block_from_canonical(text: str) -> Block:
    """A CIDR the store wrote itself (already canonical): parsed fast, without netaddr."""
    addr, _, plen = text.partition("/")
    if ":" in addr:
        return Block(6, int.from_bytes(socket.inet_pton(socket.AF_INET6, addr), "big"), int(plen))
    return Block(4, int.from_bytes(socket.inet_pton(socket.AF_INET, addr), "big"), int(plen))


def range_to_blocks(version: int, first: int, last: int) -> list[Block]:
    """The fewest aligned CIDR blocks covering [first, last] exactly, in address order."""
    bits = BITS[version]
    blocks: list[Block] = []
    while first <= last:
        # the largest aligned block starting at `first` that ends at or before `last`
        host_bits = (first & -first).bit_length() - 1 if first else bits
        while first + (1 << host_bits) - 1 > last:
            host_bits -= 1
        blocks.append(Block(version, first, bits - host_bits))
        first += 1 << host_bits
    return blocks


def free_ranges(pool: Block, used: Iterable[Block]) -> list[tuple[int, int]]:
    """The gaps of `pool` not covered by `used`, as inclusive integer ranges in order."""
    bits, lo_pool, hi_pool = pool.bits, pool.first, pool.last
    spans = sorted((b.first, b.first + (1 << (bits - b.prefixlen)) - 1) for b in used if b.version == pool.version)
    gaps: list[tuple[int, int]] = []
    cursor = lo_pool
    for first, last in spans:
        if last < lo_pool or first > hi_pool:
            continue
        if first > cursor:
            gaps.append((cursor, first - 1))
        cursor = max(cursor, last + 1)
    if cursor <= hi_pool:
        gaps.append((cursor, hi_pool))
    return gaps


def free_blocks(pool: Block, used: Iterable[Block]) -> list[Block]:
    """The free space of `pool` as maximal aligned CIDR blocks, in address order."""
    return [blk for lo, hi in free_ranges(pool, used) for blk in range_to_blocks(pool.version, lo, hi)]


def best_fit(free: Iterable[Block], length: int) -> Block | None:
    """The /length block best-fit picks from `free` (see the module doc), or None if none fits."""
    chosen: Block | None = None
    for b in free:
        if b.prefixlen > length:
            continue
        if chosen is None or b.prefixlen > chosen.prefixlen or (
            b.prefixlen == chosen.prefixlen and b.first < chosen.first
        ):
            chosen = b
    if chosen is None:
        return None
    return Block(chosen.version, chosen.first, length)


def check_length(pool: Block, length: int) -> None:
    """A request for /length in `pool` must be a valid prefix length no larger than the pool."""
    if not pool.prefixlen <= length <= pool.bits:
        raise InputError(
            f"cannot allocate a /{length} from {pool.cidr}", field="--length",
            hint=f"choose a length between {pool.prefixlen} and {pool.bits} for IPv{pool.version}",
        )


def first_overlap(block: Block, others: Iterable[Block]) -> Block | None:
    """The first of `others` that overlaps `block` (any order), or None."""
    for o in others:
        if block.overlaps(o):
            return o
    return None


@dataclass(frozen=True)
class Usage:
    """How much of a pool is taken, in addresses (ints: IPv6 sizes exceed floats' precision)."""

    size: int
    allocated: int
    reserved: int
    delegated: int  # to child pools
    free: int
    largest_free: int | None  # prefix length of the largest free block

    @property
    def utilisation(self) -> float:
        return (self.size - self.free) / self.size if self.size else 0.0


def usage(pool: Block, allocated: list[Block], reserved: list[Block], children: list[Block]) -> Usage:
    gaps = free_ranges(pool, [*allocated, *reserved, *children])
    free = sum(hi - lo + 1 for lo, hi in gaps)
    blocks = [b for lo, hi in gaps for b in range_to_blocks(pool.version, lo, hi)]
    return Usage(
        size=pool.size,
        allocated=sum(b.size for b in allocated),
        reserved=sum(b.size for b in reserved),
        delegated=sum(b.size for b in children),
        free=free,
        largest_free=min((b.prefixlen for b in blocks), default=None),
    )


def describe_free(blocks: list[Block], limit: int = 8) -> str:
    """A short human summary of free space for error messages."""
    if not blocks:
        return "no free space at all"
    total = sum(b.size for b in blocks)
    largest = min(b.prefixlen for b in blocks)
    shown = ", ".join(b.cidr for b in sorted(blocks, key=lambda b: (b.prefixlen, b.first))[:limit])
    more = f" and {len(blocks) - limit} more" if len(blocks) > limit else ""
    return f"{total} free addresses in {len(blocks)} blocks, largest /{largest}: {shown}{more}"
