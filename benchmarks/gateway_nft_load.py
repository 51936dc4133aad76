"""Benchmark: load time of the 5,000-publication ruleset in a network namespace, and the cost per
new connection through it against an empty ruleset (goal: within 1.5x).

Namespaces (prefix ccgwb-, removed at the end): a client holding a portal address, the gateway
with interfaces named as in the policy, and a server holding a published service address. The
client opens connections one after the other to the published port; rounds alternate between
an empty ruleset, cloudctl's compiled ruleset (maps: constant cost per connection) and, for
context, Aerleon's rendering of the same policy (one linear rule per term). Needs root.

    python3 benchmarks/gateway_nft_load.py [--publications 5000] [--connections 4000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gateway_synth import aerleon_equivalent, synthetic_policy

from cloudctl.gateway.compile import compile_ruleset
from cloudctl.gateway.policy import Policy

AT = dt.date(2026, 11, 28)
PREFIX = f"ccgwb-{os.getpid()}-"
CLIENT, GATEWAY, SERVER = PREFIX + "c", PREFIX + "g", PREFIX + "s"

SERVER_CODE = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4096)
s.settimeout(120)
print("ready", flush=True)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.close()
"""

CLIENT_CODE = """
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
failures = 0
t0 = time.perf_counter()
for _ in range(count):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(2)
    try:
        c.connect((host, port))
    except OSError:
        failures += 1
    finally:
        c.close()
print(time.perf_counter() - t0, failures)
"""


def sh(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return result


def in_ns(ns: str, *args: str, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return sh("ip", "netns", "exec", ns, *args, **kw)


def pick_flow(data: dict) -> tuple[str, str, int]:
    """A published (portal address, public service address, tcp port): the last in the file, the worst
    case for a linear ruleset (for maps the position makes no difference)."""
    services = {s["name"]: s for s in data["services"]}
    portals = {p["name"]: p for p in data["portals"]}
    for pub in reversed(data["publications"]):
        svc = services[pub["service"]]
        if (pub.get("direction", "inbound") == "inbound" and not pub.get("expires") and svc["protocol"] == "tcp"
                and svc["address"].startswith("10.10.") and pub["ports"] == [443]):
            return portals[pub["portal"]]["addresses"][0], svc["address"], 443
    raise SystemExit("no suitable publication in the synthetic policy")


def build_topology(client_ip: str, server_ip: str) -> None:
    for ns in (CLIENT, GATEWAY, SERVER):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", "ccgwb-c0", "netns", CLIENT, "type", "veth", "peer", "name", "ccgw-dmz", "netns", GATEWAY)
    sh("ip", "link", "add", "ccgwb-s0", "netns", SERVER, "type", "veth", "peer", "name", "ccgw-pub", "netns", GATEWAY)
    in_ns(CLIENT, "ip", "addr", "add", f"{client_ip}/16", "dev", "ccgwb-c0")
    in_ns(SERVER, "ip", "addr", "add", f"{server_ip}/16", "dev", "ccgwb-s0")
    in_ns(GATEWAY, "ip", "addr", "add", "172.30.255.254/16", "dev", "ccgw-dmz")
    in_ns(GATEWAY, "ip", "addr", "add", "10.10.255.254/16", "dev", "ccgw-pub")
    for ns, dev in ((CLIENT, "ccgwb-c0"), (SERVER, "ccgwb-s0"), (GATEWAY, "ccgw-dmz"), (GATEWAY, "ccgw-pub")):
        in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(ns, "ip", "link", "set", "lo", "up")
    in_ns(CLIENT, "ip", "route", "add", "default", "via", "172.30.255.254")
    in_ns(SERVER, "ip", "route", "add", "default", "via", "10.10.255.254")
    in_ns(GATEWAY, "sysctl", "-qw", "net.ipv4.ip_forward=1")


def teardown() -> None:
    for ns in (CLIENT, GATEWAY, SERVER):
        pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
        for pid in pids:
            sh("kill", "-9", pid, check=False)
        sh("ip", "netns", "delete", ns, check=False)


def load(ruleset: Path | None) -> float:
    in_ns(GATEWAY, "nft", "flush", "ruleset")
    if ruleset is None:
        return 0.0
    t0 = time.perf_counter()
    in_ns(GATEWAY, "nft", "-f", str(ruleset))
    return time.perf_counter() - t0


def connect_round(server_ip: str, port: int, count: int) -> float:
    out = in_ns(CLIENT, sys.executable, "-c", CLIENT_CODE, server_ip, str(port), str(count), timeout=600).stdout
    seconds, failures = out.split()
    if int(failures):
        raise SystemExit(f"{failures} of {count} connections failed: the flow should be allowed")
    return float(seconds) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=4000, help="per ruleset, over all rounds")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    data = synthetic_policy(args.publications)
    client_ip, server_ip, port = pick_flow(data)
    logging.disable(logging.WARNING)
    from aerleon import api
    from aerleon.lib import naming

    aerleon_pol, definitions = aerleon_equivalent(data)
    defs = naming.Naming()
    defs.ParseDefinitionsObject(definitions, "")
    aerleon_text = api.Generate([aerleon_pol], defs)["gw_bench.nft"]
    with tempfile.TemporaryDirectory(prefix="ccgwb-") as tmp:
        ours = Path(tmp) / "cloudctl.nft"
        ours.write_text(compile_ruleset(Policy.model_validate(data), AT))
        linear = Path(tmp) / "aerleon.nft"
        linear.write_text(aerleon_text)
        server = None
        try:
            build_topology(client_ip, server_ip)
            server = subprocess.Popen(["ip", "netns", "exec", SERVER, sys.executable, "-c", SERVER_CODE, server_ip,
                                       str(port)], stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            load_times = [load(ours) for _ in range(5)]
            linear_load = [load(linear) for _ in range(3)]
            per_round = max(50, args.connections // args.rounds)
            cost: dict[str, list[float]] = {"empty": [], "cloudctl": [], "aerleon": []}
            connect_round(server_ip, port, 200)  # warm up
            for _ in range(args.rounds):
                for name, ruleset in (("empty", None), ("cloudctl", ours), ("aerleon", linear)):
                    load(ruleset)
                    cost[name].append(connect_round(server_ip, port, per_round))
            lines = len(ours.read_text().splitlines())
        finally:
            if server is not None:
                server.kill()
                server.wait(timeout=30)
            teardown()
    med = {k: statistics.median(v) for k, v in cost.items()}
    print(f"gateway nft benchmark: {args.publications} publications, flow {client_ip} -> {server_ip}:{port}, "
          f"{per_round * args.rounds} connections per ruleset in {args.rounds} alternating rounds")
    print(f"load cloudctl ruleset (nft -f, median of 5): {statistics.median(load_times) * 1000:8.1f} ms "
          f"({lines} lines)")
    print(f"load Aerleon linear ruleset (median of 3):    {statistics.median(linear_load) * 1000:8.1f} ms")
    for name in ("empty", "cloudctl", "aerleon"):
        print(f"per new connection, {name:9}: {med[name] * 1e6:8.1f} us median, {min(cost[name]) * 1e6:8.1f} us "
              "best round")
    print(f"ratio cloudctl / empty: {med['cloudctl'] / med['empty']:5.2f}x median, "
          f"{min(cost['cloudctl']) / min(cost['empty']):5.2f}x best rounds   (goal <= 1.5x)")
    print(f"ratio aerleon linear / empty: {med['aerleon'] / med['empty']:5.2f}x   (context)")


if __name__ == "__main__":
    main()
