"""The app of one `cloudctl serve --workers N` worker process.

uvicorn starts each worker in a fresh interpreter and imports the app by name, so the parent
hands the store URL and the settings over in the environment (CLOUDCTL_SERVE_WORKER, JSON).
The parent has brought the schema up to date before starting them; workers only open the store.
Workers share nothing but the listening socket and the store: what each keeps in memory is
listed in docs/scale.md (per-replica state).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

ENV = "CLOUDCTL_SERVE_WORKER"


def worker_environment(db_url: str, settings: Any) -> dict[str, str]:
    return {ENV: json.dumps({"db": db_url, "settings": asdict(settings)})}


def from_handover(text: str) -> tuple[str, Any]:
    """The store URL and ApiSettings that worker_environment handed over (pure)."""
    from cloudctl.api.app import ApiSettings

    config = json.loads(text)
    settings = config["settings"] | {"gc_threshold": tuple(config["settings"]["gc_threshold"])}  # JSON has lists
    return config["db"], ApiSettings(**settings)


def create_from_environment() -> Any:
    """uvicorn's app factory in each worker."""
    from cloudctl.api.app import create_app
    from cloudctl.config import environment
    from cloudctl.store import open_store

    db_url, settings = from_handover(environment()[ENV])
    return create_app(open_store(db_url, migrate=False), settings)
