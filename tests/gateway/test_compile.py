"""The nftables rendering: golden files compared exactly, `nft -c` on each, determinism, and the
compiled maps agreeing point by point with the semantics (first active publication decides)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

import pytest

from cloudctl.gateway.compile import compile_ruleset
from tests.gateway.conftest import AT, GOLDEN, LAB_POLICY, nft_check
from tests.gateway.randpolicy import first_allowing, random_policy

GOLDEN_CASES = {
    "lab": (LAB_POLICY, AT),
    "lab-2024": (LAB_POLICY, dt.date(2024, 6, 1)),  # before tax-https-old expired: it is rendered
}


def _compare_golden(name: str, text: str) -> None:
    ref = GOLDEN / f"{name}.nft"
    actual = GOLDEN / f"{name}.nft.actual"
    if not ref.exists() or ref.read_text() != text:
        actual.write_text(text)
        pytest.fail(f"{ref.name} differs from the rendering (or is missing): see {actual}; "
                    f"review it, then copy it over the reference by hand")
    actual.unlink(missing_ok=True)


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    path, at = GOLDEN_CASES[name]
    from cloudctl.gateway.policy import load_policy

    _compare_golden(name, compile_ruleset(load_policy(path), at))


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_passes_nft_check(name):
    result = nft_check(GOLDEN / f"{name}.nft")
    assert result.returncode == 0, result.stderr


def test_atomic_replace_shape_and_determinism(make_policy, lab_dict):
    text = compile_ruleset(make_policy(lab_dict), AT)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body[:3] == ["table inet cloudctl_gw", "delete table inet cloudctl_gw", "table inet cloudctl_gw {"]
    assert compile_ruleset(make_policy(lab_dict), AT) == text
    assert "policy drop" in text and "ct state established,related accept" in text


def test_expired_publication_is_omitted(make_policy, lab_dict):
    policy = make_policy(lab_dict)
    assert "pub_tax-https-old" not in compile_ruleset(policy, AT)
    assert "pub_tax-https-old" in compile_ruleset(policy, dt.date(2024, 12, 31))
    assert "pub_tax-https-old" not in compile_ruleset(policy, dt.date(2025, 1, 1))


def test_every_active_publication_has_a_named_counter(make_policy, lab_dict):
    text = compile_ruleset(make_policy(lab_dict), AT)
    counters = set(re.findall(r"^\tcounter (\S+) \{", text, re.M))
    assert counters == {"pub_citizen-https", "pub_citizen-dns", "pub_fin-https", "pub_fin-https-v6",
                        "pub_fin-push-out", "pub_tax-range", "egress_finance", "egress_health", "forward_dropped"}


ELEMENT = re.compile(r"(\S+) \. (\S+) \. (tcp|udp) \. (\d+)(?:-(\d+))? : \"pub_(\S+)\"")


def _span(text: str) -> range:
    if "-" in text:
        lo, hi = text.split("-")
        return range(int(ipaddress.ip_address(lo)), int(ipaddress.ip_address(hi)) + 1)
    net = ipaddress.ip_network(text, strict=False)
    return range(int(net.network_address), int(net.broadcast_address) + 1)


def _compiled_points(text: str) -> dict[tuple, str]:
    """Expand every publication map element back into points (iif, oif, proto, src, dst, port)."""
    pairs = {chain: (iif, oif) for iif, oif, chain in re.findall(r"\"(\S+)\" \. \"(\S+)\" : jump ([\w.-]+)", text)}
    assert pairs
    out: dict[tuple, str] = {}
    for block in re.finditer(r"\tmap (\S+)_v4 \{(.*?)\n\t\}", text, re.S):
        if block.group(1).endswith("_egress"):
            continue
        iif, oif = pairs[block.group(1)]
        for src, dst, proto, plo, phi, name in ELEMENT.findall(block.group(2)):
            for s in _span(src):
                for d in _span(dst):
                    for port in range(int(plo), int(phi or plo) + 1):
                        key = (iif, oif, proto, s, d, port)
                        assert key not in out, f"overlapping elements at {key}"
                        out[key] = name
    return out


@pytest.mark.parametrize("seed", range(25))
def test_compiled_maps_match_semantics_point_by_point(make_policy, seed, tmp_path):
    data = random_policy(seed)
    text = compile_ruleset(make_policy(data), AT)
    assert _compiled_points(text) == first_allowing(data)
    if seed < 5:
        path = tmp_path / "r.nft"
        path.write_text(text)
        result = nft_check(path)
        assert result.returncode == 0, result.stderr
