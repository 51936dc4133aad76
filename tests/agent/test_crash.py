"""kill -9 of a real `cloudctl agent run` mid-write and mid-rename (a fault hook at each point of
cloudctl/agent/durable.py, tests/agent/crashing_agent.py), then at random instants, against a
real `cloudctl serve`. Afterwards the store's per-agent counters and the link's status match
exactly the rounds the agent committed to its spool: none lost, none applied twice, seq without
a gap; the credential survives a crash mid-rename; a torn spool line is skipped and counted."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from cloudctl.store import Store, open_store
from cloudctl.store.tables.agents import agent, link_status
from tests.agent.test_agent_e2e import Server, _free_port, _metrics, _wait, seed_town

REPO = Path(__file__).resolve().parents[2]
TOWN = "110101001"
# (durable point, file name part, which hit): each run of the agent dies there
SEAM_KILLS = [
    ("rename", "credential.json", 1),  # the credential is durable in its temporary file, not yet renamed
    ("append", ".jsonl", 3),  # half of the third round's spool line is written
    ("write", "seq", 2),  # half of the counter's temporary file
    ("rename", "seq", 2),
    ("renamed", "seq", 3),  # renamed, the directory not yet synced
    ("append", ".jsonl", 1),
]
RANDOM_KILLS = 10


class Rounds:
    """What the agent committed: spool appends that returned, and those a kill interrupted
    but whose whole line is in the spool."""

    def __init__(self, log: Path, spool: Path) -> None:
        self.log, self.spool = log, spool
        self.committed: set[float] = set()

    def settle(self) -> None:  # after a kill: the agent is dead, its files are what a restart sees
        attempts, done = [], set()
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            what, ts = line.split()
            (attempts.append if what == "attempt" else done.add)(float(ts))
        spooled = set()
        for seg in self.spool.glob("*.jsonl"):
            for raw in seg.read_bytes().split(b"\n"):
                try:
                    spooled.add(float(json.loads(raw)["ts"]))
                except (ValueError, KeyError, TypeError):
                    continue
        # a kill between an append and its `done` line: committed if its whole line is in the spool now
        self.committed |= done | {ts for ts in attempts if ts in spooled}


def _start(config: Path, log: Path, kill: tuple[str, str, int] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CCAA_ROUND_LOG": str(log), "PYTHONPATH": str(REPO)}
    if kill:
        env |= {"CCAA_KILL_POINT": kill[0], "CCAA_KILL_FILE": kill[1], "CCAA_KILL_AT": str(kill[2])}
    return subprocess.Popen([sys.executable, "-m", "tests.agent.crashing_agent", "--config", str(config)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stored(store: Store) -> tuple[int, int, float | None]:
    with store.connect() as conn:
        row = conn.execute(select(agent.c.heartbeats, agent.c.last_seq)).one()
        checked = conn.execute(select(link_status.c.checked_ts)).scalar()
    return int(row.heartbeats), int(row.last_seq), checked


def _seed(db: str, api_port: int) -> tuple[Store, str]:
    store = open_store(db)
    return store, seed_town(store, api_port, probe="api")  # a TCP probe of the API's own port: up while it runs


def test_kill_9_mid_write_and_mid_rename_loses_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    api_port, metrics_port = _free_port(), _free_port()
    store, token = _seed(db, api_port)
    state, log = tmp_path / "agent", tmp_path / "rounds.log"
    config = tmp_path / "agent.yaml"
    config.write_text(json.dumps({"api_url": f"http://127.0.0.1:{api_port}", "state_dir": str(state),
                                  "enrol_token": token, "interval_seconds": 0.05,
                                  "metrics_listen": f"127.0.0.1:{metrics_port}"}))
    rounds = Rounds(log, state / "spool")
    server = Server(db, api_port)
    server.start()
    proc = None
    try:
        for kill in SEAM_KILLS:
            proc = _start(config, log, kill)
            code = proc.wait(90)
            assert code == -signal.SIGKILL, (kill, code, proc.stderr.read().decode()[-3000:])  # type: ignore[union-attr]
            rounds.settle()
            if kill[1] == "credential.json":
                assert not (state / "credential.json").exists() and (state / "credential.json.tmp").exists()
            if kill[0] == "append" and kill[2] == 1:  # a torn line is the spool's last: the next start reads it
                proc = _start(config, log)
                _wait(lambda: _metrics(metrics_port).get("cloudctl_agent_spool_skipped_records_total", 0) >= 1, 60,
                      "the torn line skipped and counted on the agent's /metrics")
                assert proc.poll() is None  # running, not ended by the torn line
                proc.kill()
                proc.wait(30)
                rounds.settle()

        rng = random.Random(11)
        for _ in range(RANDOM_KILLS):  # and at instants nobody chose
            proc = _start(config, log)
            time.sleep(rng.uniform(0.6, 2.0))
            proc.kill()
            proc.wait(30)
            rounds.settle()

        proc = _start(config, log)  # the last run ends cleanly
        _wait(lambda: len(rounds.committed | _done(log)) >= len(rounds.committed) + 5, 60, "five more rounds")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
        rounds.settle()
        assert not list((state / "spool").glob("*.jsonl")), "a clean stop with the API up leaves the spool empty"

        heartbeats, last_seq, checked = _stored(store)
        committed = sorted(rounds.committed)
        assert len(committed) >= 20
        assert heartbeats == len(committed), (heartbeats, len(committed))  # none lost, none applied twice
        assert last_seq == heartbeats == int((state / "spool" / "seq").read_text())  # no seq skipped or reused
        assert checked == committed[-1]  # the link's status is the last committed round's
        with store.connect() as conn:
            assert conn.execute(select(link_status.c.up)).scalar() == 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        server.stop()
        store.dispose()


def _done(log: Path) -> set[float]:
    return {float(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("done ")}

