"""The role's service files on their own, without the lab: the systemd unit passes
`systemd-analyze verify`, and the daemon control script really starts, finds, restarts and
stops an agent (a real `cloudctl agent run` waiting for an API that is not there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest
import yaml

from tests.agent_deploy.conftest import REPO, cmdline

TEMPLATES = REPO / "playbooks" / "roles" / "cloudctl_agent" / "templates"


def render(name: str, dest: Path, **values: object) -> Path:
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string((TEMPLATES / name).read_text())
    dest.write_text(text.render(**values) + "\n")
    return dest


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = render("cloudctl-agent.service.j2", tmp_path / "cloudctl-agent.service", cloudctl_agent_division="110101",
                  cloudctl_agent_home=str(tmp_path), cloudctl_agent_config_file=str(tmp_path / "agent.yaml"),
                  cloudctl_agent_exec_python=sys.executable, cloudctl_agent_stop_timeout=20)
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr  # bad values are only warned about on stderr


def _ctl(script: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(script), command], capture_output=True, text=True, env=env, timeout=60)


def test_the_daemon_control_script_is_idempotent_and_stops_by_pid_file(tmp_path: Path) -> None:
    home = tmp_path / "agent"
    home.mkdir()
    config, pidfile = home / "agent.yaml", home / "agent.pid"
    config.write_text(yaml.safe_dump({"api_url": "http://127.0.0.1:9", "state_dir": str(home / "state"),
                                      "enrol_token": "ccenrol.agt-0000000000000000.x", "interval_seconds": 1}))
    script = render("cloudctl-agentctl.sh.j2", home / "cloudctl-agentctl", cloudctl_agent_pid_file=str(pidfile),
                    cloudctl_agent_log_file=str(home / "agent.log"), cloudctl_agent_config_file=str(config),
                    cloudctl_agent_exec_python=sys.executable, cloudctl_agent_home=str(home),
                    cloudctl_agent_stop_timeout=10)
    script.chmod(0o700)
    assert subprocess.run(["sh", "-n", str(script)], timeout=10).returncode == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the checkout's cloudctl, whatever pip points at
    pid = 0
    try:
        assert _ctl(script, "status", env).returncode == 3
        started = _ctl(script, "start", env)
        assert started.returncode == 0 and started.stdout.startswith("started "), started.stdout + started.stderr
        pid = int(pidfile.read_text())
        assert started.stdout.split()[1] == str(pid) and cmdline(pid)[-2:] == ["--config", str(config)]
        assert os.getsid(pid) == pid  # a session of its own: it outlives the caller's session
        again = _ctl(script, "start", env)
        assert again.stdout.strip() == f"running {pid}" and _ctl(script, "status", env).returncode == 0
        restarted = _ctl(script, "restart", env)
        assert restarted.returncode == 0 and restarted.stdout.startswith("started ")
        assert not cmdline(pid), "restart left the old agent running"
        pid = int(pidfile.read_text())
        stopped = _ctl(script, "stop", env)
        assert stopped.stdout.strip() == "stopped" and not pidfile.exists()
        deadline = time.monotonic() + 10
        while cmdline(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not cmdline(pid), "the agent survived stop"
        assert "agent stopped after 0 rounds" in (home / "agent.log").read_text()  # SIGTERM, not SIGKILL
        # A pid file naming another process (pids are reused) is not the agent: stop leaves it alone.
        pidfile.write_text(str(os.getpid()))
        assert _ctl(script, "status", env).returncode == 3
        assert _ctl(script, "stop", env).stdout.strip() == "stopped" and not pidfile.exists()
    finally:
        if pid and cmdline(pid):
            os.kill(pid, 15)
        _ctl(script, "stop", env)
