"""Real packets through a gateway deployed by `cloudctl gateway deploy` → ansible-runner → ssh → nft.

The tests run in file order on one lab (they share the gateway's state, as an operator would):
baseline without a ruleset, deploy + confirm and the full matrix, drift, a live change under
traffic, an unconfirmed deploy rolled back, a ruleset failing `nft -c`, a failing apply.
Expectations are written out by hand from tests/gateway/policies/lab.yaml, not computed.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from .conftest import GATEWAY, LAB_POLICY, LabContext, PacketLab

pytestmark = [pytest.mark.netns, pytest.mark.ansible]

EXIT_V4, EXIT_V6 = "203.0.113.1", "2001:db8:ffff::1"
Flow = tuple[str, str, int, str]
# name -> (src, dst, port, proto, source address the server must see)
ALLOWED_V1: dict[str, tuple[str, str, int, str, str]] = {
    "citizen-https": ("172.30.0.10", "10.10.0.5", 443, "tcp", "172.30.0.10"),
    "citizen-dns (udp)": ("172.30.0.10", "10.10.0.53", 53, "udp", "172.30.0.10"),
    "fin-https": ("172.30.0.10", "10.21.0.5", 443, "tcp", "172.30.0.10"),
    "fin-https-v6": ("fd00:30::10", "fd00:21::5", 443, "tcp", "fd00:30::10"),
    "fin-push-out (outbound)": ("10.21.0.6", "172.30.0.11", 8443, "tcp", "10.21.0.6"),
    "tax-range (port in range, expires 2099)": ("172.30.0.11", "10.22.0.5", 9005, "tcp", "172.30.0.11"),
    "egress finance, class D, SNAT": ("10.21.0.20", "203.0.113.20", 80, "tcp", EXIT_V4),
    "egress finance v6, class D, SNAT": ("fd00:21::20", "2001:db8:ffff::20", 80, "tcp", EXIT_V6),
    "egress health, class B, SNAT": ("10.10.2.10", "203.0.113.20", 80, "tcp", EXIT_V4),
}
DENIED_V1: dict[str, Flow] = {
    "unpublished port of a published service": ("172.30.0.10", "10.10.0.5", 8080, "tcp"),
    "published service from another portal": ("172.30.0.11", "10.10.0.5", 443, "tcp"),
    "from a dmz address that is no portal": ("172.30.0.12", "10.10.0.5", 443, "tcp"),
    "unpublished host in the public zone": ("172.30.0.10", "10.10.0.6", 443, "tcp"),
    "inbound publication in the wrong direction": ("10.10.0.5", "172.30.0.10", 443, "tcp"),
    "outbound publication in the wrong direction": ("172.30.0.11", "10.21.0.6", 8443, "tcp"),
    "unpublished port of fin-api": ("172.30.0.10", "10.21.0.5", 8443, "tcp"),
    "expired publication tax-https-old": ("172.30.0.10", "10.22.0.5", 443, "tcp"),
    "dedicated finance -> dedicated tax": ("10.21.0.20", "10.22.0.5", 443, "tcp"),
    "dedicated tax -> dedicated finance": ("10.22.0.20", "10.21.0.5", 443, "tcp"),
    "internet -> public zone": ("203.0.113.10", "10.10.0.5", 443, "tcp"),
    "internet -> dedicated zone": ("203.0.113.10", "10.21.0.5", 443, "tcp"),
    "egress edu, class A (public zone only)": ("10.10.3.10", "203.0.113.20", 80, "tcp"),
    "egress tax, class E (its own exit)": ("10.22.0.20", "203.0.113.20", 80, "tcp"),
    "egress from a public address of no department": ("10.10.0.6", "203.0.113.20", 80, "tcp"),
}
# Policy v2: citizen-https moves from port 443 to 8080.
CHANGED_V2_ALLOWED = {"citizen on 8080": ("172.30.0.10", "10.10.0.5", 8080, "tcp", "172.30.0.10")}
CHANGED_V2_DENIED = {"citizen on 443": ("172.30.0.10", "10.10.0.5", 443, "tcp")}


def check_matrix(pl: PacketLab, allowed: dict[str, tuple[str, str, int, str, str]],
                 denied: dict[str, Flow]) -> list[str]:
    """Every allowed flow connects and is seen from the right source; every denied one does not."""
    names = [*allowed, *denied]
    flows = [v[:4] for v in allowed.values()] + list(denied.values())
    results = pl.probe(flows)  # type: ignore[arg-type]
    wrong = []
    for name, flow, r in zip(names, flows, results, strict=True):
        if name in allowed:
            seen = allowed[name][4]
            if not r["ok"]:
                wrong.append(f"ALLOWED {name} {flow}: {r['error']}")
            elif r["peer"] != seen:
                wrong.append(f"ALLOWED {name} {flow}: server saw {r['peer']}, expected {seen}")
        elif r["ok"]:
            wrong.append(f"DENIED {name} {flow}: connected")
    return wrong


def cli_json(lab: LabContext, *args: str) -> tuple[int, dict]:
    out = lab.cli(*args, "--format", "json")
    try:
        data = json.loads(out.stdout) if out.stdout.strip() else {}
    except ValueError:
        data = {}
    data["_stderr"] = out.stderr
    return out.returncode, data


def commit_state(lab: LabContext) -> str:
    path = lab.lab.hosts[GATEWAY].state_dir / "gateway" / "state"
    return path.read_text().split()[0] if path.exists() else "none"


def running_table(pl: PacketLab) -> str:
    out = pl.ctx.lab.nsexec(pl.gw_ns, "nft", "-s", "list", "table", "inet", "cloudctl_gw", check=False)
    return out.stdout if out.returncode == 0 else ""


def ensure_v1(lab: LabContext, pl: PacketLab) -> None:
    """When a test runs alone (-k), put policy v1 in place first, as the earlier tests leave it."""
    if running_table(pl):
        return
    from cloudctl.gateway.compile import compile_ruleset
    from cloudctl.gateway.deploy import deploy_ruleset, gateway_target
    from cloudctl.gateway.policy import load_policy

    outcome = deploy_ruleset(gateway_target(lab.store, GATEWAY), compile_ruleset(load_policy(LAB_POLICY)),
                             confirm_within=0, settings=lab.settings())
    assert outcome.status == "confirmed", outcome.message


@pytest.fixture(scope="module")
def policy_v2(lab: LabContext) -> Path:
    data = yaml.safe_load(LAB_POLICY.read_text())
    for pub in data["publications"]:
        if pub["name"] == "citizen-https":
            pub["ports"] = [8080]
    path = lab.lab.workdir / "lab-v2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_01_without_the_ruleset_the_gateway_forwards_everything(packet_lab: PacketLab) -> None:
    """The baseline: the denials below are the ruleset's doing, not the topology's."""
    assert running_table(packet_lab) == ""
    wrong = check_matrix(packet_lab, {}, DENIED_V1)
    assert len(wrong) == len(DENIED_V1), wrong


def test_02_deploy_confirm_and_the_matrix_holds(lab: LabContext, packet_lab: PacketLab) -> None:
    rc, out = cli_json(lab, "gateway", "deploy", str(LAB_POLICY), "--confirm-within", "300")
    assert rc == 0, out
    assert out["status"] == "pending" and out["confirm_by"], out
    assert commit_state(lab) == "pending"
    rc, conf = cli_json(lab, "gateway", "confirm", GATEWAY)
    assert rc == 0 and conf["status"] == "confirmed", conf
    state_dir = lab.lab.hosts[GATEWAY].state_dir / "gateway"
    assert not (state_dir / "timer.pid").exists()
    timers = [p for p in lab.lab.nsexec(packet_lab.gw_ns, "ps", "-eo", "args").stdout.splitlines()
              if "cloudctl-gw-rollback" in p]
    assert timers == [], timers
    assert (state_dir / "known-good.nft").read_text() == (state_dir / "applied.nft").read_text()
    assert check_matrix(packet_lab, ALLOWED_V1, DENIED_V1) == []

    rc, ver = cli_json(lab, "gateway", "verify", str(LAB_POLICY))
    assert rc == 0, ver
    report = ver["verify"]
    assert report["in_sync"] and report["drift"] == []
    counters = {c["name"]: c for c in report["counters"]}
    assert "pub_tax-https-old" not in counters  # expired: not in the ruleset at all
    for name in ("pub_citizen-https", "pub_fin-https", "pub_tax-range", "pub_fin-push-out", "egress_finance",
                 "egress_health"):
        assert counters[name]["packets"] >= 1, (name, counters[name])
    assert counters["pub_citizen-https"]["publication"] == "citizen-https"
    assert counters["forward_dropped"]["packets"] >= len(DENIED_V1) - 2

    out = lab.cli("gateway", "history", GATEWAY, "--format", "json")
    assert out.returncode == 0, out.stderr
    assert [(r["action"], r["status"]) for r in json.loads(out.stdout)][:3] == [
        ("verify", "in-sync"), ("confirm", "confirmed"), ("deploy", "pending")]
    from cloudctl.audit import list_entries

    with lab.store.connect() as conn:
        audited = [e["action"] for e in list_entries(conn, object_type="gateway", limit=3)]
    assert audited == ["gateway.verify", "gateway.confirm", "gateway.deploy"]


def test_03_verify_reports_drift(lab: LabContext, packet_lab: PacketLab) -> None:
    lab.lab.nsexec(packet_lab.gw_ns, "nft", "add", "rule", "inet", "cloudctl_gw", "forward", "accept")
    lab.lab.nsexec(packet_lab.gw_ns, "nft", "add", "counter", "inet", "cloudctl_gw", "rogue")
    rc, ver = cli_json(lab, "gateway", "verify", str(LAB_POLICY))
    assert rc == 1, ver
    drift = {(d["kind"], d["name"], d["change"]) for d in ver["verify"]["drift"]}
    assert drift == {("rule", "forward", "changed"), ("counter", "rogue", "unexpected")}, drift
    rc, out = cli_json(lab, "gateway", "deploy", str(LAB_POLICY), "--confirm-within", "0")
    assert rc == 0 and out["status"] == "confirmed", out
    assert check_matrix(packet_lab, {}, {"after repair": DENIED_V1["internet -> public zone"]}) == []


def test_04_a_live_change_drops_no_established_connection(lab: LabContext, packet_lab: PacketLab,
                                                         policy_v2: Path) -> None:
    holders = [packet_lab.hold("172.30.0.10", "10.21.0.5", 443, 16),  # publication fin-https
               packet_lab.hold("10.10.2.10", "203.0.113.20", 80, 8)]  # egress with source NAT
    try:
        rc, out = cli_json(lab, "gateway", "deploy", str(policy_v2), "--confirm-within", "0")
        assert rc == 0, out
        assert check_matrix(packet_lab, CHANGED_V2_ALLOWED, CHANGED_V2_DENIED) == []
        rc, out = cli_json(lab, "gateway", "deploy", str(LAB_POLICY), "--confirm-within", "0")
        assert rc == 0, out
    finally:
        reports = []
        for proc in holders:
            stdout, stderr = proc.communicate("stop\n", timeout=120)
            assert proc.returncode == 0, stderr
            reports.append(json.loads(stdout))
    for report in reports:
        assert report["rounds"] >= 1 and report["failure_count"] == 0, report
    assert [r["connections"] for r in reports] == [16, 8]
    assert check_matrix(packet_lab, ALLOWED_V1, DENIED_V1) == []


def test_05_an_unconfirmed_deploy_is_rolled_back(lab: LabContext, packet_lab: PacketLab, policy_v2: Path) -> None:
    rc, out = cli_json(lab, "gateway", "deploy", str(policy_v2), "--confirm-within", "40")
    assert rc == 0 and out["status"] == "pending", out
    assert check_matrix(packet_lab, CHANGED_V2_ALLOWED, CHANGED_V2_DENIED) == []
    deadline = time.monotonic() + 90
    while commit_state(lab) == "pending" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert commit_state(lab) == "rolled-back"
    assert check_matrix(packet_lab, ALLOWED_V1, DENIED_V1) == []
    rc, conf = cli_json(lab, "gateway", "confirm", GATEWAY)
    assert rc == 1 and conf["status"] == "rolled-back", conf
    assert "rolled back" in conf["message"]
    rc, ver = cli_json(lab, "gateway", "verify", str(LAB_POLICY))
    assert rc == 0 and ver["verify"]["in_sync"], ver


def test_06_a_ruleset_failing_nft_check_is_never_applied(lab: LabContext, packet_lab: PacketLab) -> None:
    from cloudctl.gateway.deploy import deploy_ruleset, gateway_target

    ensure_v1(lab, packet_lab)
    before, state_before = running_table(packet_lab), commit_state(lab)
    bad = "table inet cloudctl_gw\ndelete table inet cloudctl_gw\ntable inet cloudctl_gw {\n chain forward {\n" \
          "  type filter hook forward priority filter; policy accept;\n  ip saddr 10.0.0.0/33 accept\n }\n}\n"
    outcome = deploy_ruleset(gateway_target(lab.store, GATEWAY), bad, confirm_within=30, settings=lab.settings())
    assert outcome.status == "check-failed", outcome.message
    assert "nothing was applied" in outcome.message
    assert running_table(packet_lab) == before
    assert commit_state(lab) == state_before
    assert check_matrix(packet_lab, {}, {"still closed": DENIED_V1["internet -> public zone"]}) == []


def test_06b_a_dry_run_deploy_checks_and_applies_nothing(lab: LabContext, packet_lab: PacketLab,
                                                         policy_v2: Path) -> None:
    ensure_v1(lab, packet_lab)
    before, state_before = running_table(packet_lab), commit_state(lab)
    rc, out = cli_json(lab, "gateway", "deploy", str(policy_v2), "--check")
    assert rc == 0 and out["status"] == "checked", out
    assert running_table(packet_lab) == before and commit_state(lab) == state_before
    candidate = lab.lab.hosts[GATEWAY].state_dir / "gateway" / "candidate.nft"
    assert "10.10.0.5 . tcp . 8080" in candidate.read_text()  # v2 was uploaded and checked


def test_07_a_failed_apply_leaves_the_previous_ruleset_running(lab: LabContext, packet_lab: PacketLab,
                                                              policy_v2: Path) -> None:
    """Fault injection: on the gateway only, `nft -f candidate.nft` fails after `nft -c` passed."""
    gw = lab.lab.hosts[GATEWAY]
    real = lab.lab.workdir / "nft.real"
    subprocess.run(["cp", "/usr/sbin/nft", str(real)], check=True)
    wrapper = lab.lab.workdir / "nft-faulty"
    wrapper.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = -c ] && exec {real} "$@"; done\n'
                       f'case "$*" in *candidate.nft*) echo "Error: injected netlink failure" >&2; exit 1;; esac\n'
                       f'exec {real} "$@"\n')
    wrapper.chmod(0o755)
    ensure_v1(lab, packet_lab)
    nsenter = ["nsenter", "-t", str(gw.sshd_pid), "-m"]
    subprocess.run([*nsenter, "mount", "--bind", str(wrapper), "/usr/sbin/nft"], check=True, timeout=30)
    try:
        before, state_before = running_table(packet_lab), commit_state(lab)
        rc, out = cli_json(lab, "gateway", "deploy", str(policy_v2), "--confirm-within", "30")
        assert rc == 1, out
        assert out["status"] == "apply-failed", out
        assert "previous ruleset is still running" in out["message"]
    finally:
        subprocess.run([*nsenter, "umount", "/usr/sbin/nft"], check=True, timeout=30)
    assert running_table(packet_lab) == before
    assert commit_state(lab) == state_before
    assert check_matrix(packet_lab, ALLOWED_V1, DENIED_V1) == []
