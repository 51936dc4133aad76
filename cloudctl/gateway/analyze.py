"""Exact analysis of publications: shadowed, redundant, conflicts, expiry, isolation matrix.

Definitions (docs/gateway.md). Publications only allow, and the compiled map counts each
flow on the first active publication (file order) allowing it. With `at` the analysis date
and a publication active while `at` < expires:

* shadowed: every flow of P is allowed by earlier publications that stay active at least as
  long as P (expires >= P's, or never). P never decides anything: its counter stays at 0.
* redundant (not shadowed): every flow of P is allowed by other, non-shadowed publications
  that stay active at least as long as P. Removing P alone changes no verdict, ever.
* conflict: two publications allow some same flows but differ in expiry or owner: expiring
  or withdrawing one leaves those flows open through the other.

Data shares (docs/sharing.md) are rules after the publications, on the same grid: a share is
`duplicates` when every flow it allows is already allowed by other rules that stay active at
least as long (it opens nothing), and in `conflict` with a rule it overlaps with a different
expiry or owner. (A share never allows a flow a publication allows: a publication always has a
portal in an internet-access zone at one end, a share a department subnet and a service, both
in public or dedicated zones. So in a checked policy a share duplicates or conflicts with other
shares only; the computation does not assume it.) Shares expired or revoked on `at`, or ending
within `expiring_days`, are reported like publications.

Computed on the grid of cells.py (per interface pair, protocol and family), never pairwise
over all publications. Expired publications take no part.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from cloudctl.gateway.cells import Grid
from cloudctl.gateway.netspace import Interval, covers, intersect, normalize, size
from cloudctl.gateway.semantics import FOREVER, PubFlow, Semantics
from cloudctl.gateway.shares import ONE_DAY


@dataclass
class Finding:
    publication: str  # the publication's name, or the share's (share-<id>) when rule == "share"
    kind: str  # shadowed | redundant | duplicates | conflict | expired | revoked | expiring
    detail: str
    related: list[str] = field(default_factory=list)
    rule: str = "publication"  # publication | share


@dataclass
class Analysis:
    at: dt.date
    findings: list[Finding]
    zones: list[str]
    matrix: dict[str, dict[str, str]]

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]


def _union(entries: list[tuple[tuple[int, dt.date, str | None], tuple[Interval, ...]]]) -> list[Interval]:
    return normalize(iv for _, ports in entries for iv in ports)


def _coverage(flows: list[PubFlow], grid: Grid) -> tuple[list[int], list[int], dict[int, set[int]]]:
    """Orders of shadowed and redundant publications, and who covers each."""
    # A publication alone in any of its cells is covered by nobody: only the others are candidates.
    alone = {entries[0][0][0] for entries in grid.cells.values() if len(entries) == 1}
    by_pub: dict[int, list[tuple[list, tuple[Interval, ...]]]] = defaultdict(list)
    for entries in grid.cells.values():
        if len(entries) > 1:
            for tag, ports in entries:
                if tag[0] not in alone:
                    by_pub[tag[0]].append((entries, ports))
    helpers: dict[int, set[int]] = defaultdict(set)

    def covered(order: int, exp: dt.date, allowed: set[int] | None) -> bool:
        if order not in by_pub:
            return False
        for entries, ports in by_pub[order]:
            others = [(t, p) for t, p in entries
                      if t[0] != order and t[1] >= exp and (t[0] < order if allowed is None else t[0] in allowed)]
            if not covers(_union(others), ports):
                return False
        for entries, ports in by_pub[order]:
            for t, p in entries:
                if t[0] != order and t[1] >= exp and (t[0] < order if allowed is None else t[0] in allowed) \
                        and intersect(normalize(p), list(ports)):
                    helpers[order].add(t[0])
        return True

    expiry = {f.order: f.tag[1] for f in flows}
    shadowed = sorted(o for o in by_pub if covered(o, expiry[o], None))
    alive = set(expiry) - set(shadowed)
    helpers_shadow = {o: set(helpers[o]) for o in shadowed}
    helpers.clear()
    redundant = sorted(o for o in alive if o in by_pub and covered(o, expiry[o], alive))
    helpers.update(helpers_shadow)
    return shadowed, redundant, helpers


def _conflicts(grid: Grid) -> dict[tuple[int, int], int]:
    """(earlier, later) -> shared flow count, for overlapping publications differing in expiry or owner."""
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for (gid, i, j), entries in grid.cells.items():
        if len(entries) < 2:
            continue
        src, dst = grid.src_segment(gid, i), grid.dst_segment(gid, j)
        cell_size = (src[1] - src[0] + 1) * (dst[1] - dst[0] + 1)
        entries = sorted(entries)
        for a in range(len(entries)):
            ta, pa = entries[a]
            for b in range(a + 1, len(entries)):
                tb, pb = entries[b]
                if ta[0] == tb[0] or (ta[1] == tb[1] and ta[2] == tb[2]):
                    continue
                common = intersect(pa, pb)
                if common:
                    shared[(ta[0], tb[0])] += size(common) * cell_size
    return shared


def isolation_matrix(sem: Semantics, at: dt.date) -> tuple[list[str], dict[str, dict[str, str]]]:
    """zone -> zone -> what crosses: 'pub:N' publications, 'share:N' data shares, 'egress:D,..', '=' same zone,
    '-' nothing."""
    zones = list(sem.policy.zones)
    pubs: dict[tuple[str, str], set[str]] = defaultdict(set)
    shares: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in sem.active_publications(at):
        (pubs if f.kind == "publication" else shares)[(f.src_zone, f.dst_zone)].add(f.name)
    egress: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in sem.egress:
        egress[(e.src_zone, sem.topology.internet_zone or "")].add(e.department)
    matrix: dict[str, dict[str, str]] = {}
    for a in zones:
        row = {}
        for b in zones:
            parts = []
            if (a, b) in pubs:
                parts.append(f"pub:{len(pubs[(a, b)])}")
            if (a, b) in shares:
                parts.append(f"share:{len(shares[(a, b)])}")
            if (a, b) in egress:
                parts.append("egress:" + ",".join(sorted(egress[(a, b)])))
            row[b] = " ".join(parts) if parts else ("=" if a == b else "-")
        matrix[a] = row
    return zones, matrix


def _share_dates(sem: Semantics, at: dt.date, expiring_days: int) -> list[Finding]:
    """Shares closed on `at` (expired or revoked) and those ending within expiring_days."""
    out = []
    for r in sem.rules[len(sem.policy.publications):]:
        if r.expires is None or (r.starts is not None and at < r.starts):
            continue
        if r.expires <= at:
            what = f"revoked on {r.expires}" if r.revoked else f"expired: its last day was {r.expires - ONE_DAY}"
            out.append(Finding(r.name, "revoked" if r.revoked else "expired", what + ": allows nothing", rule="share"))
        elif (r.expires - at).days <= expiring_days:
            last = "revoked from" if r.revoked else "in effect through"
            day = r.expires if r.revoked else r.expires - ONE_DAY
            out.append(Finding(r.name, "expiring", f"{last} {day} (closes in {(r.expires - at).days} days)",
                               rule="share"))
    return out


def analyze_policy(sem: Semantics, at: dt.date, expiring_days: int = 30) -> Analysis:
    """Every finding on the publications and data shares active on `at`, and the isolation matrix."""
    rules = sem.rules
    names = {i: r.name for i, r in enumerate(rules)}
    kind = {i: r.kind for i, r in enumerate(rules)}
    findings: list[Finding] = []
    for p in sem.policy.publications:
        if p.expires is not None and p.expires <= at:
            findings.append(Finding(p.name, "expired", f"expired on {p.expires}: allows nothing"))
        elif p.expires is not None and (p.expires - at).days <= expiring_days:
            findings.append(Finding(p.name, "expiring", f"expires on {p.expires} "
                                                        f"(in {(p.expires - at).days} days)"))
    findings += _share_dates(sem, at, expiring_days)
    active = sem.active_publications(at)
    grid = sem.grid(at)
    shadowed, redundant, helpers = _coverage(active, grid)
    for o in shadowed:
        by = [names[x] for x in sorted(helpers[o])]
        if kind[o] == "share":
            findings.append(Finding(names[o], "duplicates", DUPLICATES, by, rule="share"))
        else:
            findings.append(Finding(names[o], "shadowed", "every flow is allowed by earlier publications that stay "
                                                          "active at least as long", by))
    for o in redundant:
        by = [names[x] for x in sorted(helpers[o])]
        if kind[o] == "share":
            findings.append(Finding(names[o], "duplicates", DUPLICATES, by, rule="share"))
            continue
        findings.append(Finding(names[o], "redundant", "every flow is also allowed by other publications that stay "
                                                       "active at least as long", by))
    for (a, b), count in sorted(_conflicts(grid).items()):
        ra, rb = rules[a], rules[b]
        what = []
        if (ra.expires or FOREVER) != (rb.expires or FOREVER):
            what.append(f"expiry {ra.expires or 'never'} vs {rb.expires or 'never'}")
        if ra.owner != rb.owner:
            what.append(f"owner {ra.owner} vs {rb.owner}")
        findings.append(Finding(names[b], "conflict", f"shares {count} flows with {names[a]!r} ({'; '.join(what)})",
                                [names[a]], rule=rb.kind))
    zones, matrix = isolation_matrix(sem, at)
    position = {r.name: i for i, r in enumerate(rules)}
    findings.sort(key=lambda f: (FINDING_ORDER[f.kind], position[f.publication]))
    return Analysis(at, findings, zones, matrix)


DUPLICATES = "every flow is already allowed by other rules that stay active at least as long: the share opens nothing"
FINDING_ORDER = {"shadowed": 0, "redundant": 1, "duplicates": 2, "conflict": 3, "expired": 4, "revoked": 5,
                 "expiring": 6}
