"""The agent's loop: pull probe targets (every few minutes), probe, spool, heartbeat.

Every round's record is appended to the spool (fsynced) before it is sent — that append is the
round's commit point — and the spool is then delivered oldest first; a segment is removed once
the API has answered all its records. So a crash at any instant loses at most the round being
written, never one that was committed.

Sequence numbers never go backwards. The last one used is in `spool/seq` (written atomically
after the record it numbers is spooled); on start the counter is the larger of that file and
the spool's records. The API answers enrolment, the config and every heartbeat with the last
seq it has accepted (`last_seq`): when that is above the agent's own counter, or when
`spool/seq` is missing (state lost, or a first start), the agent renumbers what it has spooled
to follow it before sending anything, so nothing is discarded as a duplicate. A heartbeat the
API answers as a duplicate is counted as such, never as delivered.

Delivery skips the spooled records at or below the API's last_seq (heard with the config and
every heartbeat answer): the API has them (a segment cut short by a 429 or an outage, an answer
that was lost), and resending them would spend the agent's rate budget on duplicates every
round, so a long spool would never drain. A skipped record is counted as a duplicate unless
this process already heard its answer.

I/O is injected: a Transport talks to the central API, a Spool holds the records, and `stop`
(set on SIGTERM) ends the loop cleanly between rounds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cloudctl.agent import durable
from cloudctl.agent.probes import ProbeResult, ProbeTarget, run_probe
from cloudctl.agent.spool import Spool


class Unreachable(Exception):
    """The central API could not be reached (connection error, timeout, 5xx)."""


@dataclass(frozen=True)
class HeartbeatAck:
    accepted: bool
    duplicate: bool
    last_seq: int | None  # None: an API too old to say


class Transport(Protocol):
    def fetch_config(self) -> tuple[list[ProbeTarget], int | None]: ...

    def send_heartbeat(self, record: dict[str, Any]) -> HeartbeatAck: ...


@dataclass
class AgentState:
    """What the local /metrics shows: the last round and delivery counters."""

    seq: int = 0
    rounds: int = 0
    last_results: list[ProbeResult] = field(default_factory=list)
    delivered: int = 0  # accepted by the API
    duplicates: int = 0  # answered as already seen (sent before, its answer lost)
    spooled: int = 0  # rounds whose record stayed in the spool because the API was away
    resyncs: int = 0  # times the counter was moved up to the API's last_seq
    spool_skipped: int = 0  # spool lines that were not whole records (torn writes)
    spool_dropped: int = 0  # records dropped from a full spool
    api_up: bool = False
    last_round_ts: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Agent:
    def __init__(self, transport: Transport, spool: Spool, *, interval_s: float = 15.0,
                 config_every_s: float = 300.0, max_workers: int = 8, clock: Callable[[], float] = time.time,
                 probe: Callable[[ProbeTarget], ProbeResult] = run_probe) -> None:
        self.transport = transport
        self.spool = spool
        self.interval_s = interval_s
        self.config_every_s = config_every_s
        self.config_at: float | None = None  # time.monotonic() of the last config fetched
        self.clock = clock
        self.probe = probe
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="probe")
        self.targets: list[ProbeTarget] = []
        self.state = AgentState()
        self.stop = threading.Event()
        self.seq_file = spool.dir / "seq"
        self.api_last_seq: int | None = None  # the API's last accepted seq, as last heard
        self.answered_seq = 0  # spooled records up to here were answered (this process heard it)
        stored = _read_seq(self.seq_file)
        self.synced = stored is not None  # False: the counter must be taken from the API first
        self.state.seq = max(stored or 0, spool.max_seq())
        self._note_spool()

    def _note_spool(self) -> None:
        with self.state.lock:
            self.state.spool_skipped, self.state.spool_dropped = self.spool.skipped, self.spool.dropped

    def observe_last_seq(self, last_seq: int | None) -> None:
        """The API's last accepted seq: follow it when it is ahead of us or we lost our count."""
        if last_seq is None:  # an older API: go on with our own counter
            self.synced = True
            return
        self.api_last_seq = last_seq  # the latest word, not the largest: a store restored from a backup
        if self.synced and last_seq <= self.state.seq:
            return
        durable.remove(self.seq_file)  # until the renumbering is complete, a restart resyncs again
        before = self.state.seq
        last = self.spool.renumber(last_seq)
        _write_seq(self.seq_file, last)
        with self.state.lock:
            self.state.seq = last
            if last != before:
                self.state.resyncs += 1
        self.synced = True

    def _refresh_targets(self) -> None:
        """The probe targets, asked again every `config_every_s` (and each round until one answer
        came): a config request costs the API many heartbeats' work, and every heartbeat's answer
        carries last_seq anyway."""
        now = time.monotonic()
        if self.config_at is not None and now - self.config_at < self.config_every_s:
            return
        with contextlib.suppress(Unreachable):  # else keep probing the last known targets
            self.targets, last_seq = self.transport.fetch_config()
            self.config_at = now
            self.observe_last_seq(last_seq)

    def run_round(self) -> dict[str, Any]:
        """Probe every target once, spool the record, then deliver the spool (oldest first)."""
        self._refresh_targets()
        results = list(self.pool.map(self.probe, self.targets))
        now = self.clock()
        seq = self.state.seq + 1
        record = {"seq": seq, "ts": now, "results": [r.to_json() for r in results]}
        self.spool.append(record)  # the commit point: from here the round is not lost
        _write_seq(self.seq_file, seq)
        with self.state.lock:
            self.state.seq = seq
            self.state.rounds += 1
            self.state.last_results = results
            self.state.last_round_ts = now
        if self._deliver():
            self.state.api_up = True
        else:
            self.state.api_up = False
            self.state.spooled += 1
        self._note_spool()
        return record

    def _deliver(self) -> bool:
        """Send the spool in order; True when it is empty now. A duplicate answer whose last_seq
        is above our counter means our count went back: renumber and start over (once)."""
        if not self.synced:
            return False  # numbered blindly: wait for the API's last_seq (config or enrolment)
        for attempt in range(2):
            try:
                if self._send_spool(may_resync=attempt == 0):
                    return True
            except Unreachable:
                return False
        return False

    def _send_spool(self, *, may_resync: bool) -> bool:
        for segment, batch in self.spool.batches():
            for record in batch:
                seq = int(record["seq"])
                if self.api_last_seq is not None and seq <= self.api_last_seq:
                    if seq > self.answered_seq:  # the API has it, we never heard: its answer was lost
                        self.state.duplicates += 1
                    continue
                ack = self.transport.send_heartbeat(record)
                if ack.last_seq is not None and ack.last_seq > self.state.seq and may_resync:
                    self.observe_last_seq(ack.last_seq)  # our count went back: renumber, start over
                    return False
                if ack.last_seq is not None:
                    self.api_last_seq = ack.last_seq
                self.answered_seq = max(self.answered_seq, seq)
                if ack.accepted:
                    self.state.delivered += 1
                else:
                    self.state.duplicates += 1
            self.spool.ack(segment)
        return True

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


def _read_seq(path: Path) -> int | None:
    """The stored counter; None when missing or unreadable (unknown: take it from the API)."""
    data = durable.read_atomic(path, lambda b: b.endswith(b"\n") and b.strip().isdigit())
    if data is None or not data.strip().isdigit():
        return None
    return int(data)


def _write_seq(path: Path, value: int) -> None:
    durable.write_atomic(path, f"{value}\n".encode(), mode=0o644)  # the newline tells a whole write
