"""The period of an availability question (pure): whole days in the configured time zone.

`--from D1 --to D2` means [start of D1, start of the day after D2) in the clock's zone, cut at
now (time that has not happened yet is not unknown, it is not counted). Link activation and
retirement dates are days in the same zone: a link counts from the start of its activated_on day
to the start of its retired_on day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cloudctl.clock import Clock
from cloudctl.errors import InputError

MAX_DAYS = 3660  # ten years: bounds the day table a query carries


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as the store's UTC ISO 8601 form (clock.stamp), to the millisecond."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def day_start_ms(clock: Clock, day: date) -> int:
    return round(clock.start_of(day).timestamp() * 1000)


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    start_ms: int  # start of `first`
    end_ms: int  # start of the day after `last`, or now when that is earlier
    days: tuple[tuple[date, int], ...]  # (day, its start in ms) for first .. last + 1
    zone: str = "UTC"

    def day_ms(self, day: date) -> int:
        return self.days[(day - self.first).days][1]


def period_of(first: date, last: date, clock: Clock) -> Period:
    """The period of days first..last (inclusive) in the clock's zone; InputError when it is empty,
    starts after today or is longer than MAX_DAYS."""
    if last < first:
        raise InputError(f"--to {last.isoformat()} is before --from {first.isoformat()}", field="--to",
                         hint="the period is --from D1 --to D2 with D1 <= D2 (both days included)")
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError(f"the period is {(last - first).days + 1} days long, at most {MAX_DAYS} are allowed",
                         field="--from", hint="ask for a shorter period")
    today = clock.today()
    if first > today:
        raise InputError(f"--from {first.isoformat()} is after today ({today.isoformat()} in {clock.zone.key})",
                         field="--from", hint="availability is measured over days that have begun")
    days = tuple((first + timedelta(days=i), day_start_ms(clock, first + timedelta(days=i)))
                 for i in range((last - first).days + 2))
    now_ms = int(clock.now().timestamp() * 1000)
    return Period(first, last, days[0][1], min(days[-1][1], now_ms), days, clock.zone.key)


def rolling_period(clock: Clock, window_ms: int, now_ms: int | None = None) -> Period:
    """The window [now - window, now) (the metrics' rolling period), its days in the clock's zone."""
    now_ms = int(clock.now().timestamp() * 1000) if now_ms is None else now_ms
    start_ms = now_ms - window_ms
    first = datetime.fromtimestamp(start_ms / 1000, clock.zone).date()
    last = datetime.fromtimestamp(now_ms / 1000, clock.zone).date()
    days = tuple((first + timedelta(days=i), day_start_ms(clock, first + timedelta(days=i)))
                 for i in range((last - first).days + 2))
    return Period(first, last, start_ms, now_ms, days, clock.zone.key)
