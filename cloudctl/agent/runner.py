"""The agent's loop: pull probe targets, probe, heartbeat; spool when the API is away.

I/O is injected: a Transport talks to the central API, a Spool holds what could not be
delivered, and `stop` (set on SIGTERM) ends the loop cleanly between rounds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cloudctl.agent.probes import ProbeResult, ProbeTarget, run_probe
from cloudctl.agent.spool import Spool


class Unreachable(Exception):
    """The central API could not be reached (connection error, timeout, 5xx)."""


class Transport(Protocol):
    def fetch_targets(self) -> list[ProbeTarget]: ...

    def send_heartbeats(self, records: Sequence[dict[str, Any]]) -> None: ...


@dataclass
class AgentState:
    """What the local /metrics shows: the last round and delivery counters."""

    seq: int = 0
    rounds: int = 0
    last_results: list[ProbeResult] = field(default_factory=list)
    delivered: int = 0
    spooled: int = 0
    api_up: bool = False
    last_round_ts: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Agent:
    def __init__(self, transport: Transport, spool: Spool, *, interval_s: float = 15.0,
                 max_workers: int = 8, clock: Callable[[], float] = time.time,
                 probe: Callable[[ProbeTarget], ProbeResult] = run_probe) -> None:
        self.transport = transport
        self.spool = spool
        self.interval_s = interval_s
        self.clock = clock
        self.probe = probe
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="probe")
        self.targets: list[ProbeTarget] = []
        self.state = AgentState()
        self.stop = threading.Event()
        # seq keeps rising across restarts, so the API can drop replayed duplicates by seq
        self.seq_file = spool.dir / "seq"
        self.state.seq = _read_int(self.seq_file)

    def _refresh_targets(self) -> None:
        with contextlib.suppress(Unreachable):  # else keep probing the last known targets
            self.targets = self.transport.fetch_targets()

    def run_round(self) -> dict[str, Any]:
        """Probe every target once, then deliver spooled records (oldest first) and this one."""
        self._refresh_targets()
        results = list(self.pool.map(self.probe, self.targets))
        with self.state.lock:
            self.state.seq += 1
            self.state.rounds += 1
            self.state.last_results = results
            self.state.last_round_ts = self.clock()
            seq = self.state.seq
        _write_int(self.seq_file, seq)
        record = {"seq": seq, "ts": self.state.last_round_ts, "results": [r.to_json() for r in results]}
        self._deliver(record)
        return record

    def _deliver(self, record: dict[str, Any]) -> None:
        try:
            for segment, batch in self.spool.batches():
                self.transport.send_heartbeats(batch)
                self.spool.ack(segment)
                self.state.delivered += len(batch)
            self.transport.send_heartbeats([record])
            self.state.delivered += 1
            self.state.api_up = True
        except Unreachable:
            self.spool.append(record)
            self.state.spooled += 1
            self.state.api_up = False

    def run_forever(self, *, max_rounds: int | None = None) -> None:
        """Rounds every interval until stop is set (SIGTERM) or max_rounds is reached."""
        rounds = 0
        while not self.stop.is_set():
            started = time.monotonic()
            self.run_round()
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                break
            self.stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        self.pool.shutdown(wait=True)


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _write_int(path: Path, value: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(value))
    tmp.replace(path)
