"""Faults: transient errors through a fault-injecting proxy, and kill -9 at random moments.

The proxy is the only stand-in: every request still reaches the real services (or is refused
before reaching them), so duplicates and orphans would be real ones.
"""

from __future__ import annotations

import getpass
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudctl.cloud.openstack_adapter import OpenStackCloud
from cloudctl.cloud.reconcile import apply_plan, make_plan
from tests.cloud.conftest import DevCloud
from tests.cloud.faultproxy import FaultProxy
from tests.cloud.helpers import ACTOR, add_departments, admin_conn, cloud_store

pytestmark = pytest.mark.openstack


@pytest.fixture
def faulty(dev_cloud: DevCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultProxy, str]]:
    proxy = FaultProxy().start()
    clouds = tmp_path / "clouds.yaml"
    name = proxy.write_clouds_yaml(dev_cloud.clouds_yaml, clouds)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    yield proxy, name
    proxy.stop()


def _owned_counts(conn, codes: list[str]) -> Counter:  # type: ignore[no-untyped-def]
    """How many of each cloudctl-named resource exist, across ALL projects (duplicates show as 2)."""
    wanted = {f"dept-{c}-{s}" for c in codes for s in ("net", "subnet", "router", "baseline")}
    counts: Counter = Counter()
    for lister in (conn.network.networks, conn.network.subnets, conn.network.routers,
                   conn.network.security_groups):
        for r in lister():
            if r.name in wanted:
                counts[r.name] += 1
    for p in conn.identity.projects():
        if p.name in {f"dept-{c}" for c in codes}:
            counts[p.name] += 1
    return counts


def _assert_exactly_once(codes: list[str]) -> None:
    conn = admin_conn()
    counts = _owned_counts(conn, codes)
    expected = {f"dept-{c}{s}" for c in codes for s in ("", "-net", "-subnet", "-router", "-baseline")}
    assert set(counts) == expected, sorted(expected - set(counts))
    assert {k: v for k, v in counts.items() if v != 1} == {}
    # no orphans: every network/subnet/router/group carrying our names lives in its department's project
    projects = {p.name: p.id for p in conn.identity.projects() if p.name in {f"dept-{c}" for c in codes}}
    for lister in (conn.network.networks, conn.network.subnets, conn.network.routers):
        for r in lister():
            for c in codes:
                if r.name.startswith(f"dept-{c}-"):
                    assert r.project_id == projects[f"dept-{c}"]


def test_transient_errors_are_retried_without_duplicates(faulty: tuple[FaultProxy, str], tmp_path: Path,
                                                        code_prefix: str) -> None:
    proxy, name = faulty
    store = cloud_store(tmp_path)
    codes = add_departments(store, code_prefix, 3)
    proxy.add("GET", r"^/v3/projects", "error_before")
    proxy.add("GET", r"^/v2.0/networks", "reset_before")
    proxy.add("POST", r"^/v3/projects$", "error_after")  # created, answer lost
    proxy.add("POST", r"^/v2.0/networks$", "error_after", times=2)
    proxy.add("POST", r"^/v2.0/subnets$", "reset_after")
    proxy.add("POST", r"^/v2.0/security-group-rules$", "error_after")
    proxy.add("PUT", r"/add_router_interface$", "error_after")
    proxy.add("PUT", r"^/v2.1/os-quota-sets/", "error_before", times=2)
    proxy.add("POST", r"^/v2.0/routers$", "delay_after", seconds=8)  # created; answer after the client timeout
    cloud = OpenStackCloud(name, backoff_s=0.05, timeout_s=5, retries=5)
    result = make_plan(store, cloud)
    results = apply_plan(store, cloud, result, ACTOR, workers=3)
    assert all(r.ok for r in results), [r.error for r in results]
    fired = Counter(kind for kind, _, _ in proxy.log.fired)
    assert fired["error_after"] >= 5 and fired["reset_after"] == 1 and fired["delay_after"] == 1
    _assert_exactly_once(codes)
    assert make_plan(store, OpenStackCloud(name)).actions == []


def test_create_arriving_after_its_retry_is_removed_by_the_next_apply(faulty: tuple[FaultProxy, str],
                                                                      tmp_path: Path, code_prefix: str) -> None:
    proxy, name = faulty
    store = cloud_store(tmp_path)
    codes = add_departments(store, code_prefix, 1)
    # the first POST sits in the network longer than the client waits; the retry creates the router,
    # then the stuck request arrives and creates a second one
    proxy.add("POST", r"^/v2.0/routers$", "delay", seconds=8)
    cloud = OpenStackCloud(name, backoff_s=0.05, timeout_s=5, retries=5)
    assert all(r.ok for r in apply_plan(store, cloud, make_plan(store, cloud), ACTOR))
    deadline = time.monotonic() + 30
    while _owned_counts(admin_conn(), codes)[f"dept-{codes[0]}-router"] < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    plan = make_plan(store, OpenStackCloud(name))
    assert [(a.op, a.kind) for a in plan.actions] == [("delete", "duplicate_router")]
    assert all(r.ok for r in apply_plan(store, OpenStackCloud(name), plan, ACTOR))
    _assert_exactly_once(codes)
    assert make_plan(store, OpenStackCloud(name)).actions == []


def test_persistent_errors_fail_the_department_not_the_run(faulty: tuple[FaultProxy, str], tmp_path: Path,
                                                           code_prefix: str) -> None:
    proxy, name = faulty
    store = cloud_store(tmp_path)
    codes = add_departments(store, code_prefix, 2)
    proxy.add("POST", r"^/v2.0/networks$", "error_before", times=1000)
    cloud = OpenStackCloud(name, backoff_s=0.01, retries=2)
    results = apply_plan(store, cloud, make_plan(store, cloud), ACTOR)
    assert [r.ok for r in results] == [False, False]
    assert all("create network" in (r.error or "") for r in results)
    proxy.faults.clear()
    results = apply_plan(store, cloud, make_plan(store, cloud), ACTOR)
    assert all(r.ok for r in results)
    _assert_exactly_once(codes)


def test_kill_9_at_random_moments_then_apply_finishes_without_orphans(dev_cloud: DevCloud, tmp_path: Path,
                                                                      code_prefix: str) -> None:
    store = cloud_store(tmp_path)
    codes = add_departments(store, code_prefix, 4)
    env = {**os.environ, "CLOUDCTL_DB": store.url, "CLOUDCTL_AS": getpass.getuser()}
    argv = [sys.executable, "-m", "cloudctl", "cloud", "apply", "--cloud", dev_cloud.name, "--workers", "3"]
    rng = random.Random(int(code_prefix[1:], 16))
    kills, low, high = 0, 1.5, 5.0  # cloudctl's own start-up is well under a second
    for trial in range(6):  # until two runs died mid-work; a run that finished first teaches the next delay
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(low, high))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            proc.wait(timeout=60)
            if kills == 2:
                break
        else:  # it finished before the kill: the next run gets new departments and a shorter fuse
            took = time.monotonic() - started
            low, high = 0.2 * took, 0.8 * took
            codes += add_departments(store, f"{code_prefix}-{trial}", 3)
    assert kills >= 1, "every run finished before its kill"
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    _assert_exactly_once(codes)
    assert make_plan(store, OpenStackCloud(dev_cloud.name)).actions == []
