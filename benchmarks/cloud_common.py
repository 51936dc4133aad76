"""Shared set-up for the cloud benchmarks: the dev stack, a store with an address pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RUN_DIR = Path(os.environ.get("CLOUDCTL_OS_RUN", "/var/tmp/cloudctl-openstack"))
VENV = Path(os.environ.get("CLOUDCTL_OS_VENV", "/opt/cloudctl-openstack/venv"))
CLOUD = "cloudctl-dev"


def ensure_stack() -> Path:
    script = ROOT / "scripts" / "openstack-dev"
    if subprocess.run([str(script), "status"], capture_output=True, timeout=60).returncode != 0:
        subprocess.run([str(script), "start"], check=True, timeout=900)
    clouds = RUN_DIR / "clouds.yaml"
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    return clouds


def make_store(path: Path, codes: list[str], *, pool: str = "10.128.0.0/12"):  # type: ignore[no-untyped-def]
    from cloudctl.audit import Actor
    from cloudctl.cloud.departments import create_department, set_member, set_setting
    from cloudctl.ipam import create_pool
    from cloudctl.store import open_store

    actor = Actor("bench", "benchmark")
    store = open_store(f"sqlite:///{path}")
    with store.begin() as conn:
        create_pool(conn, pool, "departments", None, actor)
    set_setting(store, actor, "external_network", "public")
    for code in codes:
        create_department(store, actor, code=code, name=f"Department {code}", division="110000")
        set_member(store, actor, code, "alice", "member")
    return store, actor


def cleanup(store, actor) -> None:  # type: ignore[no-untyped-def]
    """Retire every department in the store and apply: removes what was created (either way)."""
    from cloudctl.cloud.departments import list_departments, retire_department
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    with store.connect() as conn:
        codes = [d["code"] for d in list_departments(conn)]
    for code in codes:
        retire_department(store, actor, code)
    cloud = OpenStackCloud(CLOUD)
    apply_plan(store, cloud, make_plan(store, cloud), actor, workers=8)
