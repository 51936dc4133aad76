"""A synthetic gateway policy of N publications (deterministic), as a dict ready for YAML,
and the equivalent Aerleon policy + definitions (for benchmarks/gateway_5000.py)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

DEPT_ZONES = 8


def synthetic_policy(publications: int = 5000, seed: int = 5) -> dict[str, Any]:
    rnd = random.Random(seed)
    interfaces = [{"name": "ccgw-inet", "zones": ["internet"]}, {"name": "ccgw-dmz", "zones": ["dmz"]},
                  {"name": "ccgw-pub", "zones": ["public"]}]
    zones: dict[str, Any] = {"internet": {"kind": "internet"},
                             "dmz": {"kind": "internet-access", "cidrs": ["172.30.0.0/16", "fd00:30::/48"]},
                             "public": {"kind": "public", "cidrs": ["10.10.0.0/16", "fd00:10::/48"]}}
    departments = []
    for d in range(DEPT_ZONES):
        name = f"dept{d}"
        zones[f"ded{d}"] = {"kind": "dedicated", "department": name, "cidrs": [f"10.{20 + d}.0.0/16"]}
        interfaces.append({"name": f"ccgw-d{d}", "zones": [f"ded{d}"]})
        departments.append({"name": name, "access_class": "DE"[d % 2], "subnets": [f"10.{20 + d}.0.0/16"]})
    for d in range(24):
        departments.append({"name": f"office{d}", "access_class": "ABCF"[d % 4], "subnets": [f"10.10.{100 + d}.0/24"]})
    portals = [{"name": f"portal{p}", "addresses": [f"172.30.{p // 200}.{p % 200 + 1}"]
                + ([f"fd00:30::{p + 1:x}"] if p % 5 == 0 else [])} for p in range(max(50, publications // 25))]
    services = []
    for s in range(max(100, publications // 5)):
        d = rnd.randrange(-3, DEPT_ZONES)
        if d < 0:
            address, dept = f"10.10.{s // 250}.{s % 250 + 1}", f"office{s % 24}"
        else:
            address, dept = f"10.{20 + d}.{s // 250}.{s % 250 + 1}", f"dept{d}"
        base = rnd.choice([8000, 9000, 10000])
        services.append({"name": f"svc{s}", "department": dept, "address": address,
                         "protocol": "udp" if s % 7 == 0 else "tcp", "ports": [443, f"{base}-{base + 99}"]})
    pubs = []
    for i in range(publications):
        if i % 50 == 49:  # a duplicate now and then: something to find
            dup = dict(pubs[rnd.randrange(len(pubs))], name=f"pub{i}")
            pubs.append(dup)
            continue
        svc = rnd.choice(services)
        base = int(svc["ports"][1].split("-")[0])
        lo = base + rnd.randrange(90)
        ports: list[Any] = [443] if rnd.random() < 0.3 else [lo if rnd.random() < 0.5 else f"{lo}-{lo + 9}"]
        pub: dict[str, Any] = {"name": f"pub{i}", "service": svc["name"], "portal": rnd.choice(portals)["name"],
                               "ports": ports, "owner": svc["department"]}
        if rnd.random() < 0.1:
            pub["direction"] = "outbound"
        if rnd.random() < 0.2:
            pub["expires"] = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randrange(900))
        pubs.append(pub)
    return {"gateway": {"name": "gw-bench", "division": "330100", "management_address": "10.255.0.1",
                        "exit_address": "203.0.113.1", "interfaces": interfaces},
            "zones": zones, "portals": portals, "services": services, "publications": pubs,
            "departments": departments}


def aerleon_equivalent(policy: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same publications and egress as one Aerleon nftables filter (mixed forward, default drop)."""
    iface = {z: i["name"] for i in policy["gateway"]["interfaces"] for z in i["zones"]}

    def zone_of(address: str) -> str:
        if address.startswith("172.30.") or address.startswith("fd00:30:"):
            return "dmz"
        if address.startswith("10.10.") or address.startswith("fd00:10:"):
            return "public"
        return f"ded{int(address.split('.')[1]) - 20}"

    networks: dict[str, Any] = {}
    services_def: dict[str, Any] = {}
    for p in policy["portals"]:
        networks[f"PORTAL_{p['name']}"] = {"values": [{"address": a} for a in p["addresses"]]}
    services = {s["name"]: s for s in policy["services"]}
    for s in policy["services"]:
        networks[f"SVC_{s['name']}"] = {"values": [{"address": s["address"]}]}
    extranet = [c for z in policy["zones"].values() if z["kind"] != "internet" for c in z.get("cidrs", [])]
    networks["EXTRANET"] = {"values": [{"address": c} for c in extranet]}
    networks["ANY"] = {"values": [{"address": "0.0.0.0/0"}, {"address": "::/0"}]}
    terms = []
    for pub in policy["publications"]:
        svc = services[pub["service"]]
        sname = f"P_{pub['name']}"
        services_def[sname] = [{"port": str(p), "protocol": svc["protocol"]} for p in pub["ports"]]
        svc_if, portal_if = iface[zone_of(svc["address"])], "ccgw-dmz"
        inbound = pub.get("direction", "inbound") == "inbound"
        term = {"name": pub["name"], "protocol": svc["protocol"], "destination-port": sname,
                "source-address": f"PORTAL_{pub['portal']}" if inbound else f"SVC_{svc['name']}",
                "destination-address": f"SVC_{svc['name']}" if inbound else f"PORTAL_{pub['portal']}",
                "source-interface": portal_if if inbound else svc_if,
                "destination-interface": svc_if if inbound else portal_if, "action": "accept"}
        if pub.get("expires"):
            term["expiration"] = pub["expires"].isoformat()
        terms.append(term)
    for dept in policy["departments"]:
        if dept["access_class"] not in "BD":
            continue
        networks[f"DEPT_{dept['name']}"] = {"values": [{"address": s} for s in dept["subnets"]]}
        zone = zone_of(dept["subnets"][0])
        terms.append({"name": f"egress-{dept['name']}", "source-address": f"DEPT_{dept['name']}",
                      "destination-address": "ANY", "destination-address-exclude": "EXTRANET",
                      "source-interface": iface[zone], "destination-interface": "ccgw-inet", "action": "accept"})
    aerleon_policy = {"filename": "gw_bench", "filters": [
        {"header": {"targets": {"nftables": "mixed forward"}, "comment": "cloudctl benchmark"}, "terms": terms}]}
    return aerleon_policy, {"networks": networks, "services": services_def}
