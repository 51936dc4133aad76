"""No-op plan for 50 and 500 recorded departments: API calls and time.

Onboards the 500 departments once (cloudctl apply), then plans against a store holding the first
50 and one holding all 500; both plans must be empty. Prints calls, seconds, and the ratios.

    python benchmarks/cloud_noop_plan.py [--small 50] [--large 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from cloud_common import CLOUD, cleanup, ensure_stack, make_store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=50)
    ap.add_argument("--large", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ensure_stack()
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    tag = uuid.uuid4().hex[:4]
    tmp = Path(tempfile.mkdtemp(prefix="cloudctl-bench-"))
    codes = [f"n{tag}-{i:03d}" for i in range(args.large)]
    large, actor = make_store(tmp / "large.sqlite3", codes)
    small, _ = make_store(tmp / "small.sqlite3", codes[: args.small])
    try:
        t0 = time.perf_counter()
        cloud = OpenStackCloud(CLOUD, workers=8)
        results = apply_plan(large, cloud, make_plan(large, cloud), actor, workers=8)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
        print(f"onboarded {args.large} departments in {time.perf_counter() - t0:.0f} s")
        # the small store has not pushed volume quotas itself (a plan compares with what it pushed)
        apply_plan(small, OpenStackCloud(CLOUD), make_plan(small, OpenStackCloud(CLOUD)), actor)
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
                  f"{best.seconds:6.2f} s")
        s, lg = figures["small"], figures["large"]
        print(f"calls ratio {args.large}/{args.small}: {lg.api_calls / s.api_calls:.2f} "
              f"(1.00 = constant); time ratio: {lg.seconds / s.seconds:.2f} "
              f"(departments x{args.large / args.small:.0f})")
    finally:
        cleanup(large, actor)


if __name__ == "__main__":
    main()
