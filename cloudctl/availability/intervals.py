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
except when a state arrives at the very millisecond the link's last row starts: the later report
wins (the row is replaced, or removed when it restores the state before it).

Rows are written when the state changes (down -> up, up -> down, the first report) and when a
link is heard of again after a silence: then an unknown row at the old `known_until` comes first.
So storage grows with state changes, never with heartbeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
        """The row that starts at `at_ms` (after this row's start) with state `up`."""
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


@dataclass(frozen=True)
class IntervalWrites:
    """What a batch does to link_interval: rows to insert or replace, then (link, start) keys to
    delete (a row undone by a report at its very instant)."""

    upsert: list[IntervalRow]
    delete: list[tuple[str, int]]


def to_ms(seconds: float) -> int:
    return round(seconds * 1000.0)


def chain(events: Iterable[StateEvent], stored: Mapping[str, Sequence[IntervalRow]]) -> IntervalWrites:
    """The writes for events in arrival order. `stored`: each link's last two rows in time order
    (none: the link's first report). A report at the instant the link's last row starts replaces
    that row (the later report wins; its sums stay those before the instant) or, when it restores
    the state of the row before, removes it, so that run continues."""
    rows = {k: list(v[-2:]) for k, v in stored.items()}
    stored_keys = {(r.link_id, r.start_ms) for v in stored.values() for r in v}
    upsert: dict[tuple[str, int], IntervalRow] = {}
    delete: set[tuple[str, int]] = set()

    def push(row: IntervalRow) -> None:
        rows.setdefault(row.link_id, []).append(row)
        upsert[(row.link_id, row.start_ms)] = row
        delete.discard((row.link_id, row.start_ms))

    def pop(link_id: str) -> None:
        gone = rows[link_id].pop()
        key = (gone.link_id, gone.start_ms)
        upsert.pop(key, None)
        if key in stored_keys:
            delete.add(key)

    for e in events:
        stack = rows.get(e.link_id) or []
        last = stack[-1] if stack else None
        if last is not None and e.silent_since_ms is not None and e.silent_since_ms > last.start_ms:
            last = last.then(e.silent_since_ms, None)
            push(last)
        if last is None:
            push(IntervalRow(e.link_id, e.at_ms, e.up))
        elif e.at_ms > last.start_ms:
            push(last.then(e.at_ms, e.up))
        elif len(stack) >= 2 and stack[-2].up == e.up:  # the same instant, back to the state before it
            pop(e.link_id)
        else:  # the same instant: the later report wins
            pop(e.link_id)
            push(IntervalRow(e.link_id, last.start_ms, e.up, last.cum_up_ms, last.cum_down_ms, last.cum_outages))
    return IntervalWrites(list(upsert.values()), sorted(delete))
