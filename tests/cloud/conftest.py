"""The real OpenStack dev stack (scripts/openstack-dev) for the cloud tests.

Started once per session unless it already runs; stopped at the end only if this session
started it. Each test works on its own departments (unique codes), so tests share the stack.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "openstack-dev"
RUN_DIR = Path(os.environ.get("CLOUDCTL_OS_RUN", "/var/tmp/cloudctl-openstack"))
CLOUD = "cloudctl-dev"


@dataclass(frozen=True)
class DevCloud:
    clouds_yaml: Path
    name: str


def _alive() -> bool:
    """Every process runs (an API slow to answer under load still counts: start waits for it)."""
    r = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, timeout=120)
    return "stopped" not in r.stdout


@pytest.fixture(scope="session")
def dev_cloud() -> Iterator[DevCloud]:
    started = not _alive()
    # idempotent: on a running stack it only waits until every API answers
    r = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        pytest.fail(f"scripts/openstack-dev start failed:\n{r.stdout}\n{r.stderr[-4000:]}")
    clouds = RUN_DIR / "clouds.yaml"
    old = os.environ.get("OS_CLIENT_CONFIG_FILE")
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    yield DevCloud(clouds, CLOUD)
    if old is None:
        os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
    else:
        os.environ["OS_CLIENT_CONFIG_FILE"] = old
    if started:
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, text=True, timeout=300)


@pytest.fixture
def code_prefix() -> str:
    """A unique department-code prefix for one test (departments are global in the cloud)."""
    return "t" + uuid.uuid4().hex[:6]
