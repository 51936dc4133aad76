"""Real parts for fleet tests and benchmarks/fleet.py: a private PostgreSQL (initdb in a temp dir,
own port, tuned; started, restarted and stopped by its user), `cloudctl serve` replicas, HAProxy
in front of them, a fleet of enrolled agents, and wrk driving their heartbeats (benchmarks/fleet.lua).

Never touches the shared Debian cluster on 5432. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
LUA = Path(os.environ.get("FLEET_LUA", REPO / "benchmarks" / "fleet.lua"))
PG_BIN = Path("/usr/lib/postgresql")

# Settings of the private PostgreSQL (docs/scale.md explains them). Durability is not traded:
# fsync, synchronous_commit and full_page_writes stay on; a heartbeat batch waits for its WAL flush.
PG_SETTINGS = {
    "shared_buffers": "512MB", "effective_cache_size": "4GB", "work_mem": "16MB",
    "maintenance_work_mem": "256MB", "wal_buffers": "64MB", "max_wal_size": "8GB", "min_wal_size": "1GB",
    "checkpoint_timeout": "30min", "checkpoint_completion_target": "0.9", "wal_compression": "lz4",
    "max_connections": "300", "jit": "off", "synchronous_commit": "on", "fsync": "on",
    "autovacuum_vacuum_scale_factor": "0.02", "autovacuum_vacuum_cost_limit": "2000",
    "autovacuum_naptime": "10s", "log_min_messages": "warning", "listen_addresses": "127.0.0.1",
}


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _pg_bin(name: str) -> str:
    versions = sorted((p for p in PG_BIN.iterdir() if (p / "bin" / name).exists()), key=lambda p: int(p.name))
    if not versions:
        raise RuntimeError(f"no PostgreSQL {name}: run scripts/install-deps (Debian postgresql)")
    return str(versions[-1] / "bin" / name)


def _as_postgres() -> dict[str, str]:
    """Popen arguments that run PostgreSQL's programs as `postgres` when we are root (it refuses root)."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


class PrivatePostgres:
    """One PostgreSQL server of our own: `start()`, `stop()`, `restart()`, `url(db)`, `pids()`."""

    def __init__(self, root: Path | None, port: int, settings: dict[str, str] | None = None) -> None:
        # its own directory right under /tmp by default: the `postgres` user must reach it, and
        # pytest's temporary directories are private to root
        self.root = root or Path(tempfile.mkdtemp(prefix="cloudctl-pg-"))
        self.port = port
        self.data, self.sock = self.root / "pgdata", self.root / "pgsock"
        self.settings = {**PG_SETTINGS, **(settings or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        subprocess.run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120, cwd="/", **_as_postgres())

    def start(self) -> None:
        opts = [f"-c{k}={v}" for k, v in self.settings.items()]
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 - the server's log for its lifetime
        self.proc = subprocess.Popen([_pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
                                      "-k", str(self.sock), *opts], stdout=log, stderr=log, start_new_session=True,
                                     cwd="/", **_as_postgres())
        wait_for(self.ready, 60, f"private PostgreSQL on port {self.port}")

    def ready(self) -> bool:
        r = subprocess.run([_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True,
                           timeout=10)
        return r.returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """Stop it (`fast`: roll back sessions; `immediate`: as if the server crashed)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal({"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode])
        self.proc.wait(120)

    def restart(self, down_seconds: float = 0.0, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def pids(self) -> list[int]:
        return _tree(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of these processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class ApiServer:
    """`cloudctl serve` as a user starts it (one replica, --workers N)."""

    def __init__(self, db_url: str, port: int, workers: int = 1, log: Path | None = None,
                 extra: Sequence[str] = ()) -> None:
        self.db_url, self.port, self.workers, self.log, self.extra = db_url, port, workers, log, list(extra)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> None:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cloudctl", "--db", self.db_url, "serve", "--port", str(self.port),
             "--workers", str(self.workers), "--log-level", "warning", *self.extra],
            stdout=out, stderr=out, start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        if wait:
            wait_for(self.ready, 120, f"cloudctl serve on {self.port} /readyz")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def pids(self) -> list[int]:
        return _tree(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def kill(self) -> None:
        """SIGKILL to the whole replica (its workers too): a crashed host."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class HAProxy:
    """Debian's HAProxy balancing replicas; routes only to those whose /readyz answers 200.

    Heartbeats are idempotent (a seq is applied once), so a request that fails on a dead replica
    before any answer is retried on the other one (`retry-on`, `option redispatch`)."""

    def __init__(self, root: Path, port: int, backends: Sequence[int]) -> None:
        self.root, self.port, self.backends = root, port, list(backends)
        self.proc: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        servers = "\n".join(f"    server api{i} 127.0.0.1:{p} check inter 500ms fall 2 rise 2"
                            for i, p in enumerate(self.backends))
        return f"""global
    maxconn 4000
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout 503
    option http-keep-alive
frontend api
    bind 127.0.0.1:{self.port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
{servers}
"""

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        cfg = self.root / "haproxy.cfg"
        cfg.write_text(self.config())
        subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], check=True, capture_output=True, timeout=30)
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.root / "haproxy.log", "ab"),  # noqa: SIM115
                                     start_new_session=True)

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 60, "haproxy to route to a ready replica")

    def pids(self) -> list[int]:
        return _tree(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


@dataclass(frozen=True)
class FleetAgent:
    agent_id: str
    credential: str
    division_code: str
    links: tuple[str, ...]


def seed_fleet(store: object, towns: Sequence[str], n_agents: int, actor_name: str = "fleet-benchmark", *,
               running_since: float | None = None) -> list[FleetAgent]:
    """N active agents spread over `towns` (existing divisions), each with its own credential and
    1-3 links of its town (the town gets 3 links); one audited enrolment per agent, in bulk.
    `running_since` (epoch seconds): the fleet has been reporting since then, so every link
    already has a status (up) and a heartbeat changes state only when a link flips, as in
    steady operation; without it every agent's first heartbeat reports its links for the
    first time (an audit record each)."""
    from sqlalchemy import insert, select

    from cloudctl.api import credentials as cred
    from cloudctl.audit import Actor, Change, record_changes
    from cloudctl.store.tables.agents import agent
    from cloudctl.store.tables.coverage import link

    actor = Actor(actor_name, "seed_fleet")
    agents, rows, now = [], [], "2026-01-01T00:00:00+00:00"
    for i in range(n_agents):
        town = towns[i % len(towns)]
        agent_id = "agt-" + secrets.token_hex(8)
        credential = cred.new_secret(cred.CREDENTIAL, agent_id)
        agents.append(FleetAgent(agent_id, credential, town, tuple(f"FL{town}-{k}" for k in range(1 + i % 3))))
        rows.append({"agent_id": agent_id, "division_code": town, "role": "access", "state": "active",
                     "credential_hash": cred.hash_secret(credential), "created_at": now, "created_by": actor_name,
                     "enrolled_at": now})
    used = sorted({a.division_code for a in agents})
    with store.begin() as conn:  # type: ignore[attr-defined]
        have = set(conn.execute(select(link.c.link_id).where(link.c.link_id.like("FL%"))).scalars())
        new_links = [{"link_id": f"FL{t}-{k}", "division_code": t, "link_type": "fiber", "bandwidth_mbps": 100.0,
                      "activated_on": date(2020, 1, 1)} for t in used for k in range(3) if f"FL{t}-{k}" not in have]
        for start in range(0, len(new_links), 5000):
            conn.execute(insert(link), new_links[start:start + 5000])
        for start in range(0, len(rows), 5000):
            conn.execute(insert(agent), rows[start:start + 5000])
        if running_since is not None:
            from cloudctl.store.tables.agents import link_status

            have_status = set(conn.execute(select(link_status.c.link_id)).scalars())
            status = [{"link_id": f"FL{t}-{k}", "division_code": t, "agent_id": first[t], "up": 1,
                       "checked_ts": running_since, "changed_ts": running_since, "loss_ratio": 0.0}
                      for first in [{a.division_code: a.agent_id for a in reversed(agents)}]
                      for t in used for k in range(3) if f"FL{t}-{k}" not in have_status]
            for start in range(0, len(status), 5000):
                conn.execute(insert(link_status), status[start:start + 5000])
        record_changes(conn, [Change(actor, "enrol", "agent", a.agent_id, None,
                                     {"division": a.division_code, "role": "access", "state": "active"})
                              for a in agents])
    return agents


def heartbeat_counters(store: object) -> dict[str, tuple[int, int]]:
    """agent_id -> (heartbeats stored, last seq): the store's per-agent counters."""
    from sqlalchemy import select

    from cloudctl.store.tables.agents import agent

    with store.connect() as conn:  # type: ignore[attr-defined]
        return {r.agent_id: (int(r.heartbeats), int(r.last_seq))
                for r in conn.execute(select(agent.c.agent_id, agent.c.heartbeats, agent.c.last_seq))}


@dataclass
class WrkRun:
    result: dict  # type: ignore[type-arg]  # FLEET-RESULT of fleet.lua: latency, statuses, errors
    sent: dict[str, int]  # heartbeats sent per agent
    cpu_seconds: float  # the generator's own CPU
    wall_seconds: float


def run_wrk(url: str, agents: Sequence[FleetAgent], next_seq: dict[str, int], work: Path, *, rate: float,
            seconds: float, threads: int = 2, connections: int = 64, timeout: float = 5.0,
            flip_ratio: float = 0.002) -> WrkRun:
    """wrk with benchmarks/fleet.lua: `seconds` of heartbeats at `rate`/s (0: closed loop)."""
    work.mkdir(parents=True, exist_ok=True)
    agents_file, sent_file = work / "agents.txt", work / "sent.txt"
    agents_file.write_text("".join(f"{a.agent_id} {a.credential} {next_seq.get(a.agent_id, 1)} {','.join(a.links)}\n"
                                   for a in agents))
    sent_file.unlink(missing_ok=True)
    duration = int(seconds + timeout + 2)
    cmd = ["wrk", "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{duration}s",
           "--timeout", f"{int(timeout)}s", "--latency", "-s", str(LUA), url, str(agents_file), str(sent_file),
           str(rate), str(seconds), str(threads), str(flip_ratio)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    line = next((x for x in out.splitlines() if x.startswith("FLEET-RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err[-2000:]} {out[-2000:]}")
    sent = {}
    for row in sent_file.read_text().splitlines():
        agent_id, n = row.split()
        sent[agent_id] = sent.get(agent_id, 0) + int(n)
    return WrkRun(json.loads(line.split(" ", 1)[1]), sent, usage.ru_utime + usage.ru_stime, wall)


def lost_heartbeats(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
                    sent: dict[str, int]) -> tuple[int, int]:
    """(lost, stored): per agent, heartbeats sent minus those its store counter gained."""
    lost = stored = 0
    for agent_id, n in sent.items():
        gained = after.get(agent_id, (0, 0))[0] - before.get(agent_id, (0, 0))[0]
        stored += gained
        lost += max(0, n - gained)
    return lost, stored


def next_seqs(counters: dict[str, tuple[int, int]]) -> dict[str, int]:
    return {agent_id: last + 1 for agent_id, (_n, last) in counters.items()}
