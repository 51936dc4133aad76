"""Real packets through the compiled lab ruleset: a portal namespace, the gateway, a public-zone
server and an internet host. The kernel's verdicts must be the ones `query` computes, and the
publication's named counter must count the connection. (The full matrix with the deploy path
lives in the lab tests; this one pins the compiler to the kernel.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from cloudctl.gateway.query import query_flow
from cloudctl.gateway.semantics import build_semantics
from tests.gateway.conftest import AT, GOLDEN

pytestmark = pytest.mark.netns

SERVER = """
import socket, sys, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64); s.settimeout(60)
    while True:
        try:
            c, _ = s.accept()
        except OSError:
            return
        c.close()
for p in map(int, sys.argv[1:]):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait(60)
"""

CONNECT = """
import socket, sys
c = socket.socket(); c.settimeout(1.5)
try:
    c.connect((sys.argv[1], int(sys.argv[2]))); print("open")
except OSError:
    print("closed")
"""


def _sh(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture
def lab() -> Iterator[dict[str, str]]:
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("needs root and nftables (CI runs as root; scripts/deps.d/50-gateway.sh installs nftables)")
    tag = f"ccgw-p{os.getpid()}"
    ns = {"portal": f"{tag}-portal", "gw": f"{tag}-gw", "server": f"{tag}-srv", "inet": f"{tag}-inet"}
    server = None
    try:
        for name in ns.values():
            _sh("ip", "netns", "add", name)
        links = [("portal", "ccgw-dmz", "172.30.0.10/24", "172.30.0.1/24"),
                 ("server", "ccgw-pub", "10.10.0.5/16", "10.10.0.1/16"),
                 ("inet", "ccgw-inet", "198.51.100.20/24", "198.51.100.1/24")]
        for host, gw_if, host_addr, gw_addr in links:
            _sh("ip", "link", "add", "eth0", "netns", ns[host], "type", "veth",
                "peer", "name", gw_if, "netns", ns["gw"])
            _sh("ip", "-n", ns[host], "addr", "add", host_addr, "dev", "eth0")
            _sh("ip", "-n", ns["gw"], "addr", "add", gw_addr, "dev", gw_if)
            for where, dev in ((ns[host], "eth0"), (ns["gw"], gw_if)):
                _sh("ip", "-n", where, "link", "set", dev, "up")
            _sh("ip", "-n", ns[host], "route", "add", "default", "via", gw_addr.split("/")[0])
        _sh("ip", "netns", "exec", ns["gw"], "sysctl", "-qw", "net.ipv4.ip_forward=1")
        _sh("ip", "netns", "exec", ns["gw"], "nft", "-f", str(GOLDEN / "lab.nft"))
        server = subprocess.Popen(["ip", "netns", "exec", ns["server"], sys.executable, "-c", SERVER, "443", "8080"],
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield ns
    finally:
        if server is not None:
            server.kill()
            server.wait(timeout=30)
        for name in ns.values():
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=60)


def _connect(ns: str, dst: str, port: int) -> str:
    return _sh("ip", "netns", "exec", ns, sys.executable, "-c", CONNECT, dst, str(port)).strip()


def _counter(ns: str, name: str) -> int:
    data = json.loads(_sh("ip", "netns", "exec", ns, "nft", "-j", "list", "counter", "inet", "cloudctl_gw", name))
    return next(item["counter"]["packets"] for item in data["nftables"] if "counter" in item)


def test_kernel_verdicts_match_query(lab, make_policy, lab_dict):
    sem = build_semantics(make_policy(lab_dict))
    cases = [("portal", "172.30.0.10", "10.10.0.5", 443), ("portal", "172.30.0.10", "10.10.0.5", 8080),
             ("inet", "198.51.100.20", "10.10.0.5", 443)]
    for host, src, dst, port in cases:
        expected = query_flow(sem, src, dst, "tcp", port, AT).verdict
        assert _connect(lab[host], dst, port) == ("open" if expected == "allow" else "closed"), (src, dst, port)
    assert _counter(lab["gw"], "pub_citizen-https") >= 1
    assert _counter(lab["gw"], "forward_dropped") >= 2
