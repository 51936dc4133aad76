"""`query` on the lab policy (the same verdicts the lab checks with real packets), and `diff`."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from cloudctl.errors import InputError
from cloudctl.gateway.diff import diff_policies
from cloudctl.gateway.query import query_flow
from cloudctl.gateway.semantics import build_semantics
from tests.gateway.conftest import AT
from tests.gateway.randpolicy import first_allowing, points, random_policy

CASES = [
    # src, dst, proto, port, verdict, rule, decided_by
    ("172.30.0.10", "10.10.0.5", "tcp", 443, "allow", "publication", "citizen-https"),
    ("172.30.0.10", "10.10.0.5", "tcp", 8080, "deny", "isolation", None),  # port not published
    ("172.30.0.11", "10.10.0.5", "tcp", 443, "deny", "isolation", None),  # other portal
    ("10.10.0.5", "172.30.0.10", "tcp", 443, "deny", "default-drop", None),  # reverse direction
    ("172.30.0.10", "10.10.0.53", "udp", 53, "allow", "publication", "citizen-dns"),
    ("172.30.0.10", "10.10.0.53", "tcp", 53, "deny", "isolation", None),  # other protocol
    ("172.30.0.10", "10.22.0.5", "tcp", 443, "deny", "expired", "tax-https-old"),
    ("172.30.0.11", "10.22.0.5", "tcp", 9005, "allow", "publication", "tax-range"),
    ("10.21.0.6", "172.30.0.11", "tcp", 8443, "allow", "publication", "fin-push-out"),
    ("fd00:30::10", "fd00:21::5", "tcp", 443, "allow", "publication", "fin-https-v6"),
    ("10.21.0.9", "10.22.0.5", "tcp", 443, "deny", "isolation", None),  # dedicated -> dedicated
    ("10.22.0.9", "10.21.0.5", "tcp", 443, "deny", "isolation", None),
    ("198.51.100.20", "10.10.0.5", "tcp", 443, "deny", "isolation", None),  # internet -> public
    ("10.21.0.9", "198.51.100.20", "tcp", 80, "allow", "egress", "finance"),  # class D
    ("fd00:21::9", "2001:db8:1::20", "tcp", 80, "allow", "egress", "finance"),
    ("10.10.2.9", "198.51.100.20", "udp", 53, "allow", "egress", "health"),  # class B
    ("10.10.3.9", "198.51.100.20", "tcp", 80, "deny", "isolation", "edu"),  # class A
    ("10.10.4.9", "198.51.100.20", "tcp", 80, "deny", "isolation", "water"),  # class C: own exit
    ("10.22.0.9", "198.51.100.20", "tcp", 80, "deny", "isolation", "tax"),  # class E: own exit
    ("10.10.5.9", "198.51.100.20", "tcp", 80, "deny", "isolation", "park"),  # class F: park network
    ("10.10.9.9", "198.51.100.20", "tcp", 80, "deny", "isolation", None),  # no department
]


@pytest.mark.parametrize(("src", "dst", "proto", "port", "verdict", "rule", "by"), CASES)
def test_lab_queries(make_policy, lab_dict, src, dst, proto, port, verdict, rule, by):
    decision = query_flow(build_semantics(make_policy(lab_dict)), src, dst, proto, port, AT)
    assert (decision.verdict, decision.rule, decision.decided_by) == (verdict, rule, by), decision.reason


def test_egress_reports_the_snat_address(make_policy, lab_dict):
    sem = build_semantics(make_policy(lab_dict))
    assert query_flow(sem, "10.21.0.9", "198.51.100.20", "tcp", 80, AT).snat_to == "203.0.113.1"
    assert query_flow(sem, "fd00:21::9", "2001:db8:1::20", "tcp", 80, AT).snat_to == "2001:db8:ffff::1"


def test_query_at_a_date_before_expiry(make_policy, lab_dict):
    sem = build_semantics(make_policy(lab_dict))
    decision = query_flow(sem, "172.30.0.10", "10.22.0.5", "tcp", 443, dt.date(2024, 12, 31))
    assert (decision.verdict, decision.decided_by) == ("allow", "tax-https-old")


@pytest.mark.parametrize(("args", "field"), [
    (("www.example.org", "10.10.0.5", "tcp", 443), "--src"),
    (("172.30.0.10", "10.10.0.5", "icmp", 443), "--proto"),
    (("172.30.0.10", "10.10.0.5", "tcp", 0), "--port"),
    (("172.30.0.10", "fd00:21::5", "tcp", 443), "--dst"),
])
def test_query_bad_input(make_policy, lab_dict, args, field):
    with pytest.raises(InputError) as e:
        query_flow(build_semantics(make_policy(lab_dict)), *args, AT)
    assert e.value.field == field


@pytest.mark.parametrize("seed", range(10))
def test_query_matches_brute_force(make_policy, seed):
    data = random_policy(seed)
    sem = build_semantics(make_policy(data))
    expected = first_allowing(data)
    rnd = random.Random(seed)
    candidates = list(expected) + [pt for i in range(len(data["publications"])) for pt in points(data, i)]
    for iif, oif, proto, s, d, port in rnd.sample(candidates, min(60, len(candidates))):
        for p in (port, port + 1):
            decision = query_flow(sem, _ip(s), _ip(d), proto, p, AT)
            want = expected.get((iif, oif, proto, s, d, p))
            assert decision.decided_by == want if want else decision.verdict == "deny"


def _ip(value: int) -> str:
    import ipaddress

    return str(ipaddress.ip_address(value))


def test_diff_per_publication_and_egress(make_policy, lab_dict):
    import copy

    old = build_semantics(make_policy(lab_dict))
    new_dict = copy.deepcopy(lab_dict)
    new_dict["publications"][0]["ports"] = [443, 8080]  # opens 8080
    new_dict["publications"].pop(1)  # closes dns
    new_dict["departments"][1]["access_class"] = "A"  # health loses egress
    new_dict["publications"][3]["expires"] = dt.date(2026, 12, 1)  # fin-push-out: still active on AT
    changes = diff_policies(old, build_semantics(make_policy(new_dict)), AT)
    summary = {(c.kind, c.name, c.change): c.flows for c in changes}
    assert summary == {("publication", "citizen-https", "opened"): 1,
                       ("publication", "citizen-dns", "closed"): 1,
                       ("egress", "health", "closed"): 256}
    assert diff_policies(old, old, AT) == []


@pytest.mark.parametrize("seed", range(10))
def test_diff_counts_match_brute_force(make_policy, seed):
    a, b = random_policy(seed), random_policy(seed + 100)
    changes = diff_policies(build_semantics(make_policy(a)), build_semantics(make_policy(b)), AT)
    old, new = set(first_allowing(a)), set(first_allowing(b))
    opened = sum(c.flows for c in changes if c.kind == "publication" and c.change == "opened")
    closed = sum(c.flows for c in changes if c.kind == "publication" and c.change == "closed")
    assert (opened, closed) == (len(new - old), len(old - new))
