"""A link's state history as interval rows (pure): what a heartbeat batch appends.

Each row starts an interval that lasts until the link's next row (or, for the link's last row,
until the link's `known_until` in link_status, after which its state is unknown):

    start_ms      when the state began (epoch milliseconds; the heartbeat's `checked` time)
    up            1 up, 0 down, None unknown (the agent was silent from start_ms)
    cum_up_ms     the link's up time before start_ms (the sum over its earlier rows)
    cum_down_ms   its down time before start_ms
    cum_outages   its down rows before this one

The running sums make any period's figures two look-ups per link (cloudctl.availability.query):
up time in [a, b) = U(b) - U(a), where U(t) = r.cum_up_ms + (r.up == 1) * (min(t, known_until) - r.start_ms)
for r the link's last row starting at or before t. A row is only ever appended, never rewritten,
except when a state arrives at the very millisecond of the last row's start (the later one wins;
its sums stay those before the instant).

Rows are written when the state changes (down -> up, up -> down, the first report) and when a
link is heard of again after a silence: then an unknown row at the old `known_until` comes first.
So storage grows with state changes, never with heartbeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# How long a report holds by default: three heartbeats of the API's default 15 s interval (the
# same window `coverage summary --online` calls fresh). `cloudctl serve --silence-after N` sets N.
DEFAULT_HEARTBEAT_INTERVAL_S = 15.0
DEFAULT_SILENCE_HEARTBEATS = 3
DEFAULT_SILENCE_S = DEFAULT_HEARTBEAT_INTERVAL_S * DEFAULT_SILENCE_HEARTBEATS


@dataclass(frozen=True)
class IntervalRow:
    link_id: str
    start_ms: int
    up: int | None
    cum_up_ms: int = 0
    cum_down_ms: int = 0
    cum_outages: int = 0

    def then(self, at_ms: int, up: int | None) -> IntervalRow:
        """The row that starts at `at_ms` with state `up`, after this one."""
        if at_ms <= self.start_ms:  # the same instant: the later report wins, the sums stay as before it
            return IntervalRow(self.link_id, self.start_ms, up, self.cum_up_ms, self.cum_down_ms, self.cum_outages)
        d = at_ms - self.start_ms
        return IntervalRow(self.link_id, at_ms, up, self.cum_up_ms + (d if self.up == 1 else 0),
                           self.cum_down_ms + (d if self.up == 0 else 0), self.cum_outages + (self.up == 0))


@dataclass(frozen=True)
class StateEvent:
    """A link's reported state at `at_ms`; `silent_since_ms` when the report ends a silence (the
    previous report's known_until had passed), else None."""

    link_id: str
    at_ms: int
    up: int
    silent_since_ms: int | None = None


def to_ms(seconds: float) -> int:
    return round(seconds * 1000.0)


def chain(events: Iterable[StateEvent], last: Mapping[str, IntervalRow]) -> list[IntervalRow]:
    """The rows to write (insert, or replace at the same start) for events in arrival order, each
    link continuing from its last stored row (absent: the link's first row). In write order; a row
    replaced within the batch appears once, as its final version."""
    current = dict(last)
    out: dict[tuple[str, int], IntervalRow] = {}
    for e in events:
        prev = current.get(e.link_id)
        if prev is not None and e.silent_since_ms is not None and e.silent_since_ms > prev.start_ms:
            prev = prev.then(e.silent_since_ms, None)
            out[(e.link_id, prev.start_ms)] = prev
        row = IntervalRow(e.link_id, e.at_ms, e.up) if prev is None else prev.then(e.at_ms, e.up)
        out[(e.link_id, row.start_ms)] = row
        current[e.link_id] = row
    return list(out.values())
