"""Helpers that make real resources in a department's project (through cloudctl's own ops)."""

from __future__ import annotations

import time
from typing import Any

from cloudctl.cloud_ops.openstack_ops import CloudOps


def make_server(ops: CloudOps, project_id: str, name: str, flavor: str = "m1.tiny") -> dict[str, Any]:
    f = ops.find_flavor(flavor)
    image = ops.find_image("cloudctl-test-raw")
    assert f and image
    (s,) = ops.create_servers(project_id, [name], flavor_id=f["id"], image_id=image, network_id=None,
                              metadata={}, timeout_s=180)
    assert s["status"] == "ACTIVE", s  # ERROR after its rebuilds carries Nova's fault
    return s


def make_volume(ops: CloudOps, project_id: str, name: str, size: int) -> dict[str, Any]:
    (v,) = ops.create_volumes(project_id, [name], size_gb=size, metadata={}, timeout_s=180)
    assert v["status"] == "available", v
    return v


def stop_server(conn: Any, server_id: str, timeout_s: float = 120) -> Any:
    """Stop a server (retrying the 500s a busy SQLite-backed Nova answers) and wait for SHUTOFF."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.compute.stop_server(server_id)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    while time.monotonic() < deadline:
        s = conn.compute.get_server(server_id)
        if s.status == "SHUTOFF" and not s.task_state:
            return s
        time.sleep(0.5)
    raise AssertionError(f"server {server_id} not SHUTOFF after {timeout_s} s")


def wait_gone(find: Any, timeout_s: float = 120) -> None:
    """Deletes are asynchronous in Nova and Cinder: poll until find() returns None (bounded)."""
    deadline = time.monotonic() + timeout_s
    while find() is not None:
        if time.monotonic() > deadline:
            raise AssertionError(f"still there after {timeout_s} s")
        time.sleep(0.5)
