"""Pure statistics over one probe round: loss and RTT min/avg/max/stddev (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RoundStats:
    sent: int
    received: int
    loss_ratio: float  # 0..1
    rtt_min_s: float | None
    rtt_avg_s: float | None
    rtt_max_s: float | None
    rtt_stddev_s: float | None  # population standard deviation, as ping(8) reports mdev

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def round_stats(rtts: Sequence[float | None]) -> RoundStats:
    """One entry per packet sent: its round-trip time in seconds, or None if lost."""
    sent = len(rtts)
    ok = [r for r in rtts if r is not None]
    received = len(ok)
    loss = (sent - received) / sent if sent else 1.0
    if not ok:
        return RoundStats(sent, 0, loss, None, None, None, None)
    avg = sum(ok) / received
    var = sum((r - avg) ** 2 for r in ok) / received
    return RoundStats(sent, received, loss, min(ok), avg, max(ok), math.sqrt(var))
