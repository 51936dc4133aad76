"""Data shares on the gateway: check, compile, query, analyze and diff, against a brute-force
enumeration of what each share allows on random policies, and by hand on the lab policy."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re
from typing import Any

import pytest

from cloudctl.errors import InputError
from cloudctl.gateway.analyze import analyze_policy
from cloudctl.gateway.check import check_policy
from cloudctl.gateway.compile import compile_ruleset
from cloudctl.gateway.diff import diff_policies
from cloudctl.gateway.query import query_flow
from cloudctl.gateway.semantics import build_semantics
from tests.gateway.conftest import AT, nft_check

IFACE = {"public": "ccgw-pub", "fin": "ccgw-fin", "tax": "ccgw-tax"}
ZONES = {"public": "10.10.0.0/16", "fin": "10.21.0.0/24", "tax": "10.22.0.0/24"}
SERVICES = [("fin-svc", "fin", "10.21.0.1", "1-9"), ("tax-svc", "tax", "10.22.0.1", "5-12"),
            ("pub-svc", "pubdept", "10.10.0.1", "3-6")]
SUBNETS = {"fin": ["10.21.0.0/30"], "tax": ["10.22.0.0/30", "10.22.0.8/31"], "pubdept": ["10.10.2.0/31"]}
DATES = [AT - dt.timedelta(days=30), AT - dt.timedelta(days=1), AT, AT + dt.timedelta(days=10)]


def random_share_policy(seed: int, shares: int = 8) -> dict[str, Any]:
    rnd = random.Random(seed)
    out = []
    for i in range(shares):
        name, owner, _addr, ports = rnd.choice(SERVICES)
        consumer = rnd.choice([d for d in SUBNETS if d != owner])
        lo, hi = (int(x) for x in ports.split("-"))
        share: dict[str, Any] = {"id": 100 + i, "service": name, "consumer": consumer,
                                 "until": rnd.choice(DATES), "owner": owner}
        if rnd.random() < 0.6:
            a = rnd.randint(lo, hi)
            b = rnd.randint(a, hi)
            share["ports"] = [a if a == b else f"{a}-{b}"]
        if rnd.random() < 0.3:
            share["starts"] = rnd.choice(DATES[:3])
        if rnd.random() < 0.3:
            share["revoked"] = rnd.choice(DATES)
        if share.get("starts") and share["starts"] > share["until"]:
            share["starts"] = share["until"]
        out.append(share)
    return {
        "gateway": {"name": "gw-share", "division": "330100", "management_address": "10.255.0.1",
                    "exit_address": "203.0.113.1",
                    "interfaces": [{"name": "ccgw-inet", "zones": ["internet"]},
                                   *({"name": IFACE[z], "zones": [z]} for z in ZONES)]},
        "zones": {"internet": {"kind": "internet"}, "public": {"kind": "public", "cidrs": [ZONES["public"]]},
                  "fin": {"kind": "dedicated", "department": "fin", "cidrs": [ZONES["fin"]]},
                  "tax": {"kind": "dedicated", "department": "tax", "cidrs": [ZONES["tax"]]}},
        "services": [{"name": n, "department": d, "address": a, "protocol": "tcp", "ports": [p]}
                     for n, d, a, p in SERVICES],
        "departments": [{"name": "fin", "access_class": "D", "subnets": SUBNETS["fin"]},
                        {"name": "tax", "access_class": "E", "subnets": SUBNETS["tax"]},
                        {"name": "pubdept", "access_class": "A", "subnets": SUBNETS["pubdept"]}],
        "shares": out,
    }


def _zone(address: int) -> str:
    return next(z for z, c in ZONES.items() if address in _range(c))


def _range(text: str) -> range:
    net = ipaddress.ip_network(text, strict=False)
    return range(int(net.network_address), int(net.broadcast_address) + 1)


def share_points(share: dict[str, Any]) -> set[tuple]:
    """Every (iif, oif, proto, src, dst, port) the share allows, one by one."""
    _name, _owner, address, service_ports = next(s for s in SERVICES if s[0] == share["service"])
    ports: set[int] = set()
    for spec in share.get("ports") or [service_ports]:
        lo, _, hi = str(spec).partition("-")
        ports.update(range(int(lo), int(hi or lo) + 1))
    dst = int(ipaddress.ip_address(address))
    out = set()
    for subnet in SUBNETS[share["consumer"]]:
        for src in _range(subnet):
            if _zone(src) != _zone(dst):
                out |= {(IFACE[_zone(src)], IFACE[_zone(dst)], "tcp", src, dst, p) for p in ports}
    return out


def in_effect(share: dict[str, Any], at: dt.date = AT) -> bool:
    return (share.get("starts") is None or share["starts"] <= at) and at <= share["until"] \
        and (share.get("revoked") is None or at < share["revoked"])


def first_share(policy: dict[str, Any], at: dt.date = AT) -> dict[tuple, str]:
    out: dict[tuple, str] = {}
    for share in policy["shares"]:
        if in_effect(share, at):
            for pt in share_points(share):
                out.setdefault(pt, str(share["id"]))
    return out


ELEMENT = re.compile(r"(\S+) \. (\S+) \. (tcp|udp) \. (\d+)(?:-(\d+))? : \"share_(\d+)\"")


def compiled_points(text: str) -> dict[tuple, str]:
    pairs = {chain: (iif, oif) for iif, oif, chain in re.findall(r"\"(\S+)\" \. \"(\S+)\" : jump ([\w.-]+)", text)}
    out: dict[tuple, str] = {}
    for block in re.finditer(r"\tmap (\S+)_v4 \{(.*?)\n\t\}", text, re.S):
        if block.group(1).endswith("_egress"):
            continue
        iif, oif = pairs[block.group(1)]
        for src, dst, proto, plo, phi, sid in ELEMENT.findall(block.group(2)):
            for s in _element_range(src):
                for d in _element_range(dst):
                    for port in range(int(plo), int(phi or plo) + 1):
                        key = (iif, oif, proto, s, d, port)
                        assert key not in out, f"overlapping elements at {key}"
                        out[key] = sid
    return out


def _element_range(text: str) -> range:
    if "-" in text:
        lo, hi = text.split("-")
        return range(int(ipaddress.ip_address(lo)), int(ipaddress.ip_address(hi)) + 1)
    return _range(text)


@pytest.mark.parametrize("seed", range(20))
def test_compiled_shares_match_brute_force(make_policy, seed, tmp_path):
    data = random_share_policy(seed)
    policy = make_policy(data)
    for at in (AT, AT + dt.timedelta(days=5)):
        text = compile_ruleset(policy, at)
        assert compiled_points(text) == first_share(data, at)
    if seed < 3:
        path = tmp_path / "s.nft"
        path.write_text(compile_ruleset(policy, AT))
        result = nft_check(path)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("seed", range(10))
def test_query_names_the_first_share_allowing_a_flow(make_policy, seed):
    data = random_share_policy(seed)
    sem = build_semantics(make_policy(data))
    expected = first_share(data)
    rnd = random.Random(seed)
    every = sorted(set().union(*(share_points(s) for s in data["shares"])))
    for pt in rnd.sample(every, min(60, len(every))):
        _iif, _oif, proto, src, dst, port = pt
        d = query_flow(sem, str(ipaddress.ip_address(src)), str(ipaddress.ip_address(dst)), proto, port, AT)
        if pt in expected:
            assert (d.verdict, d.rule, d.decided_by) == ("allow", "share", f"share-{expected[pt]}"), (pt, d)
        else:
            assert d.verdict == "deny" and d.rule in ("expired", "revoked", "not-in-effect"), (pt, d)


# ---- by hand, on the lab policy ----------------------------------------------------------------

def with_share(lab_dict: dict[str, Any], **share: Any) -> dict[str, Any]:
    base = {"id": 7, "service": "fin-api", "consumer": "tax", "ports": [443], "until": dt.date(2026, 12, 31),
            "resource": "fin-payments", "owner": "finance"}
    lab_dict["shares"] = [{**base, **share}]
    return lab_dict


def test_a_share_opens_its_flow_and_nothing_else(make_policy, lab_dict):
    sem = build_semantics(make_policy(with_share(lab_dict)))
    allowed = query_flow(sem, "10.22.0.20", "10.21.0.5", "tcp", 443, AT)
    assert (allowed.verdict, allowed.rule, allowed.decided_by) == ("allow", "share", "share-7")
    assert "fin-payments" in allowed.reason
    for src, dst, port in (("10.22.0.20", "10.21.0.5", 8443),  # a port not granted
                           ("10.21.0.5", "10.22.0.20", 443),  # the reverse direction
                           ("10.22.0.20", "10.21.0.6", 8443),  # another service of the owner
                           ("10.10.2.10", "10.21.0.5", 443)):  # another department
        d = query_flow(sem, src, dst, "tcp", port, AT)
        assert d.verdict == "deny", (src, dst, port, d)
    text = compile_ruleset(make_policy(with_share(lab_dict)), AT)
    assert '10.22.0.0/24 . 10.21.0.5 . tcp . 443 : "share_7"' in text
    assert "\tcounter share_7 {" in text


def test_expiry_and_revocation_close_the_flow(make_policy, lab_dict):
    sem = build_semantics(make_policy(with_share(lab_dict, until=dt.date(2026, 12, 31))))
    last_day = query_flow(sem, "10.22.0.20", "10.21.0.5", "tcp", 443, dt.date(2026, 12, 31))
    assert last_day.verdict == "allow"  # until is inclusive
    after = query_flow(sem, "10.22.0.20", "10.21.0.5", "tcp", 443, dt.date(2027, 1, 1))
    assert (after.verdict, after.rule, after.decided_by) == ("deny", "expired", "share-7")
    text = compile_ruleset(make_policy(with_share(lab_dict)), dt.date(2027, 1, 1))
    assert "share_7" not in text.split("table inet cloudctl_gw {")[1]
    assert "#   omitted: share 7" in text
    revoked = build_semantics(make_policy(with_share(lab_dict, revoked=dt.date(2026, 12, 1))))
    d = query_flow(revoked, "10.22.0.20", "10.21.0.5", "tcp", 443, dt.date(2026, 12, 1))
    assert (d.verdict, d.rule) == ("deny", "revoked")
    assert query_flow(revoked, "10.22.0.20", "10.21.0.5", "tcp", 443, dt.date(2026, 11, 30)).verdict == "allow"


def test_without_shares_the_ruleset_has_no_share_lines(make_policy, lab_dict):
    text = compile_ruleset(make_policy(lab_dict), AT)
    assert "share" not in text


def test_check_refuses_bad_shares(make_policy, lab_dict):
    cases = [({"service": "nope"}, "unknown service"), ({"consumer": "nobody"}, "unknown department"),
             ({"consumer": "finance"}, "needs no share with itself"), ({"ports": [9999]}, "among the service's ports"),
             ({"starts": dt.date(2027, 6, 1)}, "starts"), ({"id": 0}, "positive")]
    for change, message in cases:
        policy = make_policy(with_share(lab_dict, **change), validate=False)
        problems = check_policy(policy)
        assert problems and message in problems[0].message, (change, problems)
    with pytest.raises(InputError) as e:
        make_policy(with_share(lab_dict, ports=[8080]))
    assert "shares[0].ports" in e.value.render() or e.value.field == "shares[0].ports"


def test_analyze_reports_duplicate_shares_and_matrix(make_policy, lab_dict):
    data = with_share(lab_dict)
    data["shares"].append({**data["shares"][0], "id": 8, "until": dt.date(2026, 12, 15)})
    result = analyze_policy(build_semantics(make_policy(data)), AT, expiring_days=30)
    found = {(f.publication, f.kind, f.rule) for f in result.findings}
    assert ("share-8", "duplicates", "share") in found  # share 7 allows the same, and lasts longer
    assert ("share-8", "expiring", "share") in found
    assert ("share-7", "duplicates", "share") not in found
    assert result.matrix["tax"]["finance"] == "share:2"
    assert result.matrix["finance"]["tax"] == "-"


def test_diff_lists_shares_opened_and_closed(make_policy, lab_dict):
    import copy

    before = build_semantics(make_policy(copy.deepcopy(lab_dict)))
    after = build_semantics(make_policy(with_share(lab_dict)))
    changes = diff_policies(before, after, AT)
    assert [(c.kind, c.name, c.change, c.flows) for c in changes] == [("share", "share-7", "opened", 256)]
    closed = diff_policies(after, after, dt.date(2027, 1, 1), old_at=dt.date(2026, 12, 31))
    assert [(c.kind, c.name, c.change) for c in closed] == [("share", "share-7", "closed")]
