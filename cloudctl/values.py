"""The value types every input surface shares, pure: ISO dates, durations, instants, bounded
integers and names. One definition each, so `--ttl 30d`, `deadline: 3d` and `--until 2027-01-01`
mean the same everywhere and are refused the same way (InputError: field, what, how to fix).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from cloudctl import clock as clock_module
from cloudctl.errors import InputError

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION_RE = re.compile(r"^(\d{1,30})\s*([smhd])$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_HINT = "a whole number and a unit: s, m, h or d (e.g. 90s, 30m, 72h, 7d)"
MAX_DURATION = timedelta(days=3650)
MAX_ID = 2**53 - 1  # the largest row id accepted: every JSON reader keeps it exact (BIGINT holds more)
MAX_NAME = 200


def parse_iso_date(text: str, field: str) -> date:
    """YYYY-MM-DD, strictly (no 20190501, no time, no week dates)."""
    value = str(text).strip()
    if DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"{str(text)[:40]!r} is not a date", field=field, hint="YYYY-MM-DD, e.g. 2015-05-31")


def parse_duration(text: object, field: str, *, minimum: timedelta = timedelta(seconds=1),
                   maximum: timedelta = MAX_DURATION) -> timedelta:
    """'90s', '30m', '72h', '7d' (one unit), within [minimum, maximum]."""
    m = DURATION_RE.match(str(text).strip())
    if not m:
        raise InputError(f"{str(text)[:40]!r} is not a duration", field=field, hint=DURATION_HINT)
    seconds = int(m.group(1)) * DURATION_UNITS[m.group(2)]
    if seconds > maximum.total_seconds():
        raise InputError(f"{text} is longer than the {format_duration(maximum)} allowed", field=field,
                         hint=f"at most {format_duration(maximum)}")
    if seconds < minimum.total_seconds():
        raise InputError(f"{text} is shorter than the {format_duration(minimum)} allowed", field=field,
                         hint=f"at least {format_duration(minimum)}")
    return timedelta(seconds=seconds)


def format_duration(d: timedelta) -> str:
    """The shortest exact spelling in the same units parse_duration reads."""
    seconds = int(d.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % DURATION_UNITS[unit] == 0:
            return f"{seconds // DURATION_UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_instant(text: str, field: str, clock: clock_module.Clock | None = None) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is wall time in the configured zone."""
    value = str(text).strip()
    c = clock or clock_module.current()
    if DATE_RE.match(value):
        return c.start_of(parse_iso_date(value, field))
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
            raise ValueError(value)
        return c.localize(datetime.fromisoformat(value))
    except ValueError as e:
        raise InputError(f"{value[:40]!r} is not a date or time", field=field,
                         hint="ISO 8601: 2026-12-01, or 2026-12-01T09:00 (configured zone), "
                              "or 2026-12-01T09:00:00+08:00") from e


def check_int(value: object, field: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """An integer (not a bool, not a float) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or not re.match(r"^-?\d{1,30}$", str(value).strip()):
                raise ValueError(value)
            value = int(str(value).strip())
        except ValueError:
            raise InputError(f"{str(value)[:40]!r} is not a whole number", field=field) from None
    if not minimum <= value <= maximum:
        raise InputError(f"{value} is out of range", field=field, hint=f"between {minimum} and {maximum}")
    return value


def check_id(value: object, field: str = "ID") -> int:
    """A row id: 1 .. 2**53 - 1."""
    return check_int(value, field, minimum=1, maximum=MAX_ID)


REFUSED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
# Those categories' characters (Unicode 14, Python 3.11) as one regex class, so that the same set is
# refused here and documented as the API's JSON-schema patterns (tests check it against unicodedata).
# Surrogates are left out of the class: no valid UTF-8 text holds one, and JSON-schema regexes cannot
# name them; control_character still finds them.
REFUSED_CLASS = (r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
                 r"\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
                 r"\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_REFUSED = re.compile(f"[{REFUSED_CLASS}\ud800-\udfff]")
ONE_LINE_PATTERN = f"^[^{REFUSED_CLASS}]*[^\\s{REFUSED_CLASS}][^{REFUSED_CLASS}]*$"  # not blank, no refused character


def control_character(text: str) -> str | None:
    """The first control, format (bidi, zero-width), surrogate or line-separator character in TEXT.

    Private-use and unassigned code points pass: official names write rare characters with them
    (two villages of the 2023 registry use U+E08B and U+E170)."""
    found = _REFUSED.search(text)
    return found.group() if found else None


def check_name(value: object, field: str, *, max_len: int = MAX_NAME, required: bool = True) -> str:
    """A one-line name: no control characters (NUL, escape sequences, bidi overrides), bounded length."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError("must not be empty", field=field)
        return ""
    if not isinstance(value, str):
        raise InputError(f"must be text, not {type(value).__name__}", field=field)
    if len(value) > max_len:
        raise InputError(f"is {len(value):,} characters long", field=field, hint=f"at most {max_len:,}")
    bad = control_character(value)
    if bad is not None:
        raise InputError(f"contains the control character U+{ord(bad):04X}", field=field,
                         hint="names are one line of printable text")
    return value.strip()
