"""Faults under load: real `cloudctl serve` replicas behind Debian's HAProxy on a private
PostgreSQL, a few real agents (`cloudctl agent run`, spooling) and wrk (benchmarks/fleet.lua)
for volume.

- One of two replicas is killed (SIGKILL, workers and all) mid-run: the survivor takes over,
  no heartbeat is lost (wrk's counted from the store's per-agent counters; the agents' rounds
  each stored exactly once, in order).
- PostgreSQL is restarted mid-run: while it is away the API answers 503 (and /readyz too), the
  same server processes recover without a restart, the agents replay their spools, and every
  heartbeat wrk sent was either stored or answered with an error (none acknowledged and lost).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from cloudctl.store import Store, open_store
from cloudctl.store.tables.agents import agent, agent_probe

from .fleetlab import (
    REPO,
    ApiServer,
    FleetAgent,
    HAProxy,
    PrivatePostgres,
    WrkRun,
    heartbeat_counters,
    lost_heartbeats,
    next_seqs,
    run_wrk,
    seed_fleet,
    wait_for,
)
from .test_ingest import TOWNS, seed

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(420)]


def _free_port(start: int) -> int:
    """A free port from `start` up (the fleet tests' range: 28500-28999)."""
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + 99}")


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres(None, _free_port(28500))
    pg.init()
    pg.start()
    yield pg
    pg.remove()


@pytest.fixture
def listener() -> Iterator[int]:
    """What the agents probe (TCP): accepts and closes."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    srv.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                srv.accept()[0].close()
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(5)
    srv.close()


class Agents:
    """A few real agents, one per town, a round every second through `api_url`: under the API's
    default rate limit (5/s, bursts of 30) a round's heartbeat leaves room for four spooled ones."""

    def __init__(self, store: Store, root: Path, api_url: str, probe_port: int, n: int = 3) -> None:
        self.dirs, self.procs = [], []  # type: ignore[var-annotated]
        with store.begin() as conn:
            conn.execute(insert(agent_probe), [
                {"division_code": t, "name": f"gw-{t}", "link_id": f"L{t[-1]}-0", "kind": "tcp",
                 "target": f"127.0.0.1:{probe_port}", "count": 1, "timeout_s": 1} for t in TOWNS])
        for i in range(n):
            state = root / f"agent{i}"
            config = root / f"agent{i}.json"
            config.write_text(json.dumps({
                "api_url": api_url, "state_dir": str(state), "interval_seconds": 1.0,
                "enrol_token": create_enrolment(store, Actor("op", "pytest"), TOWNS[i % 3], "access").token}))
            self.dirs.append(state)
            self.procs.append(subprocess.Popen(
                [sys.executable, "-c", "from cloudctl.cli.agent_run import run; run()", "--config", str(config)],
                stdout=subprocess.DEVNULL, stderr=(root / f"agent{i}.err").open("wb"),
                env={**os.environ, "PYTHONPATH": str(REPO)}))

    def ids(self) -> list[str]:
        out = []
        for d in self.dirs:
            wait_for(lambda d=d: (d / "credential.json").exists(), 60, "agent enrolment")
            out.append(json.loads((d / "credential.json").read_text())["agent_id"])
        return out

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()

    def rounds(self) -> list[int]:
        """Each agent's own count of rounds (its seq file)."""
        return [int((d / "spool" / "seq").read_text().split()[0]) for d in self.dirs]

    def spooled(self) -> int:
        """Records waiting in the agents' spools."""
        total = 0
        for d in self.dirs:
            for f in (d / "spool").glob("*.jsonl"):
                try:
                    total += f.read_bytes().count(b"\n")
                except OSError:  # acked and removed meanwhile
                    continue
        return total

    def diagnose(self, store: Store, ids: list[str]) -> str:
        errs = [(d.parent / f"{d.name}.err").read_text(errors="replace")[-1500:] for d in self.dirs]
        return f"store {_store_counts(store, ids)} rounds {self.rounds()} spooled {self.spooled()} stderr {errs}"

    def caught_up(self, store: Store, ids: list[str]) -> bool:
        """Within a round or two of each agent's own count (the agents keep running)."""
        counts = _store_counts(store, ids)
        return all(counts[i][1] >= r - 2 for i, r in zip(ids, self.rounds(), strict=True))


def _store_counts(store: Store, ids: list[str]) -> dict[str, tuple[int, int]]:
    with store.connect() as conn:
        return {r.agent_id: (int(r.heartbeats), int(r.last_seq)) for r in conn.execute(
            select(agent.c.agent_id, agent.c.heartbeats, agent.c.last_seq).where(agent.c.agent_id.in_(ids)))}


def _assert_agents_caught_up(store: Store, agents: Agents, ids: list[str]) -> None:
    """Every round each real agent ran reached the store exactly once and in order."""
    agents.stop()
    rounds = agents.rounds()
    counts = _store_counts(store, ids)
    assert [counts[i] for i in ids] == [(r, r) for r in rounds], (counts, rounds)
    assert min(rounds) >= 10


def _fleet(store: Store, n: int = 300) -> list[FleetAgent]:
    seed(store)
    return seed_fleet(store, TOWNS, n)


def _wrk_in_background(url: str, fleet: list[FleetAgent], store: Store, work: Path, seconds: float,
                       rate: float) -> tuple[threading.Thread, dict[str, object]]:
    box: dict[str, object] = {"before": heartbeat_counters(store)}

    def go() -> None:
        try:
            box["run"] = run_wrk(url, fleet, next_seqs(box["before"]), work, rate=rate,  # type: ignore[arg-type]
                                 seconds=seconds, threads=1, connections=16, timeout=5)
        except Exception as e:  # reported by the test
            box["error"] = e

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box


def test_killing_one_of_two_replicas_mid_run_loses_no_heartbeat(private_pg: PrivatePostgres, tmp_path: Path,
                                                                listener: int) -> None:
    url = private_pg.create_database("fault_replica")
    store = open_store(url)
    fleet = _fleet(store)
    replicas = [ApiServer(url, _free_port(28510 + 10 * i), 1, tmp_path / f"serve{i}.log") for i in range(2)]
    for r in replicas:
        r.start()
    lb = HAProxy(tmp_path / "haproxy", _free_port(28530), [r.port for r in replicas])
    lb.start()
    lb_url = f"http://127.0.0.1:{lb.port}"
    agents = Agents(store, tmp_path, lb_url, listener)
    try:
        ids = agents.ids()
        wait_for(lambda: min(c[0] for c in _store_counts(store, ids).values()) >= 3, 60, "agents' first heartbeats")
        thread, box = _wrk_in_background(lb_url, fleet, store, tmp_path / "wrk", seconds=12, rate=150)
        time.sleep(4)
        replicas[0].kill()  # a host gone mid-run, with whatever it had in flight
        killed_at = heartbeat_counters(store)
        thread.join(60)
        assert "error" not in box, box.get("error")
        run: WrkRun = box["run"]  # type: ignore[assignment]
        after = heartbeat_counters(store)
        lost, stored = lost_heartbeats(box["before"], after, run.sent)  # type: ignore[arg-type]
        assert lost == 0 and stored == sum(run.sent.values()) > 1000
        assert sum(after[a][0] - killed_at[a][0] for a in run.sent) > 500  # the survivor carried on
        assert not replicas[0].ready() and replicas[1].ready()
        wait_for(lambda: agents.caught_up(store, ids), 60, "agents delivering through the survivor")
        _assert_agents_caught_up(store, agents, ids)
    finally:
        agents.stop()
        lb.stop()
        for r in replicas:
            r.stop()
        store.dispose()


def test_postgres_restart_mid_run_503_then_recovery_without_restart(private_pg: PrivatePostgres, tmp_path: Path,
                                                                    listener: int) -> None:
    url = private_pg.create_database("fault_pg")
    store = open_store(url)
    fleet = _fleet(store)
    server = ApiServer(url, _free_port(28540), 1, tmp_path / "serve.log")  # the default rate limit
    server.start()
    pid = server.proc.pid  # type: ignore[union-attr]
    agents = Agents(store, tmp_path, server.base, listener)
    try:
        ids = agents.ids()
        wait_for(lambda: min(c[0] for c in _store_counts(store, ids).values()) >= 3, 60, "agents' first heartbeats")
        thread, box = _wrk_in_background(server.base, fleet, store, tmp_path / "wrk", seconds=16, rate=150)
        time.sleep(4)
        store.dispose()
        private_pg.stop("fast")  # the store goes away mid-run
        try:
            probe = fleet[0]
            answer = httpx.post(f"{server.base}/v1/agents/{probe.agent_id}/heartbeats", timeout=10,
                                headers={"Authorization": f"Bearer {probe.credential}"},
                                json={"seq": 10**9, "results": []})
            assert answer.status_code == 503, answer.text
            assert httpx.get(f"{server.base}/readyz", timeout=10).status_code == 503
            assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200  # alive all along
            wait_for(lambda: agents.spooled() >= 6, 30, "agents spooling while the store is away")
        finally:
            time.sleep(2)
            private_pg.start()
        wait_for(server.ready, 60, "/readyz once PostgreSQL is back")
        assert server.proc.pid == pid and server.proc.poll() is None  # recovered, not restarted
        thread.join(60)
        assert "error" not in box, box.get("error")
        run: WrkRun = box["run"]  # type: ignore[assignment]
        after = heartbeat_counters(store)
        lost, stored = lost_heartbeats(box["before"], after, run.sent)  # type: ignore[arg-type]
        refused = sum(n for code, n in run.result["statuses"].items() if code != "200")
        refused += sum(run.result["errors"].values())
        assert stored > 500 and refused > 0
        assert lost <= refused  # no heartbeat answered 200 was lost; the refused ones the sender retries
        try:
            wait_for(lambda: agents.caught_up(store, ids), 60, "agents replaying their spools")
        except AssertionError as e:
            raise AssertionError(f"{e}: {agents.diagnose(store, ids)}") from e
        _assert_agents_caught_up(store, agents, ids)
    finally:
        agents.stop()
        server.stop()
        store.dispose()
