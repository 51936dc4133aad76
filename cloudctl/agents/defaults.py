"""Proposed probes for a division: one per active link, aimed at a known address (reads only).

A link's known address is the management address of the nearest gateway registered in the
inventory at or above the link's division (the node the township's line reaches). Links with no
such gateway are reported as skipped, with the reason, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, or_, select

from cloudctl.agents.probes import Probe
from cloudctl.divisions.codes import ancestors_of
from cloudctl.errors import NotFoundError
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division
from cloudctl.store.tables.hosts import managed_host


@dataclass
class Proposal:
    probes: list[Probe] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # link id -> why no probe is proposed


def nearest_gateway(conn: Connection, code: str) -> str | None:
    """The address of the registered gateway deepest among CODE and its ancestors."""
    rows = conn.execute(select(managed_host.c.division_code, managed_host.c.address)
                        .where((managed_host.c.role == "gateway")
                               & managed_host.c.division_code.in_(ancestors_of(code)))).all()
    return max(rows, key=lambda r: (len(r.division_code), r.address)).address if rows else None


def propose_probes(conn: Connection, code: str, today: date) -> Proposal:
    if conn.execute(select(division.c.code).where(division.c.code == code)).first() is None:
        raise NotFoundError(f"no division with code {code!r}", field="--division",
                            hint="cloudctl divisions search NAME")
    active = conn.execute(select(link.c.link_id).where(
        (link.c.division_code == code) & (link.c.activated_on <= today)
        & or_(link.c.retired_on.is_(None), link.c.retired_on > today)).order_by(link.c.link_id)).scalars().all()
    address = nearest_gateway(conn, code)
    out = Proposal()
    for link_id in active:
        if address is None:
            out.skipped[link_id] = "no gateway is registered in this division or above it (cloudctl inventory add)"
            continue
        out.probes.append(Probe(division=code, name=f"link-{link_id}"[:100], kind="icmp", target=address,
                                link=link_id))
    return out
