"""Addresses and ports as integer intervals, and the interval algebra the analysis runs on.

Every address in a policy is a literal (never a hostname): `parse_address` accepts only
dotted-quad IPv4 or RFC 4291 IPv6 text, with an optional /prefix, and returns
(family, first, last) as integers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

Interval = tuple[int, int]  # inclusive bounds
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")
MAX_BITS = {4: 32, 6: 128}


class AddressError(ValueError):
    """A text that is not an address literal; the message says why."""


@lru_cache(maxsize=1 << 16)
def parse_address(text: str, *, allow_prefix: bool = True, strict_network: bool = False) -> tuple[int, int, int]:
    """(family, first, last) of an address literal `A` or `A/len`.

    strict_network: the host bits must be zero (a network, as in a zone's cidrs).
    """
    if not isinstance(text, str) or not text.strip():
        raise AddressError("an address literal is required")
    text = text.strip()
    if text.lower() in ("any", "all", "*", "0/0"):
        raise AddressError(f"{text!r} is not allowed: name exact addresses")
    addr_text, slash, plen_text = text.partition("/")
    if _IPV4.match(addr_text):  # the common case, as strict as inet_pton, without ipaddress's cost
        a, b, c, d = addr_text.split(".")
        family, value = 4, (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    else:
        try:
            if "%" in addr_text:  # a zone index (fe80::1%eth0) names no address a gateway routes
                raise ValueError(addr_text)
            family, value = 6, int(ipaddress.IPv6Address(addr_text))
        except ValueError as e:
            raise AddressError(f"{addr_text!r} is not an IP address literal (hostnames are not allowed)") from e
    bits = MAX_BITS[family]
    if not slash:
        return family, value, value
    if not allow_prefix:
        raise AddressError(f"{text!r}: a single address is required here, without /prefix")
    if not plen_text.isdigit() or not 0 <= int(plen_text) <= bits:
        raise AddressError(f"{text!r}: the prefix length must be 0..{bits}")
    plen = int(plen_text)
    host_mask = (1 << (bits - plen)) - 1
    first = value & ~host_mask
    if strict_network and first != value:
        network = format_address(family, first)
        raise AddressError(f"{text!r} has host bits set; the network is {network}/{plen}")
    return family, first, first | host_mask


@lru_cache(maxsize=1 << 14)
def parse_port_spec(spec: object) -> Interval:
    """A port 1..65535 or a range 'A-B' (inclusive)."""
    if isinstance(spec, bool):
        raise ValueError(f"{spec!r} is not a port")
    if isinstance(spec, int):
        lo = hi = spec
    elif isinstance(spec, str) and spec.strip():
        lo_text, dash, hi_text = spec.strip().partition("-")
        if not lo_text.strip().isdigit() or (dash and not hi_text.strip().isdigit()):
            raise ValueError(f"{spec!r} is not a port or a range 'A-B'")
        lo = int(lo_text)
        hi = int(hi_text) if dash else lo
    else:
        raise ValueError(f"{spec!r} is not a port")
    if not (1 <= lo <= 65535 and 1 <= hi <= 65535):
        raise ValueError(f"port {spec!r} is outside 1-65535")
    if lo > hi:
        raise ValueError(f"port range {spec!r} is reversed")
    return lo, hi


def normalize(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-adjacent union of inclusive intervals."""
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def covers(union: Sequence[Interval], wanted: Sequence[Interval]) -> bool:
    """Is every point of `wanted` inside `union`? Both normalised."""
    i = 0
    for lo, hi in wanted:
        while i < len(union) and union[i][1] < lo:
            i += 1
        if i == len(union) or union[i][0] > lo or union[i][1] < hi:
            return False
    return True


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two normalised interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Points of `a` not in `b` (both normalised)."""
    out: list[Interval] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return out


def size(intervals: Iterable[Interval]) -> int:
    return sum(hi - lo + 1 for lo, hi in intervals)


def format_address(family: int, value: int) -> str:
    if family == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    return str(ipaddress.IPv6Address(value))


def format_address_range(family: int, lo: int, hi: int) -> str:
    """`A`, `A/len` when the range is a prefix, else `A-B` (nft syntax)."""
    if lo == hi:
        return format_address(family, lo)
    span = hi - lo + 1
    if span & (span - 1) == 0 and lo % span == 0:
        return f"{format_address(family, lo)}/{MAX_BITS[family] - span.bit_length() + 1}"
    return f"{format_address(family, lo)}-{format_address(family, hi)}"


def range_to_cidrs(family: int, lo: int, hi: int) -> list[str]:
    make = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
    return [str(c) for c in ipaddress.summarize_address_range(make(lo), make(hi))]


def format_ports(intervals: Iterable[Interval]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)
