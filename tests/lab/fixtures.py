"""The namespace lab, shared by every test of the session (building it takes a few seconds).

A plugin registered once in tests/conftest.py (`pytest_plugins`), so tests/lab, tests/agent_deploy
and any other directory get the same session lab (a fixture re-exported by two conftests would
build two labs, and the second would wait for the first one's lock).

`lab`: a management bridge and three Ansible hosts with their own sshd — the gateway
`gw-lab` and two agents — registered in a store of the lab's own. `packet_lab`: zone
namespaces wired to the gateway's interfaces exactly as tests/gateway/policies/lab.yaml
names them, with listeners on the services, portals and an "internet" server.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .netlab import Lab, missing_tools

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LAB_POLICY = REPO / "tests" / "gateway" / "policies" / "lab.yaml"
PROBE = HERE / "tcpprobe.py"
GATEWAY = "gw-lab"

# zone namespace -> (gateway interface, addresses in the zone, default gateways)
ZONES: dict[str, tuple[str, list[str], list[str]]] = {
    "inet": ("ccgw-inet", ["203.0.113.10/24", "203.0.113.20/24", "2001:db8:ffff::20/64"],
             ["203.0.113.1", "2001:db8:ffff::1"]),
    "dmz": ("ccgw-dmz", ["172.30.0.10/24", "172.30.0.11/24", "172.30.0.12/24", "fd00:30::10/64"],
            ["172.30.0.1", "fd00:30::1"]),
    "pub": ("ccgw-pub", ["10.10.0.5/16", "10.10.0.53/16", "10.10.0.6/16", "10.10.2.10/16", "10.10.3.10/16"],
            ["10.10.0.1"]),
    "fin": ("ccgw-fin", ["10.21.0.5/24", "10.21.0.6/24", "10.21.0.20/24", "fd00:21::5/64", "fd00:21::20/64"],
            ["10.21.0.1", "fd00:21::1"]),
    "tax": ("ccgw-tax", ["10.22.0.5/24", "10.22.0.20/24"], ["10.22.0.1"]),
}
LISTENERS: dict[str, list[str]] = {
    "inet": ["203.0.113.20:80", "[2001:db8:ffff::20]:80"],
    "dmz": ["172.30.0.10:443", "172.30.0.11:8443"],
    "pub": ["10.10.0.5:443", "10.10.0.5:8080", "10.10.0.53:53/udp", "10.10.0.6:443"],
    "fin": ["10.21.0.5:443", "10.21.0.5:8443", "10.21.0.6:8443", "[fd00:21::5]:443"],
    "tax": ["10.22.0.5:443", "10.22.0.5:9005"],
}
GUARD_TABLE = """table inet cclab_guard {
  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname "mgmt0" drop
    oifname "mgmt0" drop
  }
}
"""


def _needs_lab() -> None:
    if os.geteuid() != 0:
        pytest.skip("the namespace lab needs root")
    if missing := missing_tools():
        pytest.fail(f"the lab needs {', '.join(missing)}: run scripts/deps.d/40-lab.sh")


@dataclass
class LabContext:
    lab: Lab
    db_url: str
    env: dict[str, str]
    store: Any

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the real cloudctl CLI against the lab's store and automation directories."""
        return subprocess.run([sys.executable, "-m", "cloudctl", *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout, cwd=REPO)

    def settings(self) -> Any:
        from cloudctl.automation.runner import RunSettings

        return RunSettings(base_dir=self.lab.workdir / "automation")


@pytest.fixture(scope="session")
def lab() -> Iterator[LabContext]:
    _needs_lab()
    from cloudctl.audit import Actor
    from cloudctl.automation.hosts import register_host
    from cloudctl.automation.inventory import ManagedHost
    from cloudctl.store import open_store

    lab = Lab(Path(tempfile.mkdtemp(prefix="cclab-", dir="/tmp")))
    try:
        lab.up()
        gw = lab.add_host(GATEWAY, 10)
        ag1 = lab.add_host("ag1", 21)
        ag2 = lab.add_host("ag2", 22)
        db_url = f"sqlite:///{lab.workdir / 'cloudctl.sqlite3'}"
        store = open_store(db_url)
        actor = Actor("lab-tester", "pytest tests/lab")
        from cloudctl.power import bootstrap

        with store.begin() as conn:  # the lab's operator holds admin (the power list guards the CLI)
            bootstrap(conn, actor.name, actor)
        for host, role, division in ((gw, "gateway", "330100"), (ag1, "agent", "110101"),
                                     (ag2, "agent", "110102")):
            register_host(store, actor, ManagedHost(name=host.name, role=role, address=host.mgmt_ip,
                                                    division_code=division, vars=lab.host_vars(host)))
        env = {**os.environ, "CLOUDCTL_DB": db_url, "CLOUDCTL_AS": "lab-tester", "NO_COLOR": "1",
               "CLOUDCTL_AUTOMATION_DIR": str(lab.workdir / "automation"),
               "CLOUDCTL_SSH_CONTROL_DIR": str(lab.workdir / "cp"),
               # the inventory script runs the cloudctl of the interpreter under test, not the first on PATH
               "CLOUDCTL": shutil.which("cloudctl", path=str(Path(sys.executable).parent)) or "cloudctl"}
        os.environ["CLOUDCTL_SSH_CONTROL_DIR"] = str(lab.workdir / "cp")
        yield LabContext(lab, db_url, env, store)
        store.dispose()
    finally:
        os.environ.pop("CLOUDCTL_SSH_CONTROL_DIR", None)
        lab.down()


@dataclass
class PacketLab:
    ctx: LabContext
    zone_of: dict[str, str] = field(default_factory=dict)  # address -> namespace

    @property
    def gw_ns(self) -> str:
        return self.ctx.lab.hosts[GATEWAY].ns

    def probe(self, flows: list[tuple[str, str, int, str]], timeout: float = 2.0) -> list[dict[str, Any]]:
        """Try each (src, dst, port, proto) from the namespace that owns src; results in order."""
        by_ns: dict[str, list[int]] = {}
        for i, (src, *_rest) in enumerate(flows):
            by_ns.setdefault(self.zone_of[src], []).append(i)
        results: list[dict[str, Any]] = [{}] * len(flows)

        def run(ns: str) -> None:
            import json

            idx = by_ns[ns]
            payload = json.dumps([{"src": flows[i][0], "dst": flows[i][1], "port": flows[i][2],
                                   "proto": flows[i][3]} for i in idx])
            out = self.ctx.lab.nsexec(ns, sys.executable, str(PROBE), "probe", str(timeout), input=payload,
                                      timeout=60)
            for i, r in zip(idx, json.loads(out.stdout), strict=True):
                results[i] = r

        with ThreadPoolExecutor(max_workers=len(by_ns)) as pool:
            list(pool.map(run, by_ns))
        return results

    def hold(self, src: str, dst: str, port: int, count: int) -> subprocess.Popen[str]:
        proc = subprocess.Popen(["ip", "netns", "exec", self.zone_of[src], sys.executable, str(PROBE), "hold",
                                 src, dst, str(port), str(count), "240"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_ready(proc, 30)
        return proc


def _wait_ready(proc: subprocess.Popen[str], seconds: float) -> None:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], seconds)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != "ready":
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"{proc.args} did not get ready: {line!r} {err[-500:]}")


@pytest.fixture(scope="session")
def packet_lab(lab: LabContext) -> PacketLab:
    import yaml

    policy = yaml.safe_load(LAB_POLICY.read_text())
    iface_addrs = {i["name"]: i["addresses"] for i in policy["gateway"]["interfaces"]}
    net = lab.lab
    gw_ns = net.hosts[GATEWAY].ns
    pl = PacketLab(lab)
    for zone, (gw_if, addrs, gateways) in ZONES.items():
        ns = net.add_namespace(zone)
        net.link(gw_ns, gw_if, ns, "eth0")
        net.addr(gw_ns, gw_if, *iface_addrs[gw_if])
        net.addr(ns, "eth0", *addrs)
        for via in gateways:
            net.route(ns, "default", "via", via)
        for cidr in addrs:
            pl.zone_of[cidr.split("/")[0]] = ns
    net.sysctl(gw_ns, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
    net.nsexec(gw_ns, "nft", "-f", "-", input=GUARD_TABLE)
    for zone, specs in LISTENERS.items():
        proc = subprocess.Popen(["ip", "netns", "exec", f"cclab-{zone}", sys.executable, str(PROBE), "serve", *specs],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_ready(proc, 30)
    return pl
