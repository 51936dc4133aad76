"""Sequence numbers never go backwards: the agent (HttpTransport, Spool, Agent) against the real
API and store in-process. Lost or stale agent state resumes above the API's last_seq; nothing
is discarded as a duplicate, and a duplicate is never counted as delivered.

The API being away is a real refused connection; the only injected faults are a lost answer
and a config endpoint that fails while heartbeats get through (a real API will not produce
either on demand)."""

from __future__ import annotations

import shutil
import socket
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from cloudctl.agent.probes import ProbeResult, ProbeTarget
from cloudctl.agent.runner import Agent, Unreachable
from cloudctl.agent.spool import Spool
from cloudctl.agent.stats import round_stats
from cloudctl.agent.transport import HttpTransport
from cloudctl.api.app import ApiSettings, create_app
from cloudctl.api.registry import create_enrolment
from cloudctl.audit import Actor
from cloudctl.store import Store
from cloudctl.store.tables.agents import agent, agent_probe, link_status
from tests.monitoring.conftest import seed

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOWN = "110101001"


def _probe(t: ProbeTarget) -> ProbeResult:  # the probe itself is not under test here
    return ProbeResult(t.name, t.kind, t.target, t.link_id, True, round_stats([0.001]))


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture
def central(sqlite_store: Store) -> dict[str, Any]:
    seed(sqlite_store)
    with sqlite_store.begin() as conn:
        conn.execute(insert(agent_probe).values(division_code=TOWN, name="gw", link_id="L-ASH", kind="tcp",
                                                target="10.0.0.1:443", count=1, timeout_s=1))
    app = create_app(sqlite_store, ApiSettings(process_metrics=False, rate_per_second=1000, rate_burst=1000))
    token = create_enrolment(sqlite_store, Actor("op"), TOWN, "access").token
    return {"store": sqlite_store, "app": app, "token": token}


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: connections are refused


class Host:
    """One agent host: its state directory, and the agent process's objects (rebuilt on restart)."""

    def __init__(self, central: dict[str, Any], state_dir: Path, clock: Clock) -> None:
        self.central, self.state_dir, self.clock = central, state_dir, clock
        self.start()

    def start(self) -> None:
        self.transport = HttpTransport("http://testserver", self.state_dir, token=self.central["token"])
        self.online()
        self.agent = Agent(self.transport, Spool(self.state_dir / "spool"), clock=self.clock, probe=_probe)
        if (last := self.transport.ensure_enrolled()) is not None:
            self.agent.observe_last_seq(last)

    def online(self) -> None:
        self.transport.client = TestClient(self.central["app"], base_url="http://testserver")

    def offline(self) -> None:
        self.transport.client = httpx.Client(base_url=f"http://127.0.0.1:{_refused_port()}", timeout=2)

    def rounds(self, n: int) -> list[dict[str, Any]]:
        return [self.agent.run_round() for _ in range(n)]


def _stored(store: Store) -> tuple[int, int, float]:
    with store.connect() as conn:
        beats, last = conn.execute(select(agent.c.heartbeats, agent.c.last_seq)).one()
        checked = conn.execute(select(link_status.c.checked_ts).where(link_status.c.link_id == "L-ASH")).scalar()
    return int(beats), int(last), float(checked)


def test_a_wiped_spool_resumes_above_the_api(central: dict[str, Any], tmp_path: Path) -> None:
    host = Host(central, tmp_path / "state", Clock())
    sent = host.rounds(5)
    assert _stored(central["store"]) == (5, 5, sent[-1]["ts"])
    shutil.rmtree(tmp_path / "state" / "spool")  # the operator "recovers" by deleting the spool (and seq)
    host.start()  # the agent restarts with its counter gone
    assert host.agent.state.seq == 0 and not host.agent.synced
    sent += host.rounds(3)
    beats, last, checked = _stored(central["store"])
    assert (beats, last) == (8, 8) and checked == sent[-1]["ts"]  # link status follows, not frozen
    state = host.agent.state
    assert (state.delivered, state.duplicates, state.resyncs, state.seq) == (3, 0, 1, 8)


def test_records_numbered_while_away_with_a_lost_counter_are_renumbered(central: dict[str, Any],
                                                                         tmp_path: Path) -> None:
    host = Host(central, tmp_path / "state", Clock())
    sent = host.rounds(4)
    (tmp_path / "state" / "spool" / "seq").unlink()  # the counter alone is lost
    host.offline()
    host.start()
    host.offline()
    sent += host.rounds(3)  # spooled, numbered 1..3 blindly: never sent while unsynced
    assert [int(r["seq"]) for _, b in host.agent.spool.batches() for r in b] == [1, 2, 3]
    host.online()
    sent += host.rounds(1)
    beats, last, checked = _stored(central["store"])
    assert (beats, last) == (8, 8) and checked == sent[-1]["ts"]
    assert host.agent.state.delivered == 4 and host.agent.state.duplicates == 0
    assert len(host.agent.spool) == 0


def test_a_stale_counter_from_a_backup_resumes_above_the_api(central: dict[str, Any], tmp_path: Path) -> None:
    host = Host(central, tmp_path / "state", Clock())
    host.rounds(2)
    backup = tmp_path / "backup"
    shutil.copytree(tmp_path / "state", backup)
    host.rounds(4)
    shutil.rmtree(tmp_path / "state")
    shutil.copytree(backup, tmp_path / "state")  # restored: seq says 2, the API has seen 6
    host.start()
    assert host.agent.synced and host.agent.state.seq == 2
    host.rounds(2)
    assert _stored(central["store"])[:2] == (8, 8)
    assert host.agent.state.resyncs == 1 and host.agent.state.duplicates == 0


def test_a_duplicate_above_the_counter_renumbers_when_config_is_unavailable(central: dict[str, Any],
                                                                            tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    host = Host(central, tmp_path / "state", Clock())
    host.rounds(5)
    (tmp_path / "state" / "spool" / "seq").write_text("2")  # stale, and the config will not tell
    host.start()

    def config_down() -> Any:
        raise Unreachable("injected: GET config fails")

    monkeypatch.setattr(host.transport, "fetch_config", config_down)
    host.rounds(1)  # seq 3 -> duplicate with last_seq 5 -> renumbered to 6 and sent again
    assert _stored(central["store"])[:2] == (6, 6)
    assert (host.agent.state.delivered, host.agent.state.duplicates, host.agent.state.resyncs) == (1, 0, 1)


def test_a_resent_record_whose_answer_was_lost_is_a_duplicate_not_a_delivery(central: dict[str, Any],
                                                                             tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    host = Host(central, tmp_path / "state", Clock())
    host.rounds(2)
    real_send = host.transport.send_heartbeat

    def answer_lost(record: dict[str, Any]) -> Any:
        real_send(record)  # the API applies it ...
        raise Unreachable("injected: the answer was lost")  # ... and the agent never hears

    monkeypatch.setattr(host.transport, "send_heartbeat", answer_lost)
    host.rounds(1)
    assert host.agent.state.spooled == 1 and len(host.agent.spool) == 1
    monkeypatch.setattr(host.transport, "send_heartbeat", real_send)
    host.rounds(1)  # resends seq 3 (duplicate), then seq 4
    assert _stored(central["store"])[:2] == (4, 4)
    assert (host.agent.state.delivered, host.agent.state.duplicates) == (3, 1)
    assert len(host.agent.spool) == 0


def test_the_config_is_asked_once_per_refresh_period_not_every_round(central: dict[str, Any], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    host = Host(central, tmp_path / "state", Clock())
    asked = []
    real_fetch = host.transport.fetch_config

    def counted() -> Any:
        asked.append(1)
        return real_fetch()

    monkeypatch.setattr(host.transport, "fetch_config", counted)
    host.rounds(5)
    assert len(asked) == 1 and _stored(central["store"])[:2] == (5, 5)  # heartbeats need no config
    host.agent.config_every_s = 0.0  # the period has passed
    host.rounds(2)
    assert len(asked) == 3 and host.agent.state.delivered == 7
