"""A lab agent loses its link and Prometheus shows it: Debian's Prometheus and Alertmanager on
127.0.0.1 scrape a real `cloudctl serve` and the agent's own /metrics; the agent, in lab host
ag2's network namespace, pings a target namespace across a veth pair this test makes; the test
sets the veth down and asserts through Prometheus's HTTP API that `cloudctl_link_up` for that
link goes 0 and `TownshipLinkDown` fires (and reaches Alertmanager's webhook), then up again.

The rules are the real monitoring/rules files; only the `for:` durations of the alert rules are
shortened by this test (to ALERT_FOR), since waiting 5 minutes for TownshipLinkDown is no test.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import insert

from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from cloudctl.store import open_store
from cloudctl.store.tables.agents import agent_probe
from tests.agent_deploy.conftest import REPO, served
from tests.lab.fixtures import LabContext
from tests.lab.netlab import CONTROLLER_IP, sh
from tests.monitoring.conftest import MONITORING, need, seed
from tests.monitoring.test_live_prometheus import _Hook, _start, _stop, poll

pytestmark = [pytest.mark.netns, pytest.mark.prometheus]

PROM_PORT, AM_PORT, HOOK_PORT = 19290, 19293, 19299
SERVE_PORT, AGENT_METRICS_PORT = 19282, 19283
HOST, TOWNSHIP, LINK = "ag2", "110101001", "L-ASH"  # L-ASH: the township link of the monitoring seed
TARGET_NS, VETH = "cclab-ccad-tgt", "ccad-probe"
AGENT_SIDE, TARGET_SIDE = "10.231.77.1/30", "10.231.77.2/30"
ALERT_FOR = "3s"
WAIT = 90  # seconds for each Prometheus condition (1 s scrapes; usually a few seconds)


def _seconds(duration: str) -> int:
    return sum(int(n) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in re.findall(r"(\d+)([smhd])", duration))


def shortened_rules(dest: Path) -> int:
    """Copy monitoring/rules, changing only `for:` values longer than ALERT_FOR; how many were changed."""
    (dest / "rules").mkdir(parents=True)
    changed = 0

    def shorten(m: re.Match[str]) -> str:
        nonlocal changed
        if _seconds(m.group(2)) <= _seconds(ALERT_FOR):
            return m.group(0)
        changed += 1
        return m.group(1) + ALERT_FOR

    for path in (MONITORING / "rules").glob("*.yml"):
        text = re.sub(r"^(\s+for:\s*)(\S+)[ \t]*$", shorten, path.read_text(), flags=re.MULTILINE)
        (dest / "rules" / path.name).write_text(text)
    return changed


def _long_fors() -> int:
    """Alert rules in monitoring/rules whose `for:` is longer than ALERT_FOR (parsed as YAML)."""
    rules = [r for path in (MONITORING / "rules").glob("*.yml")
             for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]]
    return sum(1 for r in rules if _seconds(str(r.get("for", "0s"))) > _seconds(ALERT_FOR))


def prometheus_config(conf: Path) -> Path:
    """monitoring/prometheus.yml with 1 s intervals and this test's Alertmanager."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{AM_PORT}"]
    for job in config["scrape_configs"]:
        job["scrape_timeout"] = "1s"
        for sd in job["file_sd_configs"]:
            sd["refresh_interval"] = "1s"
    path = conf / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def query(expr: str) -> list[dict[str, Any]]:
    r = httpx.get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query", params={"query": expr}, timeout=5)
    r.raise_for_status()
    return r.json()["data"]["result"]


def alerts(name: str, state: str | None = None) -> list[dict[str, Any]]:
    r = httpx.get(f"http://127.0.0.1:{PROM_PORT}/api/v1/alerts", timeout=5)
    r.raise_for_status()
    return [a for a in r.json()["data"]["alerts"] if a["labels"]["alertname"] == name
            and a["labels"].get("link") == LINK and (state is None or a["state"] == state)]


@pytest.fixture
def probe_link(lab: LabContext) -> Iterator[str]:
    """A target namespace joined to ag2 by a veth pair (made inside the namespaces); removed after."""
    ag_ns = lab.lab.hosts[HOST].ns
    sh("ip", "netns", "add", TARGET_NS)
    try:
        sh("ip", "-n", TARGET_NS, "link", "set", "lo", "up")
        lab.lab.link(ag_ns, VETH, TARGET_NS, "eth0")
        lab.lab.addr(ag_ns, VETH, AGENT_SIDE)
        lab.lab.addr(TARGET_NS, "eth0", TARGET_SIDE)
        yield ag_ns
    finally:
        sh("ip", "-n", ag_ns, "link", "del", VETH, check=False)
        sh("ip", "netns", "del", TARGET_NS, check=False)


def test_veth_down_turns_link_up_to_0_and_fires_township_link_down(lab: LabContext, probe_link: str,
                                                                    tmp_path: Path) -> None:
    promtool, prometheus, alertmanager = need("promtool"), need("prometheus"), need("prometheus-alertmanager")
    ag_ns, ag_ip = probe_link, lab.lab.hosts[HOST].mgmt_ip
    db = f"sqlite:///{tmp_path / 'cloudctl.sqlite3'}"
    store = open_store(db)
    seed(store)
    enrolment = create_enrolment(store, Actor("ccad-tester"), TOWNSHIP, "access")
    with store.begin() as conn:
        conn.execute(insert(agent_probe).values(division_code=TOWNSHIP, name="ash-ping", link_id=LINK, kind="icmp",
                                                target=TARGET_SIDE.split("/")[0], count=3, timeout_s=0.5))
    conf = tmp_path / "prom"
    assert shortened_rules(conf) == _long_fors() >= 1  # TownshipLinkDown's 5m among them
    rules = subprocess.run([promtool, "check", "rules", *map(str, sorted((conf / "rules").glob("*.yml")))],
                           capture_output=True, text=True, timeout=60)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = prometheus_config(conf)
    check = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    (tmp_path / "am.yml").write_text(yaml.safe_dump({
        "route": {"receiver": "hook", "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{HOOK_PORT}/"}]}]}))
    agent_yaml = tmp_path / "agent.yaml"
    env = {**lab.env, "CLOUDCTL_DB": db}
    cli = [sys.executable, "-m", "cloudctl"]

    _Hook.received = []
    hook = ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with served(env, SERVE_PORT, tmp_path / "serve.log") as api:
            agent_yaml.write_text(yaml.safe_dump({
                "api_url": api, "state_dir": str(tmp_path / "agent-state"), "enrol_token": enrolment.token,
                "interval_seconds": 1, "metrics_listen": f"{ag_ip}:{AGENT_METRICS_PORT}", "hostname": HOST}))
            procs.append(_start(["ip", "netns", "exec", ag_ns, *cli, "agent", "run", "--config", str(agent_yaml)],
                                tmp_path / "agent.log", cwd=REPO))
            poll("the agent's first heartbeat", lambda: _beats(store, enrolment.agent_id) >= 1, timeout=WAIT)
            r = subprocess.run([*cli, "monitoring", "targets", "--out", str(conf / "targets"), "--api",
                                f"{CONTROLLER_IP}:{SERVE_PORT}"], capture_output=True, text=True, env=env,
                               cwd=REPO, timeout=120)
            assert r.returncode == 0, r.stderr
            procs.append(_start([alertmanager, f"--config.file={tmp_path / 'am.yml'}",
                                 f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{AM_PORT}",
                                 "--cluster.listen-address="], tmp_path / "am.log"))
            procs.append(_start([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{PROM_PORT}"], tmp_path / "prom.log"))

            # Link up: both the API's series and the agent's own, scraped by Prometheus.
            poll("cloudctl and the agent scraped", lambda: len(query('up{job=~"cloudctl|cloudctl-agent"} == 1')) == 2,
                 timeout=WAIT)
            up = poll("cloudctl_link_up 1", lambda: query(f'cloudctl_link_up{{link="{LINK}"}} == 1'), timeout=WAIT)
            assert up[0]["metric"]["division"] == TOWNSHIP and up[0]["metric"]["province"] == "11"
            poll("the agent's probe up", lambda: query(f'cloudctl_agent_probe_up{{link_id="{LINK}"}} == 1'),
                 timeout=WAIT)
            assert not alerts("TownshipLinkDown")

            # The veth goes down: ping fails, the next heartbeat reports the link down.
            sh("ip", "-n", ag_ns, "link", "set", VETH, "down")
            down = poll("cloudctl_link_up 0", lambda: query(f'cloudctl_link_up{{link="{LINK}"}} == 0'), timeout=WAIT)
            assert down[0]["metric"]["division"] == TOWNSHIP
            assert query(f'cloudctl_link_probe_loss_ratio{{link="{LINK}"}}')[0]["value"][1] == "1"
            assert poll("the agent's own probe down",
                        lambda: query(f'cloudctl_agent_probe_up{{link_id="{LINK}"}} == 0'), timeout=WAIT)
            firing = poll("TownshipLinkDown firing", lambda: alerts("TownshipLinkDown", "firing"), timeout=WAIT)
            assert firing[0]["labels"]["severity"] == "warning" and firing[0]["labels"]["division"] == TOWNSHIP
            hooked = poll("TownshipLinkDown at Alertmanager's webhook", lambda: [
                a for msg in _Hook.received for a in msg["alerts"]
                if a["labels"]["alertname"] == "TownshipLinkDown" and a["status"] == "firing"], timeout=WAIT)
            assert hooked[0]["labels"]["link"] == LINK

            # And up again: the series returns to 1 and the alert ends.
            sh("ip", "-n", ag_ns, "link", "set", VETH, "up")
            poll("cloudctl_link_up back to 1", lambda: query(f'cloudctl_link_up{{link="{LINK}"}} == 1'), timeout=WAIT)
            poll("TownshipLinkDown resolved", lambda: not alerts("TownshipLinkDown"), timeout=WAIT)
    finally:
        for p in reversed(procs):
            _stop(p)
        hook.shutdown()
        hook.server_close()
        store.dispose()


def _beats(store: Any, agent_id: str) -> int:
    from sqlalchemy import select

    from cloudctl.store.tables.agents import agent

    with store.connect() as conn:
        return int(conn.execute(select(agent.c.heartbeats).where(agent.c.agent_id == agent_id)).scalar() or 0)
