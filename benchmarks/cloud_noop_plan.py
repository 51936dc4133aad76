"""No-op plan for 50 and 500 recorded departments: API calls and time, in one run.

The departments have fixed codes (`--prefix`, default `nb`: nb-000 ... nb-499) and live in two
stores kept under --state-dir: one recording the first 50, one recording all 500. A run first
makes the cloud match the large store (cloudctl apply, --workers in parallel): departments
onboarded by an earlier run are found and left alone, missing ones are created. Their routers
use an external network of the benchmark's own (`cloudctl-bench-ext`, 100.64.0.0/16): the dev
stack's `public` /24 has room for ~250 gateways. Then both plans must be empty; each is made
--repeat times (best time kept) and calls, time and the ratios are printed.

    python benchmarks/cloud_noop_plan.py [--small 50] [--large 500] [--repeat 3] [--workers 16]
    python benchmarks/cloud_noop_plan.py --cleanup     # retire + apply all, drop stores and network
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from cloud_common import (
    CLOUD,
    cleanup,
    delete_external_network,
    ensure_external_network,
    ensure_stack,
    load,
    make_store,
)

EXTERNAL, EXTERNAL_CIDR = "cloudctl-bench-ext", "100.64.0.0/16"
POOL = "10.96.0.0/12"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=50)
    ap.add_argument("--large", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--prefix", default="nb")
    ap.add_argument("--state-dir", type=Path,
                    default=Path(os.environ.get("CLOUDCTL_BENCH_DIR", "/var/tmp/cloudctl-bench")))
    ap.add_argument("--cleanup", action="store_true", help="remove the benchmark departments and stores")
    args = ap.parse_args()
    ensure_stack()
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    args.state_dir.mkdir(parents=True, exist_ok=True)
    large_path = args.state_dir / f"{args.prefix}-large.sqlite3"
    small_path = args.state_dir / f"{args.prefix}-small.sqlite3"
    codes = [f"{args.prefix}-{i:03d}" for i in range(args.large)]
    if args.cleanup:
        t0 = time.perf_counter()
        if large_path.exists():
            store, actor = make_store(large_path, [], pool=POOL, external=EXTERNAL)
            cleanup(store, actor, workers=args.workers)
        delete_external_network(EXTERNAL)
        for p in (large_path, small_path):
            p.unlink(missing_ok=True)
        print(f"removed the benchmark departments in {time.perf_counter() - t0:.0f} s")
        return

    ensure_external_network(EXTERNAL, EXTERNAL_CIDR)
    # both stores allocate in the same order from the same pool: the same codes get the same subnets
    large, actor = make_store(large_path, codes, pool=POOL, external=EXTERNAL)
    small, _ = make_store(small_path, codes[: args.small], pool=POOL, external=EXTERNAL)
    print(load())
    for label, store in (("large", large), ("small", small)):
        t0 = time.perf_counter()
        cloud = OpenStackCloud(CLOUD, workers=args.workers)
        plan = make_plan(store, cloud)
        results = apply_plan(store, cloud, plan, actor, workers=args.workers)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
        print(f"set-up ({label} store): {len(plan.by_dept())} departments needed changes "
              f"({len(plan.actions)} actions), {time.perf_counter() - t0:.0f} s")

    figures = {}
    for label, store in (("small", small), ("large", large)):
        best = None
        for _ in range(args.repeat):
            plan = make_plan(store, OpenStackCloud(CLOUD))
            assert plan.actions == [], plan.actions[:5]
            if best is None or plan.seconds < best.seconds:
                best = plan
        figures[label] = best
        print(f"no-op plan, {len(best.desired):4d} departments: {best.api_calls:4d} API calls, "
              f"{best.seconds:6.2f} s (best of {args.repeat})")
    s, lg = figures["small"], figures["large"]
    print(f"calls ratio {args.large}/{args.small}: {lg.api_calls / s.api_calls:.2f} (1.00 = constant); "
          f"time ratio: {lg.seconds / s.seconds:.2f} for x{args.large / args.small:.0f} departments")
    print(load())
    print(f"kept for the next run: {args.large} departments {codes[0]} .. {codes[-1]} "
          f"(stores in {args.state_dir}); remove with --cleanup")


if __name__ == "__main__":
    main()
