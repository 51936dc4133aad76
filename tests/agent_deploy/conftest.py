"""Helpers for the agent deployment tests: a cloudctl wheel built from this checkout, a real
`cloudctl serve` on the lab's controller address, and stopping agents by their pid file.

The namespace lab itself (`lab`) is the session fixture of tests/lab/fixtures.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.lab.fixtures import LabContext
from tests.lab.netlab import CONTROLLER_IP
from tests.monitoring.test_live_prometheus import _start, _stop, poll

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def agent_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, built from a copy (an in-tree build would write build/ into the repo)."""
    src = tmp_path_factory.mktemp("ccad-src")
    shutil.copytree(REPO / "cloudctl", src / "cloudctl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    out = tmp_path_factory.mktemp("ccad-dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                        "--no-index", "--disable-pip-version-check", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    wheels = list(out.glob("cloudctl-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@contextlib.contextmanager
def served(env: dict[str, str], port: int, log: Path, *extra: str) -> Iterator[str]:
    """`cloudctl serve` on the controller's lab address (reachable from every lab namespace)."""
    proc = _start([sys.executable, "-m", "cloudctl", "serve", "--host", CONTROLLER_IP, "--port", str(port),
                   "--metrics-bucket", "1", "--heartbeat-interval", "1", "--log-level", "warning", *extra],
                  log, env=env, cwd=REPO)
    url = f"http://{CONTROLLER_IP}:{port}"
    try:
        poll(f"cloudctl serve on {url}", lambda: proc.poll() is None
             and httpx.get(f"{url}/healthz", timeout=2).status_code == 200, timeout=60)
        yield url
    finally:
        _stop(proc)


def ensure_divisions(ctx: LabContext) -> None:
    """The shipped divisions in the lab's store (idempotent; enrolment checks the division exists)."""
    r = ctx.cli("init", timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]


def netns_of(pid: int) -> str:
    return subprocess.run(["ip", "netns", "identify", str(pid)], capture_output=True, text=True,
                          timeout=10).stdout.strip()


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except FileNotFoundError:
        return []


def stop_by_pidfile(pidfile: Path, config: Path, timeout: float = 20) -> None:
    """SIGTERM the agent the pid file names (only if it runs CONFIG), SIGKILL after TIMEOUT seconds."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    if str(config) not in cmdline(pid):
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not cmdline(pid):  # gone, or a zombie waiting for init
                return
            time.sleep(0.1)
