"""Fixtures for showback, idle reclaim and resource requests: the real OpenStack dev stack (the
cloud tests' session fixture, reused), and a store with one applied department."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.conftest import CLOUD, DevCloud, code_prefix, dev_cloud
from tests.cloud.helpers import ACTOR, add_departments, admin_conn, cloud_store


@dataclass
class Dept:
    store: Any
    cloud: Any
    code: str
    project_id: str
    db: str


@pytest.fixture
def applied_dept(dev_cloud: DevCloud, tmp_path: Path, code_prefix: str,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Dept]:
    """One department onboarded into the real cloud; its servers, volumes and floating IPs are
    deleted at the end (the project stays, tagged, like the cloud tests' departments)."""
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan
    from cloudctl.cloud_ops.usage import project_ids

    monkeypatch.setenv("CLOUDCTL_CLOUD", dev_cloud.name)  # the appliers open the cloud by name
    store = cloud_store(tmp_path)
    (code,) = add_departments(store, code_prefix, 1)
    cloud = OpenStackCloud(dev_cloud.name)
    results = apply_plan(store, cloud, make_plan(store, cloud, only=[code]), ACTOR)
    assert all(r.ok for r in results), [r.error for r in results]
    pid = project_ids(store)[code]
    yield Dept(store, cloud, code, pid, f"sqlite:///{tmp_path / 'cloudctl.sqlite3'}")
    conn = admin_conn()
    for lister, deleter in ((lambda: conn.compute.servers(all_projects=True, project_id=pid),
                             conn.compute.delete_server),
                            (lambda: conn.block_storage.volumes(all_projects=True, project_id=pid),
                             conn.block_storage.delete_volume),
                            (lambda: conn.network.ips(project_id=pid), conn.network.delete_ip)):
        for _ in range(5):  # best effort: a busy SQLite-backed API answers 500 now and then
            try:
                for obj in list(lister()):
                    deleter(obj.id, ignore_missing=True)
                break
            except Exception:
                time.sleep(1)

__all__ = ["ACTOR", "CLOUD", "Dept", "code_prefix", "dev_cloud"]
