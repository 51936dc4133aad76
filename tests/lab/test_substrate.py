"""The Ansible substrate on real hosts: dynamic inventory, `cloudctl run`, per-host results."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import GATEWAY, REPO, LabContext

pytestmark = [pytest.mark.netns, pytest.mark.ansible]


def test_inventory_list_groups_by_role_and_division(lab: LabContext) -> None:
    out = lab.cli("inventory", "--list")
    assert out.returncode == 0, out.stderr
    inv = json.loads(out.stdout)
    assert inv["gateways"]["hosts"] == [GATEWAY]
    assert inv["agents"]["hosts"] == ["ag1", "ag2"]
    assert inv["province_11"]["hosts"] == ["ag1", "ag2"]
    assert inv["prefecture_1101"]["hosts"] == ["ag1", "ag2"]
    assert inv["county_110101"]["hosts"] == ["ag1"]
    assert inv["county_110102"]["hosts"] == ["ag2"]
    assert inv["province_33"]["hosts"] == [GATEWAY]
    assert inv["_meta"]["hostvars"]["ag1"]["ansible_host"] == lab.lab.hosts["ag1"].mgmt_ip
    host = json.loads(lab.cli("inventory", "--host", "ag2").stdout)
    assert host["cloudctl_division"] == "110102" and host["cloudctl_role"] == "agent"


def test_inventory_script_works_with_ansible(lab: LabContext) -> None:
    """ansible-inventory reads the dynamic inventory through the shipped script."""
    script = REPO / "inventories" / "cloudctl-dynamic"
    exe = "ansible-inventory"
    res = subprocess.run([exe, "-i", str(script), "--graph", "county_110101"], capture_output=True, text=True,
                         env=lab.env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "ag1" in res.stdout and "ag2" not in res.stdout


def test_run_site_on_every_host(lab: LabContext) -> None:
    out = lab.cli("run", "site", "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["outcome"] == "success"
    statuses = {h["host"]: h["status"] for h in result["hosts"]}
    assert set(statuses) == {GATEWAY, "ag1", "ag2"}
    for name, host in lab.lab.hosts.items():
        facts = json.loads((host.state_dir / "host.json").read_text())
        assert facts["name"] == name
    helper = lab.lab.hosts[GATEWAY].state_dir / "gateway" / "cloudctl-gw-commit"
    assert helper.exists()
    assert not (lab.lab.hosts["ag1"].state_dir / "gateway").exists()  # the gateway play ran on gateways only


def test_run_limit_and_check_change_nothing(lab: LabContext) -> None:
    marker = lab.lab.hosts["ag2"].state_dir / "host.json"
    marker.unlink(missing_ok=True)
    out = lab.cli("run", "site", "--limit", "county_110102", "--check", "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [h["host"] for h in result["hosts"]] == ["ag2"]
    assert result["hosts"][0]["changed"] >= 1  # it would write host.json ...
    assert not marker.exists()  # ... but --check wrote nothing


def test_a_failed_host_is_a_result_and_exit_3(lab: LabContext) -> None:
    """One unreachable host: the others finish, the summary names it, exit 3 (partly done)."""
    add = lab.cli("inventory", "add", "ghost", "--role", "agent", "--address", "10.231.0.99",
                  "--division", "110105", *[f"--var={k}={v}" for k, v in lab.lab.ssh_vars().items()])
    assert add.returncode == 0, add.stderr
    try:
        out = lab.cli("run", "site", "--format", "json", "--limit", "agents")
        assert out.returncode == 3, out.stderr
        result = json.loads(out.stdout)
        assert result["outcome"] == "partial"
        by_host = {h["host"]: h for h in result["hosts"]}
        assert by_host["ghost"]["status"] == "unreachable" and by_host["ghost"]["messages"]
        assert by_host["ag1"]["status"] in ("ok", "changed") and by_host["ag2"]["status"] in ("ok", "changed")
        assert "ghost" in out.stderr  # the error names the failed host
    finally:
        assert lab.cli("inventory", "remove", "ghost", "--yes").returncode == 0


def test_inventory_add_rejects_bad_input(lab: LabContext) -> None:
    bad = lab.cli("inventory", "add", "x1", "--role", "agent", "--address", "10.231.0.300")
    assert bad.returncode == 2 and "address" in bad.stderr
    bad = lab.cli("inventory", "add", "x1", "--role", "agent", "--address", "10.0.0.1", "--division", "1101x")
    assert bad.returncode == 2 and "division" in bad.stderr
    bad = lab.cli("inventory", "add", "x1", "--role", "agent", "--address", "10.0.0.1", "--var", "ansible_host=1")
    assert bad.returncode == 2 and "ansible_host" in bad.stderr
