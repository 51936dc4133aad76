"""An agent that was offline for a hundred rounds catches up under the API's default rate limit
(5 requests/s, bursts of 30): a real `cloudctl serve` and a real `cloudctl agent run`.

The bug this guards: delivery was cut short by a 429 after a burst, the segment stayed, and
every later round re-sent the records already delivered first; each was answered `duplicate` and
took a token, so the agent never got past them. Now the agent skips what the API's `last_seq`
says it has, and a duplicate costs the limiter a fifth of a token."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
from sqlalchemy import select

from cloudctl.store import Store, open_store
from cloudctl.store.tables.agents import agent

from .test_agent_e2e import TOWN, Server, _free_port, _metrics, _start_agent, _wait, listener, seed_town  # noqa: F401

OFFLINE_ROUNDS = 100


def _spooled(state: Path) -> int:
    total = 0
    for f in (state / "spool").glob("*.jsonl"):
        try:
            total += f.read_bytes().count(b"\n")
        except OSError:  # acked and removed meanwhile
            continue
    return total


def _stored(store: Store) -> tuple[int, int]:
    with store.connect() as conn:
        row = conn.execute(select(agent.c.heartbeats, agent.c.last_seq)).one()
    return int(row.heartbeats), int(row.last_seq)


def test_an_agent_offline_for_a_hundred_rounds_catches_up_under_the_default_rate_limit(
        tmp_path: Path, listener: int) -> None:  # noqa: F811
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    store = open_store(db)
    token = seed_town(store, listener)
    api_port, metrics_port = _free_port(), _free_port()
    state, config = tmp_path / "agent", tmp_path / "agent.yaml"

    def configure(interval: float) -> None:
        config.write_text(json.dumps({"api_url": f"http://127.0.0.1:{api_port}", "state_dir": str(state),
                                      "enrol_token": token, "interval_seconds": interval,
                                      "metrics_listen": f"127.0.0.1:{metrics_port}"}))

    def stop(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read().decode() if proc.stderr else ""

    server = Server(db, api_port, limits=())  # the default --rate 5 --burst 30
    server.start()
    configure(2.0)  # 10 tokens a round: its own heartbeat and 9 of the backlog (the config every 5 min)
    proc = _start_agent(config)
    try:
        _wait(lambda: _stored(store)[0] >= 1, 60, "the first heartbeat")
        server.stop()  # the API goes away ...
        stop(proc)
        configure(0.02)  # ... and the agent runs a hundred quick rounds meanwhile, spooling them
        proc = _start_agent(config)
        _wait(lambda: _spooled(state) >= OFFLINE_ROUNDS, 120, f"{OFFLINE_ROUNDS} rounds spooled")
        stop(proc)
        backlog = _spooled(state)
        assert backlog > 3 * 30  # several bursts' worth: one burst cannot carry it

        server.start()
        configure(2.0)
        proc = _start_agent(config)
        seq_file = state / "spool" / "seq"

        def caught_up() -> bool:
            return _stored(store)[1] >= int(seq_file.read_text()) - 1 and _spooled(state) == 0

        _wait(caught_up, 120, f"a backlog of {backlog} delivered")
        metrics = _metrics(metrics_port)
        stop(proc)
        final = int(seq_file.read_text())
        assert _stored(store) == (final, final)  # every round stored once, nothing lost
        assert metrics["cloudctl_agent_heartbeats_duplicate_total"] == 0  # none re-sent
        limited = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=10).text
        assert 'cloudctl_api_rejected_requests_total{reason="rate_limited"} 0' not in limited  # the limit bit
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
        store.dispose()
