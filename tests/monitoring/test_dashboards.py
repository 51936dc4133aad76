"""Dashboards: rebuilt with grafana-foundation-sdk they match the committed JSON, every panel
expression parses (promtool check rules) and names only metrics cloudctl exports or records."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
from pathlib import Path

import yaml

from tests.monitoring.conftest import MONITORING, REPO, need

DASHBOARDS = MONITORING / "dashboards"
NAME = re.compile(r"(?<![\"\w:])((?:[a-z_]+:)?cloudctl[a-z0-9_:]*)")


def panel_exprs(path: Path = DASHBOARDS / "cloudctl-overview.json") -> list[str]:
    """Every panel query, with Grafana's variables replaced by values Prometheus accepts."""
    board = json.loads(path.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", []) if t.get("expr")]
    return [e.replace("$province", ".*").replace("$__rate_interval", "1m") for e in exprs]


def test_dashboards_are_built_by_the_sdk_and_committed(tmp_path: Path) -> None:
    build = runpy.run_path(str(DASHBOARDS / "build.py"))
    for built in build["write"](tmp_path):
        committed = DASHBOARDS / built.name
        if built.read_text() != committed.read_text():
            actual = committed.with_suffix(".json.actual")
            actual.write_text(built.read_text())
            raise AssertionError(f"{committed} is stale: rebuilt one in {actual}; "
                                 "run python3 monitoring/dashboards/build.py")


def test_every_panel_expression_passes_promtool(tmp_path: Path) -> None:
    exprs = panel_exprs()
    assert len(exprs) >= 25
    rules = {"groups": [{"name": "dashboard-exprs", "rules": [
        {"record": f"dashboard:panel_{i}:check", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump(rules))
    r = subprocess.run([need("promtool"), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in r.stdout


def test_panels_name_only_metrics_that_exist() -> None:
    recorded = {r["record"] for f in (MONITORING / "rules").glob("*.yml")
                for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"] if "record" in r}
    exported = set(re.findall(r'"(cloudctl_[a-z_]+)"', " ".join(
        p.read_text() for p in (REPO / "cloudctl" / "metrics").glob("*.py"))))
    exported |= set(re.findall(r'"(cloudctl_[a-z_]+)"', (REPO / "cloudctl" / "api" / "app.py").read_text()))
    used = {n for e in panel_exprs() for n in NAME.findall(e)}
    assert used and used <= recorded | exported, used - recorded - exported
