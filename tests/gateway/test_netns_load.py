"""Load compiled rulesets into a real network namespace whose interfaces carry the policy's names,
read them back with `nft -j list ruleset`, replace them atomically, and keep them on a bad file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.gateway.conftest import GOLDEN

pytestmark = pytest.mark.netns
IFACES = ["ccgw-inet", "ccgw-dmz", "ccgw-pub", "ccgw-fin", "ccgw-tax"]


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {result.stderr}")
    return result


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("nft") is None:
        pytest.skip("needs root, iproute2 and nftables (scripts/test installs them; CI runs as root)")
    name = f"ccgw-t{os.getpid()}"
    _run("ip", "netns", "add", name)
    try:
        for iface in IFACES:
            _run("ip", "-n", name, "link", "add", iface, "type", "veth", "peer", "name", f"{iface[5:]}-peer")
            _run("ip", "-n", name, "link", "set", iface, "up")
        yield name
    finally:
        _run("ip", "netns", "delete", name, check=False)


def _ruleset(ns: str) -> list[dict]:
    return json.loads(_run("ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset").stdout)["nftables"]


def _objects(ruleset: list[dict], kind: str) -> list[dict]:
    return [item[kind] for item in ruleset if kind in item and item[kind].get("table") == "cloudctl_gw"]


def test_load_read_back_replace_and_survive_a_bad_file(netns, tmp_path):
    lab = GOLDEN / "lab.nft"
    _run("ip", "netns", "exec", netns, "nft", "-f", str(lab))
    ruleset = _ruleset(netns)
    tables = [t["table"] for t in ruleset if "table" in t]
    assert [(t["family"], t["name"]) for t in tables] == [("inet", "cloudctl_gw")]
    counters = {c["name"] for c in _objects(ruleset, "counter")}
    assert {"pub_citizen-https", "pub_fin-https-v6", "egress_finance", "forward_dropped"} <= counters
    assert "pub_tax-https-old" not in counters
    forward = next(c for c in _objects(ruleset, "chain") if c["name"] == "forward")
    assert forward["policy"] == "drop" and forward["hook"] == "forward"
    maps = {m["name"]: m for m in _objects(ruleset, "map")}
    assert len(maps["fwd_ccgw-dmz_to_ccgw-pub_v4"]["elem"]) == 2

    # Atomic replace: loading another version swaps the whole table in one transaction.
    _run("ip", "netns", "exec", netns, "nft", "-f", str(GOLDEN / "lab-2024.nft"))
    counters = {c["name"] for c in _objects(_ruleset(netns), "counter")}
    assert "pub_tax-https-old" in counters

    # A file that fails (a typo nft would try to resolve as a host name) leaves the running ruleset.
    bad = tmp_path / "bad.nft"
    bad.write_text((GOLDEN / "lab.nft").read_text().replace("172.30.0.10 . 10.10.0.5", "172.30.0.300 . 10.10.0.5"))
    before = _ruleset(netns)
    assert _run("ip", "netns", "exec", netns, "nft", "-f", str(bad), check=False).returncode != 0
    assert _ruleset(netns) == before


def test_other_tables_are_left_alone(netns):
    _run("ip", "netns", "exec", netns, "nft", "add", "table", "inet", "operator_own")
    _run("ip", "netns", "exec", netns, "nft", "-f", str(GOLDEN / "lab.nft"))
    _run("ip", "netns", "exec", netns, "nft", "-f", str(GOLDEN / "lab.nft"))
    names = sorted(t["table"]["name"] for t in _ruleset(netns) if "table" in t)
    assert names == ["cloudctl_gw", "operator_own"]
