"""Where things live: the store URL and the operator identity.

Precedence: flags > CLOUDCTL_* environment variables > defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("cloudctl", appauthor=False))


def default_db_url() -> str:
    path = default_data_dir() / "cloudctl.sqlite3"
    return f"sqlite:///{path}"


def resolve_db_url(flag: str | None) -> str:
    """The store URL: --db flag, else CLOUDCTL_DB, else the embedded SQLite default."""
    url = flag or os.environ.get("CLOUDCTL_DB") or default_db_url()
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def resolve_actor(flag: str | None) -> str:
    """Who is acting: --as flag, else CLOUDCTL_AS, else the OS user."""
    if flag:
        return flag
    env = os.environ.get("CLOUDCTL_AS")
    if env:
        return env
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return f"uid:{os.getuid()}"


def environment() -> Mapping[str, str]:
    """The process environment: read here, passed to the library (which never reads it itself)."""
    return os.environ


def cloud_name(flag: str | None) -> str | None:
    """The cloud in clouds.yaml: --cloud, else CLOUDCTL_CLOUD, else OpenStack's own OS_CLOUD."""
    return flag or os.environ.get("CLOUDCTL_CLOUD") or os.environ.get("OS_CLOUD") or None


def timezone_override() -> str | None:
    """CLOUDCTL_TZ: the time zone of "today" for this process, over the store's `timezone` setting."""
    return os.environ.get("CLOUDCTL_TZ") or None


SERVER_TUNING = {  # variable: (ApiSettings field, what it is, bounds) -- docs/scale.md explains each
    "CLOUDCTL_SWITCH_INTERVAL": ("switch_interval_s", "the GIL switch interval in seconds", (0.0001, 0.1)),
    "CLOUDCTL_GC_THRESHOLD": ("gc_threshold", "the collector's three thresholds, e.g. 100000,10,10", (0, 10**9)),
    "CLOUDCTL_INGEST_IN_FLIGHT": ("ingest_in_flight", "heartbeat batches written at once", (1, 8)),
    "CLOUDCTL_INGEST_WINDOW_MS": ("ingest_window_ms", "how long a heartbeat batch gathers, in ms", (0, 1000)),
}


def server_tuning(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """The API's tuning knobs set in the environment, as ApiSettings fields (checked: exit 2 with the
    variable's name and its range, not a traceback in a worker)."""
    from cloudctl.errors import InputError

    env = os.environ if env is None else env
    out: dict[str, object] = {}
    for name, (field, what, (low, high)) in SERVER_TUNING.items():
        raw = env.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            numbers = [float(x) for x in raw.split(",")]
            if field == "gc_threshold":
                if len(numbers) != 3 or any(n != int(n) for n in numbers):
                    raise ValueError
                value: object = tuple(int(n) for n in numbers)
            elif len(numbers) != 1:
                raise ValueError
            else:
                value = int(numbers[0]) if field == "ingest_in_flight" else numbers[0]
            if not all(low <= n <= high for n in numbers) or (field == "ingest_in_flight" and numbers[0] % 1):
                raise ValueError
        except ValueError:
            raise InputError(f"{raw[:40]!r} is not {what} between {low} and {high}", field=name,
                             hint=f"unset {name} for the default, or give a value in range") from None
        out[field] = value
    return out
