"""playbooks/deploy-agent.yml on a lab host, the way operators run it (`cloudctl run`):
Ansible over SSH installs cloudctl from a wheel into a venv, the controller enrols the agent,
the agent runs as a daemon inside the host's network namespace and its heartbeats reach a real
`cloudctl serve`; a second run changes nothing and does not enrol again."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from cloudctl.store.tables.agents import agent, agent_probe, link_status
from tests.agent_deploy.conftest import cmdline, ensure_divisions, netns_of, served, stop_by_pidfile
from tests.lab.fixtures import LabContext
from tests.lab.netlab import CONTROLLER_IP
from tests.monitoring.test_live_prometheus import poll

pytestmark = [pytest.mark.ansible, pytest.mark.netns]

SERVE_PORT, METRICS_PORT = 19280, 19281
HOST, DIVISION, LINK = "ag1", "110101", "ccad-110101-01"


def deploy(ctx: LabContext, extra: dict[str, Any], *flags: str) -> dict[str, Any]:
    args = ["run", "deploy-agent", "--limit", HOST, "--format", "json", *flags]
    for key, value in extra.items():
        args += ["-e", f"{key}={value}"]
    r = ctx.cli(*args, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(r.stdout)


def _row(ctx: LabContext, table: Any, *where: Any) -> Any:
    with ctx.store.connect() as conn:
        return conn.execute(select(table).where(*where)).first()


def test_deploy_agent_playbook_runs_an_enrolled_agent_in_the_host_namespace(lab: LabContext, agent_wheel: Path,
                                                                             tmp_path: Path) -> None:
    host = lab.lab.hosts[HOST]
    home = host.state_dir / "agent"
    pidfile, config = home / "agent.pid", home / "agent.yaml"
    prefix = host.dir / "agent-venv"
    ensure_divisions(lab)
    r = lab.cli("links", "add", "--id", LINK, "--division", DIVISION, "--type", "fiber", "--bandwidth", "100",
                "--activated", "2024-01-01")
    assert r.returncode == 0 or "exists" in r.stderr, r.stderr
    with lab.store.begin() as conn:  # the agent probes the controller's API port across the management link
        probe_id = conn.execute(insert(agent_probe).values(
            division_code=DIVISION, name="ccad-api", link_id=LINK, kind="tcp",
            target=f"{CONTROLLER_IP}:{SERVE_PORT}", count=2, timeout_s=1.0)).inserted_primary_key[0]
    with lab.store.connect() as conn:
        agents_before = len(conn.execute(select(agent.c.agent_id).where(agent.c.division_code == DIVISION)).all())
    extra = {"cloudctl_agent_api_url": f"http://{CONTROLLER_IP}:{SERVE_PORT}",
             "cloudctl_agent_wheel": agent_wheel, "cloudctl_agent_python": Path(sys.executable).resolve(),
             "cloudctl_agent_prefix": prefix, "cloudctl_agent_pip_extra_args": "--no-index",
             "cloudctl_agent_service_manager": "daemon", "cloudctl_agent_interval_seconds": 1,
             "cloudctl_agent_metrics_listen": f"{host.mgmt_ip}:{METRICS_PORT}"}
    try:
        with served(lab.env, SERVE_PORT, tmp_path / "serve.log"):
            started = time.monotonic()
            first = deploy(lab, extra)
            first_s = time.monotonic() - started
            assert first["outcome"] == "success" and [h["host"] for h in first["hosts"]] == [HOST]
            assert first["hosts"][0]["changed"] > 0 and first["hosts"][0]["failed"] == 0

            # The agent runs inside ag1's namespace, from the venv the playbook made.
            pid = int(pidfile.read_text())
            assert netns_of(pid) == host.ns
            argv = cmdline(pid)
            assert argv[0] == f"{prefix}/bin/python" and argv[-2:] == ["--config", str(config)], argv
            assert config.stat().st_mode & 0o077 == 0
            assert Path(f"/proc/{pid}/cwd").resolve() == home  # -m finds no checkout there: the venv's cloudctl
            imported = lab.lab.nsexec(host.ns, f"{prefix}/bin/python", "-I", "-c",
                                      "import cloudctl; print(cloudctl.__file__)")
            assert imported.stdout.startswith(f"{prefix}/lib/"), imported.stdout

            # Enrolled by the playbook (one new agent row), heartbeats and the link's status reach the store.
            with lab.store.connect() as conn:
                rows = conn.execute(select(agent).where(agent.c.division_code == DIVISION)).all()
            assert len(rows) == agents_before + 1
            agent_id = json.loads((home / "state" / "credential.json").read_text())["agent_id"]
            beats = poll("heartbeats from the deployed agent", lambda: (a := _row(
                lab, agent, agent.c.agent_id == agent_id)) is not None and a.heartbeats >= 3 and a)
            assert beats.state == "active" and beats.hostname == HOST and beats.role == "access"
            assert beats.metrics_address == f"{host.mgmt_ip}:{METRICS_PORT}"
            assert time.time() - beats.last_heartbeat_ts < 30
            status = poll("the link status the agent reported", lambda: _row(lab, link_status,
                                                                               link_status.c.link_id == LINK))
            assert status.division_code == DIVISION and status.agent_id == agent_id and status.up == 1
            assert status.loss_ratio == 0.0 and status.rtt_avg_seconds is not None

            # Its own /metrics answers inside the namespace.
            fetch = ("import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("
                     f"'http://{host.mgmt_ip}:{METRICS_PORT}/metrics', timeout=5).read().decode())")
            text = lab.lab.nsexec(host.ns, sys.executable, "-c", fetch).stdout
            assert f'cloudctl_agent_probe_up{{probe="ccad-api",kind="tcp",link_id="{LINK}"}} 1.0' in text
            assert "cloudctl_agent_api_up 1" in text

            # A second run changes nothing: no re-enrolment, no restart.
            second = deploy(lab, extra)
            assert second["outcome"] == "success"
            assert second["hosts"][0]["changed"] == 0, second
            assert int(pidfile.read_text()) == pid and cmdline(pid) == argv
            with lab.store.connect() as conn:
                assert len(conn.execute(select(agent.c.agent_id)
                                        .where(agent.c.division_code == DIVISION)).all()) == agents_before + 1
            # A dry run on the enrolled host also finds nothing to change.
            dry = deploy(lab, extra, "--check")
            assert dry["outcome"] == "success" and dry["hosts"][0]["changed"] == 0, dry
            assert int(pidfile.read_text()) == pid
            print(f"\nfirst deploy {first_s:.1f} s")
    finally:
        stop_by_pidfile(pidfile, config)
        with lab.store.begin() as conn:
            conn.execute(delete(agent_probe).where(agent_probe.c.id == probe_id))
    assert not cmdline(pid), "the agent did not stop on SIGTERM"
