"""Server builds against the real cloud, with Nova dropping a build injected: the first server is
reported in BUILD with no task running (what Nova leaves behind when a rescheduling message or database
write is lost). create_servers must delete that server in Nova and build a new one, bounded."""

from __future__ import annotations

from typing import Any

import pytest

from cloudctl.cloud_ops.openstack_ops import CloudOps
from tests.cloud.helpers import admin_conn
from tests.cloud_ops.conftest import Dept
from tests.cloud_ops.helpers import wait_gone

pytestmark = pytest.mark.openstack


class _DroppedFirstBuild:
    """A project connection whose compute reports the first server it created as stuck in BUILD.
    Everything else, the delete included, goes to the real Nova."""

    def __init__(self, real: Any, stuck: set[str]) -> None:
        self._real, self._stuck = real, stuck
        self.compute = self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real.compute, name)

    def create_server(self, **kw: Any) -> Any:
        s = self._real.compute.create_server(**kw)
        if not self._stuck:
            self._stuck.add(s.id)
        return s

    def get_server(self, server_id: str) -> Any:
        s = self._real.compute.get_server(server_id)
        if server_id in self._stuck:
            s.status, s.task_state = "BUILD", None
        return s


def _ops_with_dropped_build(dept: Dept, stuck: set[str]) -> CloudOps:
    ops = CloudOps(dept.cloud)
    real_project_conn = ops.project_conn
    ops.project_conn = lambda project_id: _DroppedFirstBuild(real_project_conn(project_id), stuck)  # type: ignore[method-assign]
    return ops


def test_a_server_nova_dropped_in_build_is_replaced(applied_dept: Dept) -> None:
    stuck: set[str] = set()
    ops = _ops_with_dropped_build(applied_dept, stuck)
    flavor, image = ops.find_flavor("m1.tiny"), ops.find_image("cloudctl-test-raw")
    assert flavor and image
    (s,) = ops.create_servers(applied_dept.project_id, ["dropped-build"], flavor_id=flavor["id"],
                              image_id=image, network_id=None, metadata={}, timeout_s=240, stuck_after_s=2)
    (first,) = stuck
    assert s["status"] == "ACTIVE", s
    assert s["id"] != first
    conn = admin_conn()
    wait_gone(lambda: conn.compute.find_server(first, ignore_missing=True, all_projects=True))
    names = [x.name for x in conn.compute.servers(all_projects=True, project_id=applied_dept.project_id)]
    assert names.count("dropped-build") == 1


def test_a_build_that_stays_dropped_is_reported_not_retried_forever(applied_dept: Dept) -> None:
    """Every server reported stuck: after the allowed rebuilds the last one comes back as BUILD with
    the reason, and the replaced ones are gone from Nova (nothing orphaned)."""
    created: list[str] = []
    ops = CloudOps(applied_dept.cloud)
    real_project_conn = ops.project_conn

    class AlwaysDropped(_DroppedFirstBuild):
        def create_server(self, **kw: Any) -> Any:
            s = self._real.compute.create_server(**kw)
            created.append(s.id)
            self._stuck.add(s.id)
            return s

    ops.project_conn = lambda project_id: AlwaysDropped(real_project_conn(project_id), set())  # type: ignore[method-assign]
    flavor, image = ops.find_flavor("m1.tiny"), ops.find_image("cloudctl-test-raw")
    assert flavor and image
    (s,) = ops.create_servers(applied_dept.project_id, ["always-dropped"], flavor_id=flavor["id"],
                              image_id=image, network_id=None, metadata={}, timeout_s=240, rebuilds=1,
                              stuck_after_s=2)
    assert len(created) == 2  # the first and one rebuild
    assert s["id"] == created[-1] and s["status"] == "BUILD"
    assert "stuck in BUILD" in s["fault"]
    conn = admin_conn()
    wait_gone(lambda: conn.compute.find_server(created[0], ignore_missing=True, all_projects=True))
