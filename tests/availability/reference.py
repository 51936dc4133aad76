"""An independent computation of link availability from the heartbeats themselves (not from
the stored interval rows), straight from the definitions of docs/availability.md:

- a link's reports are applied in arrival order, except one checked before the link's latest
  applied report (an older result replayed late never overrides a newer one);
- a report's state holds from its check time until the link's next applied report, or for the
  silence window, whichever ends first; the rest is unknown;
- a run of the same state without a silence is one interval; an outage is a down run;
- over a span [a, b): up and down are the overlaps, outages the down runs that overlap it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Expected:
    span: int = 0
    up: int = 0
    down: int = 0
    outages: int = 0

    def add(self, other: Expected) -> None:
        self.span += other.span
        self.up += other.up
        self.down += other.down
        self.outages += other.outages


def applied(reports: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(check ms, up) in arrival order -> the reports the store applies (later ones at the same ms win)."""
    kept: list[tuple[int, int]] = []
    for t, up in reports:
        if kept and t < kept[-1][0]:
            continue
        if kept and t == kept[-1][0]:
            kept[-1] = (t, up)
        else:
            kept.append((t, up))
    return kept


def runs(reports: list[tuple[int, int]], silence_ms: int) -> list[tuple[int, int, int]]:
    """Known intervals (start, end, up), merged into runs (same state, no silence between)."""
    kept = applied(reports)
    out: list[tuple[int, int, int]] = []
    for i, (t, up) in enumerate(kept):
        end = t + silence_ms if i + 1 == len(kept) else min(kept[i + 1][0], t + silence_ms)
        if out and out[-1][2] == up and out[-1][1] == t:
            out[-1] = (out[-1][0], end, up)
        else:
            out.append((t, end, up))
    return out


def expected(reports: list[tuple[int, int]], silence_ms: int, a: int, b: int) -> Expected:
    e = Expected(span=max(0, b - a))
    if b <= a:
        return e
    for start, end, up in runs(reports, silence_ms):
        overlap = min(end, b) - max(start, a)
        if overlap <= 0:
            continue
        if up:
            e.up += overlap
        else:
            e.down += overlap
            e.outages += 1
    return e
