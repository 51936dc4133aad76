"""Exact analysis: hand-made cases, and a point-by-point brute-force comparison on random policies."""

from __future__ import annotations

import datetime as dt

import pytest

from cloudctl.gateway.analyze import analyze_policy
from cloudctl.gateway.semantics import build_semantics
from tests.gateway.conftest import AT
from tests.gateway.randpolicy import brute_shadowed_redundant, random_policy


def _pub(name, service="citizen-api", portal="portal-main", ports=(443,), **extra):
    return {"name": name, "service": service, "portal": portal, "ports": list(ports), **extra}


def _findings(make_policy, data, kind, at=AT):
    result = analyze_policy(build_semantics(make_policy(data)), at)
    return {f.publication: f for f in result.of_kind(kind)}


def test_lab_policy_has_no_overlap_findings(make_policy, lab_dict):
    result = analyze_policy(build_semantics(make_policy(lab_dict)), AT)
    assert [(f.publication, f.kind) for f in result.findings] == [("tax-https-old", "expired")]


def test_duplicate_is_shadowed_by_the_earlier_one(make_policy, lab_dict):
    lab_dict["publications"].append(_pub("again"))
    shadowed = _findings(make_policy, lab_dict, "shadowed")
    assert set(shadowed) == {"again"} and shadowed["again"].related == ["citizen-https"]
    assert _findings(make_policy, lab_dict, "redundant") == {}


def test_earlier_publication_expiring_sooner_does_not_shadow(make_policy, lab_dict):
    lab_dict["publications"][0]["expires"] = dt.date(2027, 1, 1)
    lab_dict["publications"].append(_pub("longer", expires=dt.date(2028, 1, 1)))
    assert _findings(make_policy, lab_dict, "shadowed") == {}
    # ... but the earlier, shorter one is redundant: the later one covers it for its whole life.
    assert set(_findings(make_policy, lab_dict, "redundant")) == {"citizen-https"}


def test_union_of_two_earlier_publications_shadows(make_policy, lab_dict):
    lab_dict["services"][0]["ports"] = ["8000-8010"]
    lab_dict["publications"][0]["ports"] = ["8000-8004"]
    lab_dict["publications"].append(_pub("upper", ports=["8005-8010"]))
    lab_dict["publications"].append(_pub("all", ports=["8000-8010"]))
    assert set(_findings(make_policy, lab_dict, "shadowed")) == {"all"}


def test_partial_overlap_is_not_shadowed_but_a_conflict_when_owners_differ(make_policy, lab_dict):
    lab_dict["publications"].append(_pub("wider", ports=[443, 8080], owner="someone-else"))
    assert _findings(make_policy, lab_dict, "shadowed") == {}
    # citizen-https (443) is covered by the later, wider one: redundant, and the pair conflicts on owner.
    assert set(_findings(make_policy, lab_dict, "redundant")) == {"citizen-https"}
    conflict = _findings(make_policy, lab_dict, "conflict")["wider"]
    assert conflict.related == ["citizen-https"] and "owner" in conflict.detail and "1 flows" in conflict.detail


@pytest.mark.parametrize("change", [
    {"portal": "portal-b"},            # another source address
    {"service": "tax-api"},            # another destination and interface (its publication expired)
    {"direction": "outbound"},         # the reverse direction
])
def test_no_false_positive_when_any_dimension_differs(make_policy, lab_dict, change):
    lab_dict["services"][0]["ports"] = [443, 8080]
    lab_dict["publications"].append(_pub("other", **change))
    assert _findings(make_policy, lab_dict, "shadowed") == {}
    assert _findings(make_policy, lab_dict, "redundant") == {}


def test_other_protocol_is_not_shadowed(make_policy, lab_dict):
    lab_dict["services"].append({"name": "citizen-udp", "department": "health", "address": "10.10.0.5",
                                 "protocol": "udp", "ports": [443]})
    lab_dict["publications"].append(_pub("quic", service="citizen-udp"))
    assert _findings(make_policy, lab_dict, "shadowed") == {}


def test_expired_publication_shadows_nothing(make_policy, lab_dict):
    lab_dict["publications"].append(_pub("tax-again", service="tax-api", ports=[443]))
    assert _findings(make_policy, lab_dict, "shadowed") == {}
    # on a date when the old one was still active, the new one is shadowed by it? No: it expires sooner.
    assert _findings(make_policy, lab_dict, "shadowed", at=dt.date(2024, 6, 1)) == {}
    assert set(_findings(make_policy, lab_dict, "redundant", at=dt.date(2024, 6, 1))) == {"tax-https-old"}


def test_expiring_within_days(make_policy, lab_dict):
    lab_dict["publications"][0]["expires"] = AT + dt.timedelta(days=10)
    result = analyze_policy(build_semantics(make_policy(lab_dict)), AT, expiring_days=30)
    assert [f.publication for f in result.of_kind("expiring")] == ["citizen-https"]
    result = analyze_policy(build_semantics(make_policy(lab_dict)), AT, expiring_days=5)
    assert result.of_kind("expiring") == []


def test_isolation_matrix(make_policy, lab_dict):
    result = analyze_policy(build_semantics(make_policy(lab_dict)), AT)
    m = result.matrix
    assert m["finance"]["tax"] == "-" and m["tax"]["finance"] == "-"
    assert m["internet"]["public"] == "-" and m["internet"]["finance"] == "-"
    assert m["dmz"]["public"] == "pub:2" and m["dmz"]["tax"] == "pub:1"  # the expired one does not count
    assert m["finance"]["internet"] == "egress:finance" and m["public"]["internet"] == "egress:health"
    assert m["tax"]["internet"] == "-"  # class E: its own exit


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force(make_policy, seed):
    data = random_policy(seed)
    expected_shadowed, expected_redundant = brute_shadowed_redundant(data)
    result = analyze_policy(build_semantics(make_policy(data)), AT)
    assert {f.publication for f in result.of_kind("shadowed")} == expected_shadowed
    assert {f.publication for f in result.of_kind("redundant")} == expected_redundant
