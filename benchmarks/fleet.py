#!/usr/bin/env python3
"""The national agent fleet (issue 12): N agents' heartbeats driven by wrk against `cloudctl serve`.

    python benchmarks/fleet.py [--agents 45000] [--rate 3000] [--seconds 30] [--max]
                               [--configs sqlite-1,pg-1,pg-2,pg-4,lb-2] [--connections 1024]

Enrols N agents (default 45,000, over the shipped townships, each with its own credential and
1-3 links; the fleet in steady state: every link has reported before, so audit records come
from the flips wrk makes, 0.2 % of heartbeats, not from first reports) in an SQLite store and
in a private PostgreSQL (initdb in a temp dir, port 28100 or --port-base, settings in tests/fleet/fleetlab.py
PG_SETTINGS), then for each configuration starts the servers as a user would (`cloudctl serve
--workers N`; lb-2: two replicas behind HAProxy) and runs wrk with benchmarks/fleet.lua: every
agent its own credential, a rising seq, results for its 1-3 links, a few state changes. Each
run offers `--rate` heartbeats/s (and with --max, a second run as fast as the server answers:
the sustained maximum, and the 2-worker/1-worker ratio).

Reported per run: sustained heartbeats/s (stored by the store / seconds), p50/p99/max latency (wrk),
LOST = per agent, heartbeats sent minus the store's counter gain (never the generator's view),
refusals, and where the CPU went: the server's processes, PostgreSQL's, HAProxy's, wrk's, and
the rest of the machine (other work), from /proc over the run. The load average is printed
with the figures. The baseline is the issue's: 60-66 heartbeats/s (docs/benchmarks.md, before).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fleet.fleetlab import (  # noqa: E402
    ApiServer,
    HAProxy,
    PrivatePostgres,
    cpu_seconds,
    heartbeat_counters,
    lost_heartbeats,
    next_seqs,
    run_wrk,
    seed_fleet,
)

BASELINE_PER_SECOND = 66.0  # the measured SQLite capacity before (docs/benchmarks.md)
PORT_BASE = 28100  # default ports: PostgreSQL at the base, API replicas from base + 10, HAProxy at base + 90
PORTS = {"pg": PORT_BASE, "api": PORT_BASE + 10, "lb": PORT_BASE + 90}


@dataclass
class Row:
    config: str
    mode: str
    offered: float
    sustained: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    sent: int
    stored: int
    lost: int
    non_200: int
    errors: int
    cpu_server: float
    cpu_postgres: float
    cpu_haproxy: float
    cpu_wrk: float
    cpu_other: float
    wal_bytes: int
    seconds: float
    load: str


def machine_busy_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in fields]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wal_lsn(pg: PrivatePostgres | None) -> int:
    """PostgreSQL's WAL position in bytes (0 without PostgreSQL)."""
    if pg is None:
        return 0
    import psycopg

    with psycopg.connect(pg.url("postgres").replace("+psycopg", "")) as c:
        return int(c.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])  # type: ignore[index]


def townships(store: object) -> list[str]:
    from sqlalchemy import select

    from cloudctl.store.tables.divisions import division

    with store.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(select(division.c.code).where(division.c.level == 4).order_by(division.c.code))
                    .scalars())


def prepare(url: str, agents: int) -> tuple[object, list]:  # type: ignore[type-arg]
    from cloudctl.audit import Actor
    from cloudctl.divisions.shipped import load_shipped_divisions
    from cloudctl.store import open_store

    store = open_store(url)
    started = time.monotonic()
    load_shipped_divisions(store, Actor("fleet-benchmark", "benchmarks/fleet.py"))
    fleet = seed_fleet(store, townships(store), agents, running_since=time.time() - 3600)  # steady state
    print(f"  {url.split('://')[0]}: divisions + {agents:,} agents enrolled in {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return store, fleet


def measure(name: str, mode: str, store: object, fleet: list, base_url: str, work: Path,  # type: ignore[type-arg]
            args: argparse.Namespace, rate: float, servers: list, pg: PrivatePostgres | None,  # type: ignore[type-arg]
            lb: HAProxy | None) -> Row:
    before = heartbeat_counters(store)
    pids = [p for s in servers for p in s.pids()]
    pg_pids = pg.pids() if pg else []
    lb_pids = lb.pids() if lb else []
    wal0 = wal_lsn(pg)
    cpu0 = (cpu_seconds(pids), cpu_seconds(pg_pids), cpu_seconds(lb_pids), machine_busy_seconds())
    run = run_wrk(base_url, fleet, next_seqs(before), work / f"{name}-{mode}", rate=rate, seconds=args.seconds,
                  threads=args.threads, connections=args.connections, timeout=args.timeout)
    cpu1 = (cpu_seconds(pids), cpu_seconds(pg_pids), cpu_seconds(lb_pids), machine_busy_seconds())
    wal = wal_lsn(pg) - wal0
    after = heartbeat_counters(store)
    lost, stored = lost_heartbeats(before, after, run.sent)
    r, lat = run.result, run.result["latency_us"]
    server, postgres, haproxy = (cpu1[i] - cpu0[i] for i in range(3))
    other = max(0.0, (cpu1[3] - cpu0[3]) - server - postgres - haproxy - run.cpu_seconds)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return Row(name, mode, rate, stored / args.seconds, lat["p50"] / 1000, lat["p99"] / 1000, lat["max"] / 1000,
               sum(run.sent.values()), stored, lost, sum(n for c, n in r["statuses"].items() if c != "200"),
               sum(r["errors"].values()), server, postgres, haproxy, run.cpu_seconds, other, wal, args.seconds, load)


def run_config(name: str, store: object, fleet: list, db_url: str, work: Path,  # type: ignore[type-arg]
               args: argparse.Namespace, pg: PrivatePostgres | None) -> list[Row]:
    kind, n = name.split("-")
    servers: list[ApiServer] = []
    lb = None
    if kind == "lb":
        servers = [ApiServer(db_url, PORTS["api"] + i, 1, work / f"serve-{name}-{i}.log") for i in range(int(n))]
    else:
        servers = [ApiServer(db_url, PORTS["api"], int(n), work / f"serve-{name}.log")]
    for s in servers:
        s.start()
    try:
        if kind == "lb":
            lb = HAProxy(work / f"haproxy-{name}", PORTS["lb"], [s.port for s in servers])
            lb.start()
        url = f"http://127.0.0.1:{PORTS['lb']}" if lb else servers[0].base
        warm = argparse.Namespace(**{**vars(args), "seconds": 3.0})
        measure(name, "warm", store, fleet, url, work, warm, min(args.rate, 500.0), servers, pg, lb)
        rows = [measure(name, "rate", store, fleet, url, work, args, args.rate, servers, pg, lb)]
        if args.max:
            rows.append(measure(name, "max", store, fleet, url, work, args, 0.0, servers, pg, lb))
        return rows
    finally:
        if lb:
            lb.stop()
        for s in servers:
            s.stop()


def render(rows: list[Row]) -> str:
    head = ("| config | run | offered/s | **sustained/s** | p50 ms | p99 ms | max ms | sent | lost | non-200 | "
            "CPU s per 1,000 heartbeats: server · PostgreSQL · HAProxy · wrk · other work | WAL B/hb | load |")
    lines = [head, "|" + " --- |" * 13]
    for r in rows:
        per = 1000.0 / max(1, r.stored)
        offered = "max" if r.offered == 0 else f"{r.offered:,.0f}"
        lines.append(f"| {r.config} | {r.mode} | {offered} | **{r.sustained:,.0f}** | {r.p50_ms:.0f} | "
                     f"{r.p99_ms:.0f} | {r.max_ms:.0f} | {r.sent:,} | {r.lost} | {r.non_200 + r.errors} | "
                     f"{r.cpu_server * per:.2f} · {r.cpu_postgres * per:.2f} · {r.cpu_haproxy * per:.2f} · "
                     f"{r.cpu_wrk * per:.2f} · {r.cpu_other * per:.2f} | {r.wal_bytes / max(1, r.stored):,.0f} | "
                     f"{r.load} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=45_000)
    ap.add_argument("--rate", type=float, default=3000.0, help="heartbeats/s offered (the national fleet: 3,000)")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--max", action="store_true", help="also a closed-loop run per configuration")
    ap.add_argument("--configs", default="sqlite-1,pg-1,pg-2,pg-4,lb-2")
    ap.add_argument("--connections", type=int, default=1024,
                    help="wrk connections: enough that the generator can offer --rate at the latency goal "
                         "(Little's law: 3,000/s x 250 ms = 750 in flight), so it never waits for the server")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--port-base", type=int, default=PORT_BASE,
                    help="PostgreSQL on this port, API replicas from +10, HAProxy on +90 (a free range of 100)")
    ap.add_argument("--workdir", type=Path, help="keep logs here (default: a temp dir, removed)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    PORTS.update(pg=args.port_base, api=args.port_base + 10, lb=args.port_base + 90)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cloudctl-fleet-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}", file=sys.stderr)
    rows: list[Row] = []
    pg = None
    try:
        if any(c.startswith("sqlite") for c in configs):
            url = f"sqlite:///{work / 'fleet.sqlite3'}"
            store, fleet = prepare(url, args.agents)
            for c in (c for c in configs if c.startswith("sqlite")):
                rows += run_config(c, store, fleet, url, work, args, None)
                print(render(rows[-1:]), file=sys.stderr)
        if any(not c.startswith("sqlite") for c in configs):
            pg = PrivatePostgres(None, PORTS["pg"])  # its own dir under /tmp: the postgres user must reach it
            pg.init()
            pg.start()
            url = pg.create_database("fleet")
            store, fleet = prepare(url, args.agents)
            for c in (c for c in configs if not c.startswith("sqlite")):
                rows += run_config(c, store, fleet, url, work, args, pg)
                print(render(rows[-1:]), file=sys.stderr)
    finally:
        if pg:
            pg.remove()
        if not args.workdir:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.agents:,} agents, {args.seconds:.0f} s per run, wrk -t{args.threads} -c{args.connections}; "
          f"load after: {Path('/proc/loadavg').read_text().strip()}\n")
    print(render(rows))
    best = {r.config: r.sustained for r in rows if r.mode == ("max" if args.max else "rate")}
    if "pg-1" in best and "pg-2" in best:
        print(f"\nPostgreSQL 2 workers / 1 worker, sustained: {best['pg-2'] / max(best['pg-1'], 1e-9):.2f}x")
    top = max((r.sustained for r in rows), default=0.0)
    print(f"best sustained {top:,.0f}/s = {top / BASELINE_PER_SECOND:.1f}x the {BASELINE_PER_SECOND:.0f}/s measured "
          "before (docs/benchmarks.md)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 1 if any(r.lost for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
