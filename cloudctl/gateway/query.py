"""Would the gateway allow this new connection? Computed on the semantics the ruleset implements.

The gateway routes by zone: the packet arrives on the interface carrying the source's zone
and leaves on the one carrying the destination's. The first active rule (publications in file
order, then data shares) whose flow holds the packet decides, as the compiled map counts it;
then department egress;
otherwise the packet is dropped, and the answer says which isolation rule drops it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from cloudctl.errors import InputError
from cloudctl.gateway.netspace import AddressError, parse_address
from cloudctl.gateway.semantics import ACCESS_CLASS_MEANING, Semantics


@dataclass(frozen=True)
class Decision:
    verdict: str  # "allow" | "deny"
    rule: str  # "publication" | "share" | "egress" | "isolation" | "expired" | "revoked" | "not-in-effect" |
    #   "no-route" | "default-drop"
    decided_by: str | None  # publication, share (share-<id>) or department name
    reason: str
    src_zone: str | None
    dst_zone: str | None
    iif: str | None
    oif: str | None
    snat_to: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _address(text: str, field: str) -> tuple[int, int]:
    try:
        family, lo, _ = parse_address(text, allow_prefix=False)
    except AddressError as e:
        raise InputError(str(e), field=field, hint="give one IPv4 or IPv6 address") from e
    return family, lo


def query_flow(sem: Semantics, src: str, dst: str, proto: str, port: int, at: dt.date) -> Decision:
    """The verdict on a new connection src -> dst:port/proto on date `at`, and what decides it."""
    family, s = _address(src, "--src")
    dfamily, d = _address(dst, "--dst")
    if family != dfamily:
        raise InputError("--src and --dst must be of the same IP version", field="--dst")
    if proto not in ("tcp", "udp"):
        raise InputError(f"protocol {proto!r}: the gateway forwards only tcp and udp", field="--proto")
    if not 1 <= port <= 65535:
        raise InputError(f"port {port} is outside 1-65535", field="--port")
    topo = sem.topology
    sz, dz = topo.zones.zone_of(family, s), topo.zones.zone_of(family, d)
    iif, oif = topo.iface.get(sz or ""), topo.iface.get(dz or "")

    def deny(rule: str, reason: str, by: str | None = None) -> Decision:
        return Decision("deny", rule, by, reason, sz, dz, iif, oif)

    if sz is None or dz is None:
        missing = src if sz is None else dst
        return deny("no-route", f"{missing} is in no zone of this gateway: it neither arrives nor leaves here")
    closed = None
    for f in sem.publications:
        if (f.family == family and f.iif == iif and f.oif == oif and f.proto == proto
                and f.src[0] <= s <= f.src[1] and f.dst[0] <= d <= f.dst[1]
                and any(lo <= port <= hi for lo, hi in f.ports)):
            if f.active(at):
                if f.kind == "share":
                    return Decision("allow", "share", f.name, f"{_share_text(sem, f.order)} allows it", sz, dz,
                                    iif, oif)
                return Decision("allow", "publication", f.name, f"publication {f.name!r} allows it", sz, dz, iif, oif)
            closed = closed or f
    if closed is not None and closed.kind == "share":
        rule = sem.rules[closed.order]
        if rule.starts is not None and at < rule.starts:
            kind, when = "not-in-effect", f"is not in effect before {rule.starts}"
        elif rule.revoked:
            kind, when = "revoked", f"was revoked on {rule.expires}"
        else:
            kind, when = "expired", "has expired"
        return deny(kind, f"{_share_text(sem, closed.order)} {when}; nothing else allows it", closed.name)
    if closed is not None:
        return deny("expired", f"publication {closed.name!r} expired on {closed.expires}; nothing else allows it",
                    closed.name)
    if dz == topo.internet_zone:
        for e in sem.egress:
            if e.family == family and e.iif == iif and e.src[0] <= s <= e.src[1]:
                return Decision("allow", "egress", e.department,
                                f"department {e.department!r} (class {e.access_class}) reaches the internet through "
                                f"the unified exit", sz, dz, iif, oif, sem.exit_for(family))
        dept = next((x for x in sem.policy.departments for sub in x.subnets
                     if _contains(sub, family, s)), None)
        if dept is None:
            return deny("isolation", f"{src} belongs to no department's subnets: no egress")
        return deny("isolation", f"department {dept.name!r} is class {dept.access_class}: "
                                 f"{ACCESS_CLASS_MEANING[dept.access_class]}", dept.name)
    kinds = (topo.kind[sz], topo.kind[dz])
    zones = sem.policy.zones
    if kinds == ("dedicated", "dedicated") and zones[sz].department != zones[dz].department:
        return deny("isolation", "dedicated zones of different departments never reach each other, except through "
                                 "an approved data share, and none allows this flow")
    if kinds[0] in ("internet", "internet-access") and kinds[1] in ("public", "dedicated"):
        return deny("isolation", f"nothing from the {kinds[0]} zone reaches the {kinds[1]} zone except a "
                                 "publication, and none allows this flow")
    if sz == dz:
        return deny("no-route", f"both addresses are in zone {sz!r}: the gateway does not forward within a zone")
    return deny("default-drop", f"no publication allows {sz} -> {dz} {proto}/{port}")


def _share_text(sem: Semantics, order: int) -> str:
    from cloudctl.gateway.shares import describe

    return describe(sem.policy.shares[order - len(sem.policy.publications)])


def _contains(cidr: str, family: int, value: int) -> bool:
    f, lo, hi = parse_address(cidr)
    return f == family and lo <= value <= hi
