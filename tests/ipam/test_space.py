"""The pure best-fit rules, checked by example and against netaddr's IPSet as an independent reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netaddr import IPAddress, IPNetwork, IPSet, iprange_to_cidrs

from cloudctl.errors import InputError
from cloudctl.ipam.space import Block, best_fit, free_blocks, parse_block, range_to_blocks, usage


def b(text: str) -> Block:
    return parse_block(text)


def test_parse_rejects_host_bits_and_names_the_prefix() -> None:
    with pytest.raises(InputError) as e:
        parse_block("10.1.2.3/16")
    assert "10.1.0.0/16" in e.value.render()
    with pytest.raises(InputError):
        parse_block("10.1.2.0")
    with pytest.raises(InputError):
        parse_block("10.300.0.0/16")
    assert parse_block("2001:db8::/32") == Block(6, int(IPNetwork("2001:db8::/32").first), 32)


def test_best_fit_takes_the_smallest_hole_not_the_lowest() -> None:
    pool = b("10.0.0.0/24")
    used = [b("10.0.0.32/27"), b("10.0.0.64/26"), b("10.0.0.160/27")]
    # free: .0/27, .128/27, .192/26 -> a /27 goes into a /27 hole, the lowest of the two
    free = free_blocks(pool, used)
    assert [x.cidr for x in free] == ["10.0.0.0/27", "10.0.0.128/27", "10.0.0.192/26"]
    assert best_fit(free, 27) == b("10.0.0.0/27")
    # a /28: the /27 holes are smaller than the /26, so the lowest /27 wins
    assert best_fit(free, 28) == b("10.0.0.0/28")
    # a /26 fits only the /26
    assert best_fit(free, 26) == b("10.0.0.192/26")
    assert best_fit(free, 25) is None


def test_best_fit_prefers_smaller_block_at_higher_address() -> None:
    pool = b("10.0.0.0/24")
    used = [b("10.0.0.128/27"), b("10.0.0.160/28"), b("10.0.0.192/26")]
    free = free_blocks(pool, used)  # .0/25 and .176/28
    assert best_fit(free, 28) == b("10.0.0.176/28")  # lowest-first-fit would have split the /25


def test_usage_counts_ipv6_exactly() -> None:
    pool = b("2001:db8::/32")
    u = usage(pool, [b("2001:db8::/48")], [b("2001:db8:7fff::/48")], [b("2001:db8:8000::/33")])
    assert u.size == 2**96
    assert u.free == 2**96 - 2**95 - 2 * 2**80
    assert u.largest_free == 35  # both /34 halves of the low /33 hold one /48


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_range_to_blocks_matches_netaddr(x: int, y: int) -> None:
    lo, hi = min(x, y), max(x, y)
    mine = [blk.cidr for blk in range_to_blocks(4, lo, hi)]
    theirs = [str(c) for c in iprange_to_cidrs(IPAddress(lo, 4), IPAddress(hi, 4))]
    assert mine == theirs


def _reference_best_fit(pool: Block, used: list[Block], length: int) -> str | None:
    free = IPSet([pool.cidr]) - IPSet([u.cidr for u in used])
    fits = [c for c in free.iter_cidrs() if c.prefixlen <= length]
    if not fits:
        return None
    best = min(fits, key=lambda c: (-c.prefixlen, c.first))
    return str(IPNetwork((best.first, length), version=pool.version))


pools = st.one_of(
    st.tuples(st.just(4), st.integers(8, 24)),
    st.tuples(st.just(6), st.integers(32, 56)),
)


@settings(max_examples=150, deadline=None)
@given(pools, st.lists(st.tuples(st.integers(0, 12), st.booleans(), st.integers(0, 10**6)), max_size=60),
       st.randoms(use_true_random=False))
def test_allocations_never_overlap_stay_inside_and_match_reference(pool_spec, steps, rnd) -> None:  # type: ignore[no-untyped-def]
    version, plen = pool_spec
    bits = 32 if version == 4 else 128
    pool = Block(version, (rnd.getrandbits(plen) << (bits - plen)) if plen else 0, plen)
    used: list[Block] = []
    for extra, release, pick in steps:
        if release and used:
            used.pop(pick % len(used))
            continue
        length = min(bits, plen + extra)
        free = free_blocks(pool, used)
        shuffled = list(used)
        rnd.shuffle(shuffled)
        got = best_fit(free, length)
        assert best_fit(free_blocks(pool, shuffled), length) == got  # order of the input does not matter
        expected = _reference_best_fit(pool, used, length)
        assert (got.cidr if got else None) == expected
        if got is None:
            continue
        assert pool.contains(got)
        assert got.prefixlen == length
        assert all(not got.overlaps(u) for u in used)
        used.append(got)
    # the free blocks and the used blocks tile the pool exactly
    free = free_blocks(pool, used)
    assert sum(x.size for x in free) + sum(u.size for u in used) == pool.size
