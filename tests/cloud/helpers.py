"""Shared helpers for the cloud tests: a store with an address pool, an admin SDK connection."""

from __future__ import annotations

import getpass
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cloudctl.audit import Actor
from cloudctl.cloud.departments import create_department, set_setting
from cloudctl.store import Store, open_store

ACTOR = Actor("tester", "pytest")
_SUPERNET = itertools.count()


def cloud_store(path: Path, *, pool_cidr: str = "10.64.0.0/16", external: str | None = "public") -> Store:
    from cloudctl.ipam import create_pool

    store = open_store(f"sqlite:///{path / 'cloudctl.sqlite3'}")
    with store.begin() as conn:
        create_pool(conn, pool_cidr, "departments", None, ACTOR)
    if external:
        set_setting(store, ACTOR, "external_network", external)
    return store


def add_departments(store: Store, prefix: str, n: int, **kw: Any) -> list[str]:
    codes = [f"{prefix}-{i:03d}" for i in range(n)]
    for code in codes:
        create_department(store, ACTOR, code=code, name=f"Department {code}", division="110000", **kw)
    return codes


def admin_conn(cloud: str = "cloudctl-dev") -> Any:
    import openstack

    return openstack.connect(cloud=cloud)


def run_cli(args: list[str], db: str, *, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # the installing OS user: the power list's first-operator rule makes them admin
    full_env = {**os.environ, "CLOUDCTL_DB": db, "CLOUDCTL_AS": getpass.getuser(), **(env or {})}
    return subprocess.run([sys.executable, "-m", "cloudctl", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env)
