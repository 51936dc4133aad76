"""Heartbeats: an agent's probe results become link status. An agent reports only for links
of its own division; a replayed (already seen) sequence number is acknowledged, not applied.

Per link, several probes combine: up when any probe of the link got a reply; loss the mean,
RTT min of mins, mean of means, max of maxes and the largest stddev. An unchanged heartbeat
updates telemetry only; a heartbeat that changes a link's up/down state (or reports a link
for the first time) writes one summarising audit record in the same transaction.

The API ingests in batches (`HeartbeatIngest`: the heartbeats that arrive while one batch is
being written go together in the next, `api/ingest.py` applies a batch in one transaction);
each heartbeat is answered once its batch has committed. `record_heartbeat` applies one.
"""

from __future__ import annotations

import time
from typing import Any

from cloudctl.api.ingest import CredentialRejected, Heartbeat, HeartbeatOutcome, apply_heartbeats
from cloudctl.api.registry import AgentRecord
from cloudctl.availability.intervals import DEFAULT_SILENCE_S
from cloudctl.errors import CloudctlError, OperationFailed
from cloudctl.group_commit import AsyncGroupCommitter, Overloaded

__all__ = ["CredentialRejected", "Heartbeat", "HeartbeatIngest", "HeartbeatOutcome", "combine", "make_heartbeat",
           "record_heartbeat"]


def combine(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per link id: up, loss_ratio and RTT statistics combined over its probes (pure)."""
    per: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if link_id := r.get("link_id"):
            per.setdefault(link_id, []).append(r)
    out = {}
    for link_id, rs in per.items():
        if len(rs) == 1:  # the common case: one probe per link, its own figures
            r = rs[0]
            out[link_id] = {"up": int(bool(r.get("up"))), "loss_ratio": _number(r.get("loss_ratio")),
                            "rtt_min_seconds": _number(r.get("rtt_min_s")),
                            "rtt_avg_seconds": _number(r.get("rtt_avg_s")),
                            "rtt_max_seconds": _number(r.get("rtt_max_s")),
                            "rtt_stddev_seconds": _number(r.get("rtt_stddev_s"))}
            continue

        def vals(key: str, rs: list[dict[str, Any]] = rs) -> list[float]:
            return [float(r[key]) for r in rs if r.get(key) is not None]
        loss, mins, avgs, maxs, devs = (vals(k) for k in ("loss_ratio", "rtt_min_s", "rtt_avg_s", "rtt_max_s",
                                                           "rtt_stddev_s"))
        out[link_id] = {"up": int(any(bool(r.get("up")) for r in rs)),
                        "loss_ratio": sum(loss) / len(loss) if loss else None,
                        "rtt_min_seconds": min(mins) if mins else None,
                        "rtt_avg_seconds": sum(avgs) / len(avgs) if avgs else None,
                        "rtt_max_seconds": max(maxs) if maxs else None,
                        "rtt_stddev_seconds": max(devs) if devs else None}
    return out


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def make_heartbeat(agent_id: str, seq: int, results: list[dict[str, Any]], *, credential: str | None = None,
                   sent_at: float | None = None, metrics_address: str | None = None,
                   agent_version: str | None = None, now: float | None = None) -> Heartbeat:
    """A heartbeat as received now: its links' results combined; checked at min(sent_at, now)."""
    received = now if now is not None else time.time()
    checked = min(sent_at, received) if sent_at is not None else received
    return Heartbeat(agent_id, seq, combine(results), received, checked, credential, metrics_address, agent_version)


def record_heartbeat(store: Any, who: AgentRecord, seq: int, results: list[dict[str, Any]], *,
                     sent_at: float | None = None, metrics_address: str | None = None,
                     agent_version: str | None = None, now: float | None = None,
                     silence_s: float = DEFAULT_SILENCE_S) -> HeartbeatOutcome:
    """Apply one heartbeat of an authenticated agent in its own transaction."""
    beat = make_heartbeat(who.agent_id, seq, results, sent_at=sent_at, metrics_address=metrics_address,
                          agent_version=agent_version, now=now)
    with store.begin() as conn:
        answer = apply_heartbeats(conn, [beat], silence_s)[0]
    if isinstance(answer, CloudctlError):
        raise answer
    return answer




class HeartbeatIngest:
    """The API's batched ingest for one process: `await ingest.submit(beat)` -> its outcome, once
    the batch it went out in has committed; raises the error that refused it (CredentialRejected,
    PermissionDenied), OperationFailed when the store is away (the whole batch), or Overloaded.
    `silence_s`: how long a link's report holds before its state is unknown."""

    def __init__(self, store: Any, *, max_batch: int = 500, max_queue: int = 20_000, in_flight: int = 1,
                 window_s: float = 0.010, silence_s: float = DEFAULT_SILENCE_S) -> None:
        # in_flight: one batch at a time keeps one process's heartbeats in arrival order; two would write
        # the next batch during a commit, but could apply an agent's seq s+1 before s. window_s: a batch
        # gathers for up to this long, its fixed cost shared (docs/scale.md).
        self.store = store
        self.silence_s = silence_s
        self.committer: AsyncGroupCommitter[Heartbeat, HeartbeatOutcome | CloudctlError] = AsyncGroupCommitter(
            self._apply, max_batch=max_batch, max_queue=max_queue, in_flight=in_flight, window=window_s)

    def _apply(self, beats: list[Heartbeat]) -> list[HeartbeatOutcome | CloudctlError]:
        with self.store.begin() as conn:
            return apply_heartbeats(conn, beats, self.silence_s)

    async def submit(self, beat: Heartbeat) -> HeartbeatOutcome:
        try:
            answer = await self.committer.submit(beat)
        except Overloaded as e:
            raise OperationFailed(f"heartbeat ingest is overloaded ({e})", hint="retry after a while") from e
        if isinstance(answer, CloudctlError):
            raise answer
        return answer
