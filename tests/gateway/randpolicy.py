"""Small random policies and a brute-force evaluator, to check the exact analysis point by point."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from typing import Any

AT = dt.date(2026, 11, 28)
EXPIRIES = [None, None, dt.date(2027, 1, 1), dt.date(2027, 6, 1), dt.date(2026, 1, 1)]


def random_policy(seed: int, publications: int = 14) -> dict[str, Any]:
    rnd = random.Random(seed)
    portal_pool = ["172.30.0.1", "172.30.0.2", "172.30.0.3", "172.30.0.4", "172.30.0.0/30", "172.30.0.2/31",
                   "172.30.0.4/30", "172.30.1.1"]
    portals = [{"name": f"portal{i}", "addresses": sorted(set(rnd.sample(portal_pool, rnd.randint(1, 2))))}
               for i in range(4)]
    service_addresses = ["10.10.0.1", "10.10.0.2", "10.21.0.1", "10.21.0.2"]
    services = []
    for i, address in enumerate(service_addresses):
        lo = rnd.randint(1, 6)
        services.append({"name": f"svc{i}", "department": "fin" if address.startswith("10.21") else "pubdept",
                         "address": address, "protocol": rnd.choice(["tcp", "tcp", "udp"]),
                         "ports": [f"{lo}-{lo + rnd.randint(2, 8)}"]})
    pubs = []
    for i in range(publications):
        svc = rnd.choice(services)
        lo, hi = (int(x) for x in svc["ports"][0].split("-"))
        a = rnd.randint(lo, hi)
        b = rnd.randint(a, hi)
        pub = {"name": f"p{i}", "service": svc["name"], "portal": rnd.choice(portals)["name"],
               "ports": [a if a == b else f"{a}-{b}"], "owner": rnd.choice(["o1", "o2"])}
        if rnd.random() < 0.2:
            pub["direction"] = "outbound"
        exp = rnd.choice(EXPIRIES)
        if exp:
            pub["expires"] = exp
        pubs.append(pub)
    return {
        "gateway": {"name": "gw-rand", "division": "330100", "management_address": "10.255.0.1",
                    "exit_address": "203.0.113.1",
                    "interfaces": [{"name": "ccgw-inet", "zones": ["internet"]},
                                   {"name": "ccgw-dmz", "zones": ["dmz"]},
                                   {"name": "ccgw-pub", "zones": ["public"]},
                                   {"name": "ccgw-fin", "zones": ["fin"]}]},
        "zones": {"internet": {"kind": "internet"},
                  "dmz": {"kind": "internet-access", "cidrs": ["172.30.0.0/23"]},
                  "public": {"kind": "public", "cidrs": ["10.10.0.0/16"]},
                  "fin": {"kind": "dedicated", "department": "fin", "cidrs": ["10.21.0.0/24"]}},
        "portals": portals, "services": services, "publications": pubs,
        "departments": [{"name": "fin", "access_class": "D", "subnets": ["10.21.0.0/24"]},
                        {"name": "pubdept", "access_class": "B", "subnets": ["10.10.2.0/24"]}],
    }


def _addresses(text: str) -> list[int]:
    net = ipaddress.ip_network(text, strict=False)
    return [int(a) for a in net] if net.num_addresses > 1 else [int(net.network_address)]


def points(policy: dict[str, Any], index: int) -> set[tuple]:
    """Every (iif, oif, proto, src, dst, port) the publication allows, enumerated one by one."""
    pub = policy["publications"][index]
    svc = next(s for s in policy["services"] if s["name"] == pub["service"])
    portal = next(p for p in policy["portals"] if p["name"] == pub["portal"])
    svc_iface = "ccgw-fin" if svc["address"].startswith("10.21") else "ccgw-pub"
    ports: set[int] = set()
    for spec in pub["ports"]:
        lo, _, hi = str(spec).partition("-")
        ports.update(range(int(lo), int(hi or lo) + 1))
    out = set()
    for text in portal["addresses"]:
        for p in _addresses(text):
            for s in _addresses(svc["address"]):
                for port in ports:
                    if pub.get("direction", "inbound") == "inbound":
                        out.add(("ccgw-dmz", svc_iface, svc["protocol"], p, s, port))
                    else:
                        out.add((svc_iface, "ccgw-dmz", svc["protocol"], s, p, port))
    return out


def expiry(pub: dict[str, Any]) -> dt.date:
    return pub.get("expires") or dt.date.max


def active(pub: dict[str, Any], at: dt.date = AT) -> bool:
    return pub.get("expires") is None or at < pub["expires"]


def brute_shadowed_redundant(policy: dict[str, Any]) -> tuple[set[str], set[str]]:
    pubs = policy["publications"]
    live = [i for i, p in enumerate(pubs) if active(p)]
    pts = {i: points(policy, i) for i in live}
    shadowed = set()
    for i in live:
        cover = set().union(*(pts[j] for j in live if j < i and expiry(pubs[j]) >= expiry(pubs[i])))
        if pts[i] <= cover:
            shadowed.add(i)
    redundant = set()
    for i in live:
        if i in shadowed:
            continue
        cover = set().union(*(pts[j] for j in live
                              if j != i and j not in shadowed and expiry(pubs[j]) >= expiry(pubs[i])))
        if pts[i] <= cover:
            redundant.add(i)
    return {pubs[i]["name"] for i in shadowed}, {pubs[i]["name"] for i in redundant}


def first_allowing(policy: dict[str, Any], at: dt.date = AT) -> dict[tuple, str]:
    """point -> the first active publication (file order) allowing it."""
    out: dict[tuple, str] = {}
    for i, pub in enumerate(policy["publications"]):
        if active(pub, at):
            for pt in points(policy, i):
                out.setdefault(pt, pub["name"])
    return out
