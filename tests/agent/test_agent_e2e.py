"""A real agent against a real `cloudctl serve`: enrol, probe, heartbeat; the API goes away,
the agent spools across its own restart, the API returns, nothing is lost and order holds."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from cloudctl.store import Store, open_store
from cloudctl.store.tables.agents import agent, agent_probe, link_status
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

TOWN = "110101001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def listener() -> Iterator[int]:
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


class Server:
    def __init__(self, db: str, port: int, limits: tuple[str, ...] = ("--rate", "1000", "--burst", "1000")) -> None:
        self.db, self.port, self.limits, self.proc = db, port, limits, None  # type: ignore[var-annotated]

    def start(self) -> None:
        self.proc = subprocess.Popen(  # type: ignore[assignment]
            [sys.executable, "-m", "cloudctl", "--db", self.db, "serve", "--port", str(self.port),
             *self.limits, "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(healthy, 60, "cloudctl serve /healthz")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def _start_agent(config: Path) -> subprocess.Popen[bytes]:
    code = "from cloudctl.cli.agent_run import run; run()"
    return subprocess.Popen([sys.executable, "-c", code, "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _metrics(port: int) -> dict[str, float]:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:  # the agent is between restarts
        return {}
    return {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
            if line and not line.startswith("#") and "{" not in line}


def seed_town(store: Store, probe_port: int, *, probe: str = "gw", count: int = 1) -> str:
    """TOWN with its parents, link L-1 and one TCP probe of 127.0.0.1:PROBE_PORT on it; an enrolment token."""
    with store.begin() as conn:
        conn.execute(insert(division), [
            {"code": "11", "name": "北京市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1101", "name": "市辖区", "level": 2, "parent_code": "11", "kind": "placeholder"},
            {"code": "110101", "name": "东城区", "level": 3, "parent_code": "1101", "kind": "district"},
            {"code": TOWN, "name": "东华门街道", "level": 4, "parent_code": "110101", "kind": "subdistrict"}])
        conn.execute(insert(link).values(link_id="L-1", division_code=TOWN, link_type="fiber", bandwidth_mbps=100,
                                         activated_on=date.today() - timedelta(days=30)))
        conn.execute(insert(agent_probe).values(division_code=TOWN, name=probe, link_id="L-1", kind="tcp",
                                                target=f"127.0.0.1:{probe_port}", count=count, timeout_s=1))
    return create_enrolment(store, Actor("op"), TOWN, "access").token


def test_agent_spools_across_restart_and_replays_in_order(tmp_path: Path, listener: int) -> None:
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    store = open_store(db)
    token = seed_town(store, listener, count=2)
    api_port, metrics_port = _free_port(), _free_port()
    config = tmp_path / "agent.yaml"
    config.write_text(json.dumps({"api_url": f"http://127.0.0.1:{api_port}", "state_dir": str(tmp_path / "agent"),
                                  "enrol_token": token, "interval_seconds": 0.3,
                                  "metrics_listen": f"127.0.0.1:{metrics_port}"}))
    server = Server(db, api_port)
    server.start()
    proc = _start_agent(config)
    try:
        def heartbeats() -> int:
            with store.connect() as conn:
                return int(conn.execute(select(agent.c.heartbeats)).scalar_one())

        _wait(lambda: heartbeats() >= 3, 60, "three heartbeats")
        with store.connect() as conn:
            assert conn.execute(select(link_status.c.up).where(link_status.c.link_id == "L-1")).scalar_one() == 1

        server.stop()  # the central API goes away
        _wait(lambda: _metrics(metrics_port).get("cloudctl_agent_heartbeats_spooled_total", 0) >= 3, 60,
              "records spooled while the API is away")
        proc.send_signal(signal.SIGTERM)  # the agent restarts while the API is still away
        assert proc.wait(30) == 0, proc.stderr.read().decode() if proc.stderr else ""
        spooled_before_restart = sum(1 for _ in (tmp_path / "agent" / "spool").glob("*.jsonl"))
        assert spooled_before_restart >= 1
        proc = _start_agent(config)
        _wait(lambda: _metrics(metrics_port).get("cloudctl_agent_heartbeats_spooled_total", 0) >= 2, 60,
              "more records spooled after the restart")

        server.start()  # the API returns: everything is replayed
        seq_file = tmp_path / "agent" / "spool" / "seq"

        def caught_up() -> bool:
            with store.connect() as conn:
                last = int(conn.execute(select(agent.c.last_seq)).scalar_one())
            return last >= int(seq_file.read_text()) - 1 and not list((tmp_path / "agent" / "spool").glob("*.jsonl"))

        _wait(caught_up, 60, "the spool to drain")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        final_seq = int(seq_file.read_text())
        with store.connect() as conn:
            row = conn.execute(select(agent.c.last_seq, agent.c.heartbeats)).one()
        # every round the agent ran reached the API exactly once, in order (seq 1..final)
        assert row.last_seq == final_seq
        assert row.heartbeats == final_seq
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
        store.dispose()
