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
