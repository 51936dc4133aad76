"""Onboard N departments: `cloudctl cloud apply` vs the same steps as python-openstackclient commands.

Baseline: what an operator scripts by hand, one `openstack` command per step (project, user, role,
quotas, network, subnet, router + gateway, router interface, security group, two rules), on the
same real services in the same run, each command run the way an operator's script runs it
(a fresh `openstack` process per step, sequentially). The baseline costs ~30-40 s per department
here; --baseline-depts below N measures it on fewer departments and scales its per-department time
to N (printed as such). Both sides are cleaned up afterwards (retire + apply).

    python benchmarks/cloud_onboard.py [--depts 50] [--baseline-depts 50] [--workers 16]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from cloud_common import CLOUD, VENV, cleanup, ensure_stack, load, make_store


def baseline_department(code: str, cidr: str, env: dict[str, str]) -> int:
    osc = str(VENV / "bin" / "openstack")
    p, tags = f"dept-{code}", ["--tag", "cloudctl-managed", "--tag", f"cloudctl-dept-{code}"]
    mark = ["--description", f"cloudctl-managed dept={code}"]  # the network objects' ownership mark
    steps = [
        ["project", "create", "--domain", "default", "--description", f"Department {code}", *tags, p],
        ["user", "create", "--domain", "default", "--description", f"cloudctl-managed dept={code}",
         "--project", p, f"{code}.alice"],
        ["role", "add", "--project", p, "--user", f"{code}.alice", "member"],
        ["quota", "set", "--cores", "20", "--ram", "51200", "--instances", "10", "--volumes", "10",
         "--gigabytes", "500", "--networks", "5", "--subnets", "10", "--routers", "2", "--ports", "100",
         "--floating-ips", "5", "--secgroups", "10", p],
        ["network", "create", "--project", p, *mark, f"{p}-net"],
        ["subnet", "create", "--project", p, "--network", f"{p}-net", "--subnet-range", cidr, *mark,
         f"{p}-subnet"],
        ["router", "create", "--project", p, "--external-gateway", "public", *mark, f"{p}-router"],
        ["router", "add", "subnet", f"{p}-router", f"{p}-subnet"],
        ["security", "group", "create", "--project", p, *mark, f"{p}-baseline"],
        ["security", "group", "rule", "create", "--project", p, "--ingress", "--protocol", "icmp",
         "--remote-ip", "0.0.0.0/0", f"{p}-baseline"],
        ["security", "group", "rule", "create", "--project", p, "--ingress", "--protocol", "tcp",
         "--dst-port", "22", "--remote-ip", cidr, f"{p}-baseline"],
    ]
    for step in steps:
        subprocess.run([osc, *step], env=env, check=True, capture_output=True, timeout=300)
    return len(steps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depts", type=int, default=50)
    ap.add_argument("--baseline-depts", type=int, default=50)
    ap.add_argument("--workers", type=int, default=16, help="cloudctl apply --workers")
    args = ap.parse_args()
    ensure_stack()
    from cloudctl.cloud.departments import show_department
    from cloudctl.cloud.openstack_adapter import OpenStackCloud
    from cloudctl.cloud.reconcile import apply_plan, make_plan

    tag = uuid.uuid4().hex[:4]
    tmp = Path(tempfile.mkdtemp(prefix="cloudctl-bench-"))
    codes = [f"b{tag}-{i:03d}" for i in range(args.depts)]
    base_codes = [f"o{tag}-{i:03d}" for i in range(args.baseline_depts)]
    store, actor = make_store(tmp / "cloudctl.sqlite3", codes)
    base_store, _ = make_store(tmp / "baseline.sqlite3", base_codes, pool="10.160.0.0/12")
    try:
        load_before = load()
        t0 = time.perf_counter()
        cloud = OpenStackCloud(CLOUD, workers=args.workers)
        results = apply_plan(store, cloud, make_plan(store, cloud), actor, workers=args.workers)
        t_cloudctl = time.perf_counter() - t0
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        calls = cloud.counter.total

        env = {**os.environ, "OS_CLOUD": CLOUD}
        t0 = time.perf_counter()
        commands = 0
        for code in base_codes:
            with base_store.connect() as conn:
                cidr = show_department(conn, code)["cidr"]
            commands += baseline_department(code, cidr, env)
        t_base = time.perf_counter() - t0
        per_dept = t_base / max(1, len(base_codes))
        t_base_n = per_dept * args.depts
        check = make_plan(base_store, OpenStackCloud(CLOUD), deep=True)  # the baseline built the same thing
        print(f"departments: {args.depts} (baseline measured on {len(base_codes)}, "
              f"{commands} openstack commands)")
        print(f"before: {load_before}; after: {load()}")
        print(f"cloudctl apply:      {t_cloudctl:8.1f} s  ({calls} API calls, {calls / args.depts:.1f}/dept, "
              f"{t_cloudctl / args.depts:.2f} s/dept, --workers {args.workers})")
        print(f"openstack CLI:       {t_base_n:8.1f} s  ({per_dept:.1f} s/dept"
              + (", scaled" if len(base_codes) != args.depts else "") + ")")
        print(f"baseline left to do per cloudctl plan: {len(check.actions)} actions "
              f"(0 = the same result as cloudctl)")
        print(f"ratio: {t_base_n / t_cloudctl:.1f}x faster")
    finally:
        cleanup(store, actor)
        cleanup(base_store, actor)


if __name__ == "__main__":
    main()
