"""The one place cloudctl meets openstacksdk: OpenStackCloud = session + observe + apply + pool reads.

    openstack_session.py   which cloud (clouds.yaml only), one connection, retries, call counts
    openstack_observe.py   everything cloudctl owns, from a fixed number of list calls
    openstack_apply.py     one department's planned actions, idempotently, bulk creates shared
    openstack_adapter.py   this class, and the pool reads
"""

from __future__ import annotations

from typing import Any

from cloudctl.cloud.model import QUOTA_KEYS
from cloudctl.cloud.openstack_apply import CloudApplier
from cloudctl.cloud.openstack_observe import CloudObserver
from cloudctl.cloud.openstack_session import CallCounter, resolve_cloud
from cloudctl.group_commit import GroupCommitter

__all__ = ["CallCounter", "OpenStackCloud", "resolve_cloud"]


class OpenStackCloud(CloudObserver, CloudApplier):
    """A connection to one cloud: observe, apply, pool reads; retries and call counting throughout."""

    def __init__(self, cloud: str, *, retries: int = 5, backoff_s: float = 0.2, timeout_s: float = 60,
                 workers: int = 8, bulk_max: int = 50) -> None:
        super().__init__(cloud, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s, workers=workers)
        self._bulk: GroupCommitter[dict[str, Any], dict[str, Any]] = GroupCommitter(self._send_creates,
                                                                                   max_batch=bulk_max)

    # pool reads (cloudctl pool show, quota show)
    def capacity(self) -> dict[str, dict[str, float]]:
        """Placement inventories summed over resource providers: {class: {total, reserved, ratio, used}}."""
        c = self.conn
        out: dict[str, dict[str, float]] = {}
        rps = self.call("list resource providers", lambda: list(c.placement.resource_providers()))
        for rp in rps:
            inv = self.call("get inventories", lambda rp=rp: c.placement.get(
                f"/resource_providers/{rp.id}/inventories", microversion="1.26").json())
            usage = self.call("get usages", lambda rp=rp: c.placement.get(
                f"/resource_providers/{rp.id}/usages", microversion="1.26").json())
            for rc, v in inv.get("inventories", {}).items():
                agg = out.setdefault(rc, {"total": 0.0, "reserved": 0.0, "ratio": 0.0, "used": 0.0})
                agg["total"] += v["total"]
                agg["reserved"] += v.get("reserved", 0)
                agg["ratio"] = max(agg["ratio"], float(v.get("allocation_ratio", 1.0)))
                agg["used"] += usage.get("usages", {}).get(rc, 0)
        return out

    def usage(self, project_id: str) -> dict[str, int]:
        """What a project uses now (compute and volume quota usage, network counts)."""
        c = self.conn
        out: dict[str, int] = {}
        q = self.call("compute usage", lambda: c.compute.get_quota_set(project_id, usage=True))
        for name, (svc, key) in QUOTA_KEYS.items():
            if svc == "compute":
                out[name] = int((getattr(q, "usage", None) or {}).get(key, 0))
        v = self.call("volume usage", lambda: c.block_storage.get_quota_set(project_id, usage=True))
        for name, (svc, key) in QUOTA_KEYS.items():
            if svc == "volume":
                out[name] = int((getattr(v, "usage", None) or {}).get(key, 0))
        out["networks"] = len(self.call("count networks", lambda: list(c.network.networks(project_id=project_id))))
        return out
