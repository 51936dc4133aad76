"""Where a cloud apply spends its time: calls and server time per API route, for N new departments.

Onboards N departments with cloudctl apply (fresh codes), prints each route's call count, summed
and mean answer time (time to response headers, as the client saw it), the busiest service, the
wall time, and then retires and removes the departments again.

    python benchmarks/cloud_profile.py [--depts 10] [--workers 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from cloud_common import CLOUD, cleanup, ensure_stack, make_store

PORTS = {5000: "keystone", 8774: "nova", 8776: "cinder", 8778: "placement", 9292: "glance", 9696: "neutron"}


def print_routes(counter, wall: float, depts: int) -> None:  # type: ignore[no-untyped-def]
    per_service: dict[str, float] = {}
    print(f"{'route':58s} {'calls':>6s} {'per dept':>8s} {'sum s':>8s} {'mean ms':>8s}")
    for route, n in sorted(counter.by_route.items(), key=lambda kv: -counter.seconds_by_route[kv[0]]):
        secs = counter.seconds_by_route[route]
        method, port, path = route.split(" ", 2)
        service = PORTS.get(int(port), port)
        per_service[service] = per_service.get(service, 0.0) + secs
        label = f"{method} {service} {path}"
        print(f"{label:58.58s} {n:6d} {n / depts:8.2f} {secs:8.2f} {1000 * secs / n:8.0f}")
    print(f"total: {counter.total} calls ({counter.total / depts:.1f} per department), wall {wall:.1f} s")
    for service, secs in sorted(per_service.items(), key=lambda kv: -kv[1]):
        print(f"  {service:10s} answer time summed {secs:7.1f} s = {secs / wall:.2f} x wall")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depts", type=int, default=10)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    ensure_stack()
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    tmp = Path(tempfile.mkdtemp(prefix="cloudctl-bench-"))
    codes = [f"p{uuid.uuid4().hex[:4]}-{i:03d}" for i in range(args.depts)]
    store, actor = make_store(tmp / "cloudctl.sqlite3", codes)
    try:
        t0 = time.perf_counter()
        cloud = OpenStackCloud(CLOUD, workers=args.workers)
        results = apply_plan(store, cloud, make_plan(store, cloud), actor, workers=args.workers)
        wall = time.perf_counter() - t0
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
        print_routes(cloud.counter, wall, args.depts)
    finally:
        cleanup(store, actor)


if __name__ == "__main__":
    main()
