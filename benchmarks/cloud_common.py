"""Shared set-up for the cloud benchmarks: the dev stack, a store with an address pool, clean-up."""

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
    if subprocess.run([str(script), "status"], capture_output=True, timeout=120).returncode != 0:
        subprocess.run([str(script), "start"], check=True, timeout=1200)
    clouds = RUN_DIR / "clouds.yaml"
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    return clouds


def load() -> str:
    """The machine's load average and core count, printed with every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def ensure_external_network(name: str, cidr: str) -> None:
    """An external network of the benchmark's own with room for many router gateways (the dev
    stack's `public` /24 holds ~250). Created once; reused by later runs."""
    import openstack

    conn = openstack.connect(cloud=CLOUD)
    net = conn.network.find_network(name)
    if net is None:
        net = conn.network.create_network(name=name, is_router_external=True,
                                          description="cloudctl benchmark external network")
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(network_id=net.id, name=f"{name}-subnet", ip_version=4, cidr=cidr,
                                   enable_dhcp=False)


def delete_external_network(name: str) -> None:
    import openstack

    conn = openstack.connect(cloud=CLOUD)
    net = conn.network.find_network(name)
    if net is not None:
        conn.network.delete_network(net)


def make_store(path: Path, codes: list[str], *, pool: str = "10.128.0.0/12",
               external: str = "public"):  # type: ignore[no-untyped-def]
    """A store with the address pool and these departments (each with member alice). An existing
    store at `path` is reused: only departments it lacks are added, in order, so codes and subnets
    stay the same from run to run."""
    from cloudctl.audit import Actor
    from cloudctl.cloud.departments import create_department, list_departments, set_member, set_setting
    from cloudctl.ipam import create_pool
    from cloudctl.store import open_store

    actor = Actor("bench", "benchmark")
    store = open_store(f"sqlite:///{path}")
    with store.begin() as conn:
        create_pool(conn, pool, "departments", None, actor)  # idempotent
        have = {d["code"] for d in list_departments(conn, include_retired=True)}
    set_setting(store, actor, "external_network", external)
    for code in codes:
        if code not in have:
            create_department(store, actor, code=code, name=f"Department {code}", division="110000")
            set_member(store, actor, code, "alice", "member")
    return store, actor


def cleanup(store, actor, *, workers: int = 16) -> None:  # type: ignore[no-untyped-def]
    """Retire every department in the store and apply: removes what was created (either way)."""
    from cloudctl.cloud.departments import list_departments, retire_department
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    with store.connect() as conn:
        codes = [d["code"] for d in list_departments(conn)]
    for code in codes:
        retire_department(store, actor, code)
    cloud = OpenStackCloud(CLOUD, workers=workers)
    results = apply_plan(store, cloud, make_plan(store, cloud), actor, workers=workers)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"clean-up: {len(failed)} departments failed, e.g. {failed[0].dept}: {failed[0].error}",
              file=sys.stderr)
