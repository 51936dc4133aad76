"""Pure parts of automation and verify, checked against real ansible-inventory, nft and the store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cloudctl.automation.inventory import ManagedHost, as_yaml_inventory, build_inventory, division_groups
from cloudctl.automation.results import RunTally
from cloudctl.store import open_store

REPO = Path(__file__).resolve().parent.parent.parent


def _event(kind: str, host: str, task: str = "t", **data: object) -> dict:
    return {"event": kind, "event_data": {"host": host, "task": task, **data}}


def test_tally_turns_events_into_per_host_results() -> None:
    seen: list[tuple[str, str]] = []
    tally = RunTally(lambda r, what: seen.append((r.host, what)))
    tally.add(_event("runner_on_start", "a", "copy"))
    tally.add(_event("runner_on_ok", "a", "copy", res={"changed": True, "stdout": "x"}))
    tally.add(_event("runner_on_ok", "b", "copy", res={"changed": False}))
    tally.add(_event("runner_on_failed", "b", "nft -c", res={"rc": 1, "stderr": "Error: syntax"}))
    tally.add(_event("runner_on_failed", "a", "optional", res={"rc": 2}, ignore_errors=True))
    tally.add(_event("runner_on_unreachable", "c", "copy", res={"msg": "ssh: connect to host c: timed out"}))
    tally.add({"event": "playbook_on_stats", "event_data": {
        "processed": {"a": 1, "b": 1, "c": 1}, "failures": {"b": 1}, "dark": {"c": 1}, "ignored": {"a": 1}}})
    result = tally.result("p.yml", "failed", 2)
    assert {h: r.status for h, r in result.hosts.items()} == {"a": "changed", "b": "failed", "c": "unreachable"}
    assert result.failed_hosts == ["b", "c"] and result.ok_hosts == ["a"]
    assert result.outcome == "partial"
    assert result.hosts["b"].messages == ["nft -c: Error: syntax (rc 1)"]
    assert result.output("b", "nft -c") == {"rc": 1, "stderr": "Error: syntax", "failed": True}
    assert result.hosts["a"].ignored == 1 and result.hosts["a"].outputs["copy"]["stdout"] == "x"
    assert ("c", "unreachable") in seen and ("a", "done") in seen


def test_a_run_without_host_results_is_a_failure_with_the_reason() -> None:
    tally = RunTally()
    tally.add({"event": "verbose", "stdout": "ERROR! the playbook: x.yml could not be found"})
    result = tally.result("x.yml", "failed", 1)
    assert result.outcome == "failed" and "could not be found" in (result.error or "")


def test_division_groups_cut_codes_by_prefix() -> None:
    assert division_groups("110101001001") == ["province_11", "prefecture_1101", "county_110101"]
    assert division_groups("1101") == ["province_11", "prefecture_1101"]
    assert division_groups(None) == []


@pytest.mark.skipif(shutil.which("ansible-inventory") is None, reason="ansible-core not installed")
def test_inventory_shapes_are_what_ansible_reads(tmp_path: Path) -> None:
    hosts = [ManagedHost("gw1", "gateway", "10.0.0.1", division_code="330100", vars={"x": [1, 2]}),
             ManagedHost("a1", "agent", "10.0.1.1", port=2222, ssh_user="ops", division_code="330102001"),
             ManagedHost("a2", "agent", "a2.example.org")]
    script_shape = build_inventory(hosts)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(as_yaml_inventory(script_shape)))
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}
    out = subprocess.run(["ansible-inventory", "-i", str(path), "--list"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    for group in ("gateways", "agents", "province_33", "prefecture_3301", "county_330102"):
        assert sorted(seen[group]["hosts"]) == sorted(script_shape[group]["hosts"]), group
    assert seen["_meta"]["hostvars"]["a1"]["ansible_port"] == 2222
    assert seen["_meta"]["hostvars"]["gw1"]["x"] == [1, 2]


def test_register_host_is_audited_and_idempotent(store, actor) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.audit import list_entries, verify_chain
    from cloudctl.automation.hosts import register_host, remove_host
    from cloudctl.automation.inventory import inventory_from_store
    from cloudctl.errors import InputError, NotFoundError

    host = ManagedHost("gw1", "gateway", "10.0.0.1", division_code="330100")
    assert register_host(store, actor, host) == "created"
    assert register_host(store, actor, host) == "unchanged"
    assert register_host(store, actor, ManagedHost("gw1", "gateway", "10.0.0.2")) == "updated"
    with pytest.raises(InputError):
        register_host(store, actor, ManagedHost("gw2", "gateway", "10.0.0.256"))
    with store.connect() as conn:
        inv = inventory_from_store(conn)
        entries = list_entries(conn, object_type="managed_host")
    assert inv["_meta"]["hostvars"]["gw1"]["ansible_host"] == "10.0.0.2"
    assert [e["action"] for e in entries] == ["host.update", "host.register"]
    remove_host(store, actor, "gw1")
    with pytest.raises(NotFoundError):
        remove_host(store, actor, "gw1")
    with store.connect() as conn:
        assert verify_chain(conn).ok
        assert inventory_from_store(conn)["_meta"]["hostvars"] == {}


@pytest.fixture(scope="module")
def lab_ruleset() -> str:
    from cloudctl.gateway.compile import compile_ruleset
    from cloudctl.gateway.policy import load_policy

    return compile_ruleset(load_policy(REPO / "tests" / "gateway" / "policies" / "lab.yaml"))


def _nft_json(ruleset: str, *commands: str) -> dict:
    """Load RULESET in a scratch namespace, run extra nft COMMANDS, list as JSON (real nft)."""
    script = 'nft -f "$1" && shift && for c in "$@"; do nft "$c" || exit 1; done; nft -j list ruleset'
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".nft") as f:
        f.write(ruleset)
        f.flush()
        unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
        out = subprocess.run([*unshare, "sh", "-c", script, "x", f.name, *commands], capture_output=True,
                             text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.netns
@pytest.mark.skipif(shutil.which("nft") is None, reason="nft not installed")
def test_verify_finds_exactly_the_drift_nft_shows(lab_ruleset: str) -> None:
    from cloudctl.gateway.deploy import expected_ruleset_json
    from cloudctl.gateway.verify import compare_rulesets

    expected = expected_ruleset_json(lab_ruleset)
    same = compare_rulesets(expected, _nft_json(lab_ruleset), publications=["citizen-https"])
    assert same.in_sync and same.items == []
    assert any(c.publication == "citizen-https" for c in same.counters)
    drifted = _nft_json(
        lab_ruleset,
        'add element inet cloudctl_gw fwd_ccgw-dmz_to_ccgw-pub_v4 { 172.30.0.99 . 10.10.0.5 . tcp . 22 : '
        '"pub_citizen-https" }',
        "add rule inet cloudctl_gw forward accept",
        "add counter inet cloudctl_gw rogue",
        "add table ip other",
        "add chain ip other fw { type filter hook forward priority 5; }")
    report = compare_rulesets(expected, drifted)
    found = {(i.kind, i.name, i.change) for i in report.items}
    assert found == {("map", "fwd_ccgw-dmz_to_ccgw-pub_v4", "changed"), ("rule", "forward", "changed"),
                     ("counter", "rogue", "unexpected")}, report.items
    assert "172.30.0.99" in next(i.detail for i in report.items if i.kind == "map")
    assert report.foreign_tables == ["ip other (hook forward)"]
    absent = compare_rulesets(expected, {"nftables": []})
    assert not absent.table_present and absent.items[0].change == "missing"


@pytest.mark.skipif(shutil.which("ansible-lint") is None, reason="ansible-lint not installed")
def test_every_playbook_passes_ansible_lint(tmp_path: Path) -> None:
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ah"), "NO_COLOR": "1"}
    out = subprocess.run(["ansible-lint", "--offline", "--nocolor", "playbooks/"], cwd=REPO, capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_cli_inventory_needs_list_or_host(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path / 'x.sqlite3'}").dispose()  # only `cloudctl init` creates one from the CLI
    out = subprocess.run([sys.executable, "-m", "cloudctl", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}",
                          "inventory"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--list" in out.stderr
    out = subprocess.run([sys.executable, "-m", "cloudctl", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}",
                          "inventory", "--list"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and json.loads(out.stdout)["_meta"] == {"hostvars": {}}


@pytest.mark.skipif(shutil.which("ansible-inventory") is None, reason="ansible-core not installed")
def test_the_sample_static_inventory_parses(tmp_path: Path) -> None:
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}
    out = subprocess.run(["ansible-inventory", "-i", str(REPO / "inventories" / "sample"), "--list"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    inv = json.loads(out.stdout)
    assert inv["gateways"]["hosts"] == ["gw-hz-01"]
    assert sorted(inv["province_33"]["hosts"]) == ["ag-xihu-01", "gw-hz-01"]
    assert inv["_meta"]["hostvars"]["gw-hz-01"]["gateway_nft_confirm_within"] == 300
    assert inv["_meta"]["hostvars"]["ag-xihu-01"]["cloudctl_state_dir"] == "/var/lib/cloudctl"


def test_deploy_of_an_unknown_gateway_is_bad_input(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    open_store(db).dispose()  # only `cloudctl init` creates a store from the CLI
    for args in (["gateway", "deploy", "no-such-gateway"], ["gateway", "confirm", "no-such-gateway"],
                 ["gateway", "deploy", str(tmp_path / "missing.yaml")]):
        out = subprocess.run([sys.executable, "-m", "cloudctl", "--db", db, *args], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2, (args, out.stderr)
        assert "no-such-gateway" in out.stderr or "missing.yaml" in out.stderr
        assert "Traceback" not in out.stderr
