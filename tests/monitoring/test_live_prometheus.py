"""Real Prometheus and Alertmanager (Debian's) on 127.0.0.1 scrape a real `cloudctl serve`:
a heartbeat's link-down shows in the series, and a tampered audit log fires AuditChainBroken
through Prometheus's HTTP API and reaches Alertmanager's webhook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from sqlalchemy import text

from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from tests.monitoring.conftest import MONITORING, need, seed
from tests.monitoring.test_dashboards import panel_exprs

pytestmark = pytest.mark.prometheus

PROM_PORT, AM_PORT, API_PORT, AGENT_PORT, HOOK_PORT = 19090, 19093, 19180, 19182, 19189
POLL_SECONDS = 40  # generous on a loaded 2-core machine; data is usually there in ~6 s


def poll(what: str, check: Callable[[], Any], timeout: float = POLL_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as e:
            last = e
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


def _start(args: list[str], log: Path, **kw: Any) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)


def _stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=15)


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    promtool, prometheus, alertmanager = need("promtool"), need("prometheus"), need("prometheus-alertmanager")
    db = f"sqlite:///{tmp_path / 'cloudctl.sqlite3'}"
    from cloudctl.store import open_store

    store = open_store(db)
    seed(store)
    enrolment = create_enrolment(store, Actor("op"), "110101001", "access")
    agent_enrolment = create_enrolment(store, Actor("op"), "110101002", "access")
    cloudctl = [sys.executable, "-c", "from cloudctl.cli.main import main; main()", "--db", db]
    conf = tmp_path / "prom"
    shutil.copytree(MONITORING / "rules", conf / "rules")
    r = subprocess.run([*cloudctl, "monitoring", "targets", "--out", str(conf / "targets"),
                        "--api", f"127.0.0.1:{API_PORT}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{AM_PORT}"]
    for job in config["scrape_configs"]:
        job["scrape_timeout"] = "1s"
        for sd in job["file_sd_configs"]:
            sd["refresh_interval"] = "1s"
    (conf / "prometheus.yml").write_text(yaml.safe_dump(config))
    assert subprocess.run([promtool, "check", "config", str(conf / "prometheus.yml")],
                          capture_output=True, timeout=60).returncode == 0
    am_conf = {"route": {"receiver": "hook", "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
               "receivers": [{"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{HOOK_PORT}/"}]}]}
    (tmp_path / "am.yml").write_text(yaml.safe_dump(am_conf))

    _Hook.received = []
    hook = ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    env = {**os.environ, "PYTHONPATH": str(MONITORING.parent)}
    procs = [
        _start([*cloudctl, "serve", "--port", str(API_PORT), "--metrics-bucket", "1", "--audit-verify-interval",
                "1", "--log-level", "warning"], tmp_path / "serve.log", env=env),
        _start([alertmanager, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
                f"--web.listen-address=127.0.0.1:{AM_PORT}", "--cluster.listen-address="], tmp_path / "am.log"),
        _start([prometheus, f"--config.file={conf / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{PROM_PORT}"], tmp_path / "prom.log"),
    ]
    try:
        yield {"store": store, "db": db, "enrolment": enrolment, "agent_enrolment": agent_enrolment,
               "tmp": tmp_path, "cloudctl": cloudctl, "conf": conf, "procs": procs}
    finally:
        for p in reversed(procs):
            _stop(p)
        hook.shutdown()
        hook.server_close()
        store.dispose()


def _query(expr: str) -> list[dict[str, Any]]:
    r = httpx.get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query", params={"query": expr}, timeout=5)
    r.raise_for_status()
    return r.json()["data"]["result"]


def _firing(name: str) -> list[dict[str, Any]]:
    r = httpx.get(f"http://127.0.0.1:{PROM_PORT}/api/v1/alerts", timeout=5)
    r.raise_for_status()
    return [a for a in r.json()["data"]["alerts"] if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_prometheus_scrapes_serve_sees_link_down_and_fires_audit_alert(stack: dict[str, Any]) -> None:
    api = f"http://127.0.0.1:{API_PORT}"
    poll("cloudctl serve /healthz", lambda: httpx.get(f"{api}/healthz", timeout=2).status_code == 200)
    poll("the cloudctl job up in Prometheus", lambda: _query('up{job="cloudctl"} == 1'))
    ok = poll("cloudctl_audit_chain_ok", lambda: _query("cloudctl_audit_chain_ok"))
    assert ok[0]["value"][1] == "1" and ok[0]["metric"]["service"] == "cloudctl-api"
    assert not _firing("AuditChainBroken")

    # An agent enrols and reports its township link down: the series shows it.
    enrolled = httpx.post(f"{api}/v1/agents/enrol", json={"token": stack["enrolment"].token}, timeout=10).json()
    auth = {"Authorization": f"Bearer {enrolled['credential']}"}
    down = {"name": "ash", "kind": "icmp", "target": "10.1.1.1", "link_id": "L-ASH", "up": False, "sent": 5,
            "received": 0, "loss_ratio": 1.0}
    r = httpx.post(f"{api}/v1/agents/{enrolled['agent_id']}/heartbeats", json={"seq": 1, "results": [down]},
                   headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["links_changed"] == 1
    series = poll("cloudctl_link_up for L-ASH", lambda: _query('cloudctl_link_up{link="L-ASH"}'))
    assert series[0]["value"][1] == "0" and series[0]["metric"]["province"] == "11"
    assert poll("the recorded per-province down count",
                lambda: _query('province:cloudctl_links_down:count{province="11"} == 1'))

    # Someone edits an audit row behind cloudctl's back: the alert fires and reaches Alertmanager.
    with stack["store"].begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    firing = poll("AuditChainBroken firing", lambda: _firing("AuditChainBroken"))
    assert firing[0]["labels"]["severity"] == "critical"
    assert _query("cloudctl_audit_chain_ok")[0]["value"][1] == "0"
    hooked = poll("the alert at Alertmanager's webhook",
                  lambda: [a for msg in _Hook.received for a in msg["alerts"]
                           if a["labels"]["alertname"] == "AuditChainBroken"])
    assert hooked[0]["status"] == "firing"

    # Every dashboard panel's query runs on the live server (errors would be HTTP 400).
    for expr in panel_exprs():
        r = httpx.get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query", params={"query": expr}, timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "success", (expr, r.text)
    assert _query('level:cloudctl_divisions_covered:ratio{level="township"}')[0]["value"][1] == "0.4"


def test_a_real_agent_is_discovered_through_file_sd_and_scraped(stack: dict[str, Any]) -> None:
    """`cloudctl agent run` enrols and reports its metrics address; `cloudctl monitoring targets`
    writes it into file_sd; Prometheus scrapes the agent and sees its heartbeats at the API."""
    api = f"http://127.0.0.1:{API_PORT}"
    poll("cloudctl serve /healthz", lambda: httpx.get(f"{api}/healthz", timeout=2).status_code == 200)
    tmp = stack["tmp"]
    config = tmp / "agent.yaml"
    config.write_text(yaml.safe_dump({"api_url": api, "state_dir": str(tmp / "agent-state"),
                                      "enrol_token": stack["agent_enrolment"].token, "interval_seconds": 1,
                                      "metrics_listen": f"127.0.0.1:{AGENT_PORT}"}))
    stack["procs"].append(_start([*stack["cloudctl"], "agent", "run", "--config", str(config)], tmp / "agent.log"))
    agent_id = stack["agent_enrolment"].agent_id

    def reported_address() -> bool:
        with stack["store"].connect() as conn:
            return conn.execute(text("SELECT metrics_address FROM agent WHERE agent_id = :a"),
                                {"a": agent_id}).scalar() is not None
    poll("the agent's enrolment with its metrics address", reported_address)
    r = subprocess.run([*stack["cloudctl"], "monitoring", "targets", "--out", str(stack["conf"] / "targets"),
                        "--api", f"127.0.0.1:{API_PORT}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    scraped = poll("the agent's /metrics scraped through file_sd",
                   lambda: _query('up{job="cloudctl-agent"} == 1'))
    assert scraped[0]["metric"]["agent"] == agent_id and scraped[0]["metric"]["division"] == "110101002"
    beats = poll("the agent's heartbeats counted at the API",
                 lambda: _query(f'cloudctl_agent_heartbeats_total{{agent="{agent_id}"}} > 1'))
    assert beats[0]["metric"]["role"] == "access"
