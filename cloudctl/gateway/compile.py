"""Render a policy as one nftables file that atomically replaces the table `inet cloudctl_gw`.

Shape: `meta iifname . meta oifname vmap @ifpairs` jumps to one chain per interface pair;
each such chain looks the packet up in a map keyed `saddr . daddr . l4proto . dport`
(intervals) whose value is the publication's named counter, so the cost per new connection
does not grow with the number of publications. Overlapping publications are cut into
disjoint elements, each counted on the first (in file order) active publication allowing it,
exactly what `gateway query` reports. Output is deterministic for a given policy and date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from cloudctl.gateway.cells import Grid, flow_grid, merge_runs
from cloudctl.gateway.netspace import Interval, format_address_range, normalize, subtract
from cloudctl.gateway.policy import Policy, Publication
from cloudctl.gateway.semantics import EgressFlow, PubFlow, Semantics, build_semantics

TABLE = "cloudctl_gw"
FAMILY = {4: ("ip", "ipv4_addr"), 6: ("ip6", "ipv6_addr")}


def counter_name(publication: str) -> str:
    return f"pub_{publication}"


def egress_counter_name(department: str) -> str:
    return f"egress_{department}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def publication_elements(flows: list[PubFlow], grid: Grid | None = None
                         ) -> dict[tuple[str, str, int], list[tuple[str, ...]]]:
    """(iif, oif, family) -> disjoint map elements (src, dst, proto, ports, counter), sorted."""
    grid = grid if grid is not None else flow_grid(flows)
    runs: dict[tuple, list[int]] = defaultdict(list)
    for (gid, i, j), entries in grid.cells.items():
        if len(entries) == 1:  # the common case: one publication owns the cell
            tag, ports = entries[0]
            for piece in ports:
                runs[(gid, j, piece, tag[0])].append(i)
            continue
        covered: list[Interval] = []
        for tag, ports in sorted(entries):
            for piece in subtract(ports, covered):
                runs[(gid, j, piece, tag[0])].append(i)
            covered = normalize([*covered, *ports])
    text_cache: dict[tuple[int, int, int], str] = {}
    counters = {f.order: f'"pub_{f.name}"' if f.kind == "publication" else f'"share_{f.name[6:]}"'
                for f in flows}  # names are checked: A-Z a-z 0-9 _ . -; shares are share-<id>
    out: dict[tuple[str, str, int], list[tuple]] = defaultdict(list)
    for (gid, j, (plo, phi), order), indices in runs.items():
        family, iif, oif, proto = grid.groups[gid]
        sb, db = grid.src_bounds[gid], grid.dst_bounds[gid]
        dlo, dhi = db[j], db[j + 1] - 1
        key = (family, dlo, dhi)
        dst = text_cache.get(key)
        if dst is None:
            dst = text_cache[key] = format_address_range(family, dlo, dhi)
        port = str(plo) if plo == phi else f"{plo}-{phi}"
        counter = counters[order]
        elements = out[(iif, oif, family)]
        spans = [(indices[0], indices[0])] if len(indices) == 1 else merge_runs(sorted(indices))
        for i0, i1 in spans:
            slo, shi = sb[i0], sb[i1 + 1] - 1
            key = (family, slo, shi)
            src = text_cache.get(key)
            if src is None:
                src = text_cache[key] = format_address_range(family, slo, shi)
            elements.append((slo, dlo, proto, plo, src, dst, port, counter))
    return {k: [(e[4], e[5], e[2], e[6], e[7]) for e in sorted(v)] for k, v in out.items()}


def egress_elements(flows: list[EgressFlow]) -> dict[tuple[str, str, int], list[tuple[str, str]]]:
    """(iif, oif, family) -> (source range, counter) elements, disjoint, sorted by address."""
    spans: dict[tuple[str, str, int, str], list[Interval]] = defaultdict(list)
    for f in flows:
        spans[(f.iif, f.oif, f.family, f.department)].append(f.src)
    out: dict[tuple[str, str, int], list[tuple[int, str, str]]] = defaultdict(list)
    for (iif, oif, family, dept), intervals in spans.items():
        for lo, hi in normalize(intervals):
            out[(iif, oif, family)].append((lo, format_address_range(family, lo, hi), egress_counter_name(dept)))
    return {k: [(t, c) for _, t, c in sorted(v)] for k, v in out.items()}


def _describe(pub: Publication) -> str:
    if pub.direction == "inbound":
        return f"inbound: portal {pub.portal} -> service {pub.service}"
    return f"outbound: service {pub.service} -> portal {pub.portal}"


def _elements_block(lines: list[str], rendered: list[str], indent: str = "\t\t") -> None:
    if not rendered:
        return
    lines.append(f"{indent}elements = {{ " + f",\n{indent}\t     ".join(rendered) + " }")


def _interval_set(lines: list[str], name: str, family: int, intervals: list[Interval]) -> None:
    lines += [f"\tset {name} {{", f"\t\ttype {FAMILY[family][1]}", "\t\tflags interval"]
    _elements_block(lines, [format_address_range(family, lo, hi) for lo, hi in intervals])
    lines.append("\t}")


def render(sem: Semantics, at: dt.date) -> str:
    policy = sem.policy
    active = sem.active_publications(at)
    active_names = {f.name for f in active}
    pubs = [p for p in policy.publications if p.expires is None or at < p.expires]
    expired = [p for p in policy.publications if not (p.expires is None or at < p.expires)]
    egress_depts = sorted({f.department for f in sem.egress})
    gw = policy.gateway
    lines = [f"# cloudctl gateway ruleset: {gw.name} (division {gw.division}), valid on {at.isoformat()}",
             f"# {len(pubs)} active publications; {len(expired)} expired and omitted",
             *(f"#   omitted: {p.name} (expired {p.expires})" for p in expired),
             f"table inet {TABLE}", f"delete table inet {TABLE}", f"table inet {TABLE} {{"]
    for pub in pubs:
        lines += [f"\tcounter {counter_name(pub.name)} {{",
                  f"\t\tcomment {_quote(_describe(pub)[:128])}", "\t}"]
        if pub.name not in active_names:
            lines.insert(len(lines) - 3, f"\t# {pub.name}: no flow (no address of a matching IP version)")
    if policy.shares:
        _share_counters(lines, policy, at)
    for dept in egress_depts:
        lines += [f"\tcounter {egress_counter_name(dept)} {{", f"\t\tcomment {_quote('egress ' + dept)}", "\t}"]
    lines += ["\tcounter forward_dropped {", '\t\tcomment "new connections no rule allows"', "\t}"]

    pub_elems = publication_elements(active, sem.grid(at))
    egr_elems = egress_elements(sem.egress)
    families_with_egress = sorted({f.family for f in sem.egress})
    for family in families_with_egress:
        _interval_set(lines, f"internet_v{family}", family, sem.topology.internet_space[family])
        _interval_set(lines, f"snat_v{family}", family,
                      normalize(f.src for f in sem.egress if f.family == family))

    pairs = sorted({(k[0], k[1]) for k in pub_elems} | {(k[0], k[1]) for k in egr_elems})
    chain_names: dict[tuple[str, str], str] = {}
    for iif, oif in pairs:
        name = f"fwd_{iif}_to_{oif}"
        while name in chain_names.values():
            name += "_"
        chain_names[(iif, oif)] = name
    for (iif, oif), chain in chain_names.items():
        for family in (4, 6):
            rows = pub_elems.get((iif, oif, family))
            if rows:
                lines += [f"\tmap {chain}_v{family} {{",
                          f"\t\ttype {FAMILY[family][1]} . {FAMILY[family][1]} . inet_proto . inet_service : counter",
                          "\t\tflags interval"]
                _elements_block(lines, [f"{s} . {d} . {p} . {port} : {c}" for s, d, p, port, c in rows])
                lines.append("\t}")
            rows_e = egr_elems.get((iif, oif, family))
            if rows_e:
                lines += [f"\tmap {chain}_egress_v{family} {{", f"\t\ttype {FAMILY[family][1]} : counter",
                          "\t\tflags interval"]
                _elements_block(lines, [f"{s} : {_quote(c)}" for s, c in rows_e])
                lines.append("\t}")
    if chain_names:
        lines += ["\tmap ifpairs {", "\t\ttype ifname . ifname : verdict"]
        _elements_block(lines, [f"{_quote(i)} . {_quote(o)} : jump {c}" for (i, o), c in chain_names.items()])
        lines.append("\t}")
    for (iif, oif), chain in chain_names.items():
        lines.append(f"\tchain {chain} {{")
        for family in (4, 6):
            proto = FAMILY[family][0]
            if (iif, oif, family) in pub_elems:
                lines.append(f"\t\tcounter name {proto} saddr . {proto} daddr . meta l4proto . th dport "
                             f"map @{chain}_v{family} accept")
            if (iif, oif, family) in egr_elems:
                lines.append(f"\t\t{proto} daddr @internet_v{family} counter name {proto} saddr "
                             f"map @{chain}_egress_v{family} accept")
        lines.append("\t}")
    lines += ["\tchain forward {", "\t\ttype filter hook forward priority filter; policy drop;",
              "\t\tct state established,related accept", "\t\tct state invalid drop"]
    if chain_names:
        lines.append("\t\tmeta iifname . meta oifname vmap @ifpairs")
    lines += ["\t\tcounter name \"forward_dropped\"", "\t}"]
    if sem.egress:
        out_iface = sem.topology.iface[sem.topology.internet_zone or ""]
        lines += ["\tchain postrouting {", "\t\ttype nat hook postrouting priority srcnat; policy accept;"]
        for family in families_with_egress:
            proto = FAMILY[family][0]
            lines.append(f"\t\toifname {_quote(out_iface)} {proto} saddr @snat_v{family} "
                         f"{proto} daddr @internet_v{family} snat {proto} to {sem.exit_for(family)}")
        lines.append("\t}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _share_counters(lines: list[str], policy: Policy, at: dt.date) -> None:
    """One counter per share in effect on `at`; the closed ones are named in the header."""
    from cloudctl.gateway.shares import closes_on, describe, share_counter_name

    in_effect, omitted = [], []
    for share in policy.shares:
        end = closes_on(share)
        if (share.starts is None or share.starts <= at) and (end is None or at < end):
            in_effect.append(share)
        else:
            state = "not yet in effect" if share.starts is not None and at < share.starts else (
                f"revoked {share.revoked}" if share.revoked is not None and share.revoked == end else "expired")
            omitted.append(f"#   omitted: {describe(share)}: {state}")
    header = lines.index(f"table inet {TABLE}")
    lines[header:header] = [f"# {len(in_effect)} data shares in effect; {len(omitted)} omitted", *omitted]
    for share in in_effect:
        lines += [f"\tcounter {share_counter_name(share.id)} {{", f"\t\tcomment {_quote(describe(share)[:128])}",
                  "\t}"]


def compile_ruleset(policy: Policy, at: dt.date | None = None) -> str:
    """The nftables ruleset of a policy, valid on `at` (default: today in the configured zone): one `nft -f` file."""
    from cloudctl import clock
    from cloudctl.gateway.check import ensure_valid
    from cloudctl.inputs.documents import paused_gc

    with paused_gc():  # the flows and cells are acyclic: collections would only re-walk the policy
        ensure_valid(policy)
        at = at or clock.today()
        return render(build_semantics(policy), at)
