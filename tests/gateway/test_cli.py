"""`cloudctl gateway ...` end to end in a subprocess: output, exit codes, located errors."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.gateway.conftest import GOLDEN, LAB_POLICY, nft_check


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloudctl", "gateway", *args], capture_output=True, text=True,
                          timeout=120)


def test_check_ok_json():
    r = run_cli("check", str(LAB_POLICY), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"ok": True, "gateway": "gw-lab", "interfaces": 5, "zones": 5, "portals": 2,
                                    "services": 6, "publications": 7, "departments": 6}


def test_check_lists_every_problem_with_location_and_exits_2(write_policy, lab_dict):
    lab_dict["services"][0]["address"] = "api.example.gov"
    lab_dict["publications"][1]["portal"] = "ghost"
    path = write_policy(lab_dict)
    r = run_cli("check", str(path))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith(str(path))]
    assert len(lines) == 2
    assert "field 'services[0].address'" in lines[0] and "field 'publications[1].portal'" in lines[1]
    line_no = int(lines[0].split(":")[1])
    assert "api.example.gov" in path.read_text().splitlines()[line_no - 1]
    assert "2 problems" in r.stderr


def test_check_json_problems(write_policy, lab_dict):
    lab_dict["services"][0]["ports"] = [70000]
    r = run_cli("check", str(write_policy(lab_dict)), "--format", "json")
    assert r.returncode == 2
    problems = json.loads(r.stdout)["problems"]
    assert [p["field"] for p in problems] == ["services[0].ports[0]"] and problems[0]["line"] > 1


def test_other_commands_refuse_an_invalid_policy(write_policy, lab_dict):
    lab_dict["zones"]["tax"]["cidrs"] = ["10.21.0.0/24"]
    path = str(write_policy(lab_dict))
    for args in (("analyze", path), ("compile", path), ("query", path, "--src", "1.1.1.1", "--dst", "2.2.2.2",
                                                         "--port", "1")):
        r = run_cli(*args)
        assert r.returncode == 2 and "more problems: run `cloudctl gateway check`" in r.stderr, (args, r.stderr)
    r = run_cli("check", path)
    assert r.returncode == 2 and "zone 'tax' overlaps zone 'finance'" in r.stderr


def test_compile_to_file_matches_golden(tmp_path):
    out = tmp_path / "ruleset.nft"
    r = run_cli("compile", str(LAB_POLICY), "--at", "2026-11-28", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text() == (GOLDEN / "lab.nft").read_text()
    assert nft_check(out).returncode == 0


def test_query_json_and_bad_address():
    r = run_cli("query", str(LAB_POLICY), "--src", "172.30.0.10", "--dst", "10.10.0.5", "--port", "443",
                "--at", "2026-11-28", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["decided_by"] == "citizen-https"
    r = run_cli("query", str(LAB_POLICY), "--src", "portal.example", "--dst", "10.10.0.5", "--port", "443")
    assert r.returncode == 2 and "--src" in r.stderr


def test_analyze_json_and_strict(write_policy, lab_dict):
    lab_dict["publications"].append({"name": "again", "service": "citizen-api", "portal": "portal-main",
                                     "ports": [443]})
    path = str(write_policy(lab_dict))
    r = run_cli("analyze", path, "--at", "2026-11-28", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {(f["publication"], f["finding"]) for f in data["findings"]} >= {("again", "shadowed")}
    assert data["isolation_matrix"]["finance"]["tax"] == "-"
    r = run_cli("analyze", path, "--at", "2026-11-28", "--strict")
    assert r.returncode == 1 and "again" in r.stdout


def test_diff_csv(write_policy, lab_dict):
    old = write_policy(lab_dict)
    lab_dict["publications"].pop(0)
    r = run_cli("diff", str(old), str(write_policy(lab_dict)), "--at", "2026-11-28", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "kind,name,change,flows,examples",
        "publication,citizen-https,closed,1,ccgw-dmz->ccgw-pub 172.30.0.10 -> 10.10.0.5 tcp/443"]


def test_missing_file_exits_2(tmp_path):
    r = run_cli("check", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "no such policy file" in r.stderr
