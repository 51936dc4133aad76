"""The one clock: "now" and "today" in one configured time zone, for every command, endpoint,
metric, report and gateway expiry.

The zone is the store setting `timezone` (default Asia/Shanghai), overridden by CLOUDCTL_TZ; the
CLI and the API resolve it once at start-up (cloudctl.settings.clock_for) and `configure` it here.
Library code asks `current()` for the clock, or takes a `clock` parameter whose default is
`current()`. Instants are stored as UTC ISO 8601 strings (`stamp`): they compare as text, and a
change of the configured zone never reorders them; "today" is always the configured zone's date.

Tests pin time with `pinned(at)` instead of racing the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloudctl.errors import InputError

DEFAULT_ZONE = "Asia/Shanghai"


def zone_named(name: str, field: str = "timezone") -> ZoneInfo:
    """The IANA zone NAME, or an InputError naming the field and how to fix it."""
    try:
        if not name or len(name) > 64 or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InputError(f"unknown time zone {name!r}", field=field,
                         hint="an IANA zone name, e.g. Asia/Shanghai, Asia/Urumqi or UTC") from e


@dataclass(frozen=True)
class Clock:
    """Wall time in `zone`; `fixed` pins it (tests, `--now` style flags)."""

    zone: ZoneInfo
    fixed: datetime | None = None

    def now(self) -> datetime:
        """The current instant, aware, expressed in the configured zone."""
        t = self.fixed if self.fixed is not None else datetime.now(UTC)
        return t.astimezone(self.zone)

    def today(self) -> date:
        """The configured zone's date now (never the machine's local date, never UTC's)."""
        return self.now().date()

    def stamp(self, at: datetime | None = None) -> str:
        """An instant as the store keeps it: UTC, ISO 8601, microseconds."""
        return (at or self.now()).astimezone(UTC).isoformat(timespec="microseconds")

    def localize(self, naive: datetime) -> datetime:
        """A naive date-time read as wall time in the configured zone."""
        return naive.replace(tzinfo=self.zone) if naive.tzinfo is None else naive

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of DAY in the configured zone, aware."""
        return datetime(day.year, day.month, day.day, tzinfo=self.zone)

    def pinned(self, at: datetime) -> Clock:
        return Clock(self.zone, self.localize(at))

    def shifted(self, by: timedelta) -> Clock:
        return Clock(self.zone, self.now() + by)


_current = Clock(ZoneInfo(DEFAULT_ZONE))


def current() -> Clock:
    """The process's clock (configured once at start-up by the CLI or the API)."""
    return _current


def configure(zone: str | ZoneInfo) -> Clock:
    """Set the process's time zone; returns the new clock."""
    global _current
    _current = Clock(zone if isinstance(zone, ZoneInfo) else zone_named(zone), _current.fixed)
    return _current


def now() -> datetime:
    return _current.now()


def today() -> date:
    return _current.today()


def stamp(at: datetime | None = None) -> str:
    return _current.stamp(at)


@contextmanager
def pinned(at: datetime | str, zone: str | None = None) -> Iterator[Clock]:
    """Pin the process's clock at AT (tests): `with clock.pinned("2026-12-07T09:00:00+08:00"): ...`."""
    global _current
    saved = _current
    z = zone_named(zone) if zone else saved.zone
    t = datetime.fromisoformat(at) if isinstance(at, str) else at
    _current = Clock(z, t if t.tzinfo else t.replace(tzinfo=z))
    try:
        yield _current
    finally:
        _current = saved
