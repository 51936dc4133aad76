"""monitoring/: rules and their unit tests (promtool), prometheus.yml with generated file_sd
targets (promtool check config), the Alertmanager example (amtool check-config)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cloudctl.cli.main import main as cli_main
from cloudctl.store import open_store
from tests.monitoring.conftest import MONITORING, need

ALERTS = {"TownshipLinkDown", "AgentSilent", "CoverageBehindTargetPace", "DepartmentQuotaAbove90Percent",
          "GatewayDrift", "ApprovalOverdue", "AuditChainBroken"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def test_rule_unit_tests_pass() -> None:
    tests = sorted(str(p) for p in (MONITORING / "tests").glob("*.yml"))
    r = _run(need("promtool"), "test", "rules", *tests)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("SUCCESS") == len(tests)


def test_every_alert_the_issue_names_exists_and_has_a_unit_test() -> None:
    rules = yaml.safe_load((MONITORING / "rules" / "cloudctl-alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert alerts >= ALERTS
    tested = {t["alertname"] for f in (MONITORING / "tests").glob("*.yml")
              for case in yaml.safe_load(f.read_text())["tests"] for t in case.get("alert_rule_test", [])
              if any(t.get("exp_alerts") or [])}
    assert tested == alerts, f"alerts without a firing unit test: {alerts - tested}"


def test_a_broken_rule_fails_its_unit_test(tmp_path: Path) -> None:
    """The unit tests can fail: raise AgentSilent's threshold and its case must break."""
    shutil.copytree(MONITORING / "rules", tmp_path / "rules")
    shutil.copytree(MONITORING / "tests", tmp_path / "tests")
    alerts = tmp_path / "rules" / "cloudctl-alerts.yml"
    alerts.write_text(alerts.read_text().replace("cloudctl_agent_last_heartbeat_timestamp_seconds > 120",
                                                 "cloudctl_agent_last_heartbeat_timestamp_seconds > 600"))
    r = _run(need("promtool"), "test", "rules", str(tmp_path / "tests" / "alerts_test.yml"))
    assert r.returncode != 0 and "AgentSilent" in r.stdout + r.stderr


def test_config_checks_with_targets_written_by_the_cli(tmp_path: Path, sqlite_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "monitoring"
    shutil.copytree(MONITORING, conf, ignore=shutil.ignore_patterns("targets", "dashboards"))
    open_store(sqlite_url).dispose()  # only `cloudctl init` creates a store from the CLI
    with pytest.raises(SystemExit) as e:
        cli_main(["--db", sqlite_url, "monitoring", "targets", "--out", str(conf / "targets"),
                  "--api", "127.0.0.1:8480", "--format", "json"])
    assert e.value.code == 0
    api = json.loads((conf / "targets" / "cloudctl-api.json").read_text())
    assert api == [{"targets": ["127.0.0.1:8480"], "labels": {"service": "cloudctl-api"}}]
    r = _run(need("promtool"), "check", "config", str(conf / "prometheus.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 rule files found" in r.stdout


def test_alertmanager_example_config_is_valid() -> None:
    r = _run(need("amtool"), "check-config", str(MONITORING / "alertmanager.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 receivers" in r.stdout
