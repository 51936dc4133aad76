"""Load test: N simulated agents heartbeat every I seconds to a real `cloudctl serve`.

Reports p50/p99/max latency and checks that no heartbeat was lost (the store's per-agent
heartbeat counters add up to what was sent). Not a timed test; run it by hand:

    python benchmarks/agent_heartbeats.py --agents 1000 --interval 15 --duration 60 [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from cloudctl.store import open_store
from cloudctl.store.tables.agents import agent
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(db: str, n: int) -> list[str]:
    """n townships under one county, a link each, and an enrolment token each."""
    store = open_store(db)
    towns = [f"110101{i:03d}" for i in range(1, n + 1)] if n <= 999 else [f"11{i // 1000:04d}{i % 1000:03d}"
                                                                       for i in range(n)]
    counties = sorted({t[:6] for t in towns})
    with store.begin() as conn:
        conn.execute(insert(division), [{"code": "11", "name": "北京市", "level": 1, "parent_code": None,
                                         "kind": "municipality"}]
                     + [{"code": c[:4], "name": "市辖区", "level": 2, "parent_code": "11", "kind": "placeholder"}
                        for c in sorted({c[:4] for c in counties})]
                     + [{"code": c, "name": f"县{c}", "level": 3, "parent_code": c[:4], "kind": "county"}
                        for c in counties]
                     + [{"code": t, "name": f"镇{t}", "level": 4, "parent_code": t[:6], "kind": "town"}
                        for t in towns])
        conn.execute(insert(link), [{"link_id": f"L{t}", "division_code": t, "link_type": "fiber",
                                     "bandwidth_mbps": 100, "activated_on": date.today() - timedelta(days=9)}
                                    for t in towns])
    tokens = [create_enrolment(store, Actor("bench"), t, "access").token for t in towns]
    store.dispose()
    return tokens


async def run(api: str, tokens: list[str], interval: float, duration: float) -> tuple[list[float], int, int]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=api, timeout=30, limits=limits) as client:
        creds = []
        for tok in tokens:
            for _attempt in range(50):  # enrolments come from one address here: honour the rate limit
                r = await client.post("/v1/agents/enrol", json={"token": tok})
                if r.status_code != 429:
                    break
                await asyncio.sleep(0.05)
            r.raise_for_status()
            creds.append((r.json()["agent_id"], r.json()["credential"]))
        print(f"enrolled {len(creds)} agents", file=sys.stderr)
        latencies: list[float] = []
        errors = 0
        sent = 0

        tls = ssl.create_default_context()  # one context for all clients (building one costs ~20 ms)

        async def one(agent_id: str, credential: str) -> None:
            nonlocal errors, sent
            await asyncio.sleep(random.uniform(0, interval))  # agents are not synchronised
            seq = 0
            # one client per agent, as each agent is its own host (a shared client's pool would make
            # the load generator, not the server, the bottleneck: httpcore scans its pool per request)
            async with httpx.AsyncClient(base_url=api, timeout=60, verify=tls) as own:
                while time.monotonic() < end:
                    seq += 1
                    body = {"seq": seq, "sent_at": time.time(), "results": [
                        {"name": "gw", "kind": "tcp", "target": "10.0.0.1:443", "link_id": f"L{division_of[agent_id]}",
                         "up": True, "sent": 3, "received": 3, "loss_ratio": 0, "rtt_min_s": 0.001,
                         "rtt_avg_s": 0.002, "rtt_max_s": 0.003, "rtt_stddev_s": 0.0005}]}
                    t0 = time.perf_counter()
                    r = await own.post(f"/v1/agents/{agent_id}/heartbeats", json=body,
                                       headers={"Authorization": f"Bearer {credential}"})
                    latencies.append(time.perf_counter() - t0)
                    sent += 1
                    if r.status_code != 200:
                        errors += 1
                    await asyncio.sleep(interval)

        division_of: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=api) as c2:
            for agent_id, credential in creds:
                r = await c2.get(f"/v1/agents/{agent_id}/config", headers={"Authorization": f"Bearer {credential}"})
                division_of[agent_id] = r.json()["division"]
        print(f"fetched {len(division_of)} probe configurations; heartbeating for {duration:.0f} s", file=sys.stderr)
        end = time.monotonic() + duration
        await asyncio.gather(*(one(a, c) for a, c in creds))
        return latencies, sent, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=15.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--db", help="store URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cloudctl-load-"))
    db = args.db or f"sqlite:///{tmp / 'central.sqlite3'}"
    print(f"seeding {args.agents} agents in {db.split('@')[-1]} ...", file=sys.stderr)
    tokens = seed(db, args.agents)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cloudctl", "--db", db, "serve", "--port", str(port),
                               "--rate", "100", "--burst", "100", "--log-level", "warning",
                               "--heartbeat-interval", str(args.interval)])
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not become healthy")
            time.sleep(0.2)
        lat, sent, errors = asyncio.run(run(f"http://127.0.0.1:{port}", tokens, args.interval, args.duration))
    finally:
        server.terminate()
        server.wait(30)
    store = open_store(db)
    with store.connect() as conn:
        stored = int(conn.execute(select(func.coalesce(func.sum(agent.c.heartbeats), 0))).scalar_one())
    q = statistics.quantiles(lat, n=100)
    rate = sent / args.duration
    print(f"agents={args.agents} interval={args.interval}s duration={args.duration}s db={store.dialect}")
    print(f"heartbeats sent={sent} stored={stored} lost={sent - stored} errors={errors} ({rate:.1f}/s offered)")
    print(f"latency p50={q[49] * 1000:.1f} ms p99={q[98] * 1000:.1f} ms max={max(lat) * 1000:.1f} ms")
    print(f"ratio stored/sent = {stored / sent:.4f}")


if __name__ == "__main__":
    main()
