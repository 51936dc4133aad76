"""Store-wide settings (the `meta` table), and the clock they configure.

`timezone`: the IANA zone of "today" for every command, endpoint, metric, report and gateway
expiry (default Asia/Shanghai). CLOUDCTL_TZ overrides it for one process (the CLI and `serve`
pass the environment's value in; library code never reads the environment).
`availability_window`: the window of cloudctl_link_availability_ratio on /metrics (default 30d;
1h to 366d), the same for every replica.
Reading is cheap (one DB-API query, no SQLAlchemy): every command does it. Changing a setting is
an action (settings_actions.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cloudctl import clock as clock_module

KNOWN = {"timezone": clock_module.DEFAULT_ZONE, "availability_window": "30d"}
PREFIX = "setting."


def read_settings(raw: Any) -> dict[str, str]:
    """Every known setting with its value (stored, else default), read on a DB-API connection."""
    cur = raw.cursor()
    try:
        cur.execute(f"SELECT key, value FROM meta WHERE key LIKE '{PREFIX}%'")
        rows = dict(cur.fetchall())
    finally:
        cur.close()
    return {k: rows.get(PREFIX + k, default) for k, default in KNOWN.items()}


def get_settings(store: Any) -> dict[str, str]:
    raw = store.raw_connection()
    try:
        return read_settings(raw)
    finally:
        raw.close()


def clock_for(store: Any | None, override: str | None = None) -> clock_module.Clock:
    """The clock in the zone CLOUDCTL_TZ names (OVERRIDE), else the store's setting, else the default."""
    if override:
        return clock_module.configure(clock_module.zone_named(override, "CLOUDCTL_TZ"))
    stored = get_settings(store)["timezone"] if store is not None else clock_module.DEFAULT_ZONE
    return clock_module.configure(clock_module.zone_named(stored, "setting timezone"))


def availability_window(text: str) -> timedelta:
    """The `availability_window` setting as a duration (InputError when it is not one, 1h to 366d)."""
    from cloudctl.values import parse_duration

    return parse_duration(text, "availability_window", minimum=timedelta(hours=1), maximum=timedelta(days=366))
