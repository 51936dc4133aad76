"""API economy: a no-op plan makes the same number of API calls for 1 or 4 departments."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudctl.cloud.openstack_adapter import OpenStackCloud
from cloudctl.cloud.reconcile import apply_plan, make_plan
from tests.cloud.conftest import DevCloud
from tests.cloud.helpers import ACTOR, add_departments, cloud_store, run_cli

pytestmark = pytest.mark.openstack


def test_noop_plan_calls_do_not_grow_with_departments(dev_cloud: DevCloud, tmp_path: Path,
                                                      code_prefix: str) -> None:
    (tmp_path / "big").mkdir()
    (tmp_path / "small").mkdir()
    big = cloud_store(tmp_path / "big")
    codes = add_departments(big, code_prefix, 4)
    cloud = OpenStackCloud(dev_cloud.name)
    results = apply_plan(big, cloud, make_plan(big, cloud), ACTOR)
    assert all(r.ok for r in results), [r.error for r in results]
    small = cloud_store(tmp_path / "small")
    assert add_departments(small, code_prefix, 1) == codes[:1]  # same codes, same subnets (deterministic)
    # this store has not pushed volume quotas yet (it compares them with what it last pushed): one apply
    first = make_plan(small, OpenStackCloud(dev_cloud.name))
    assert {(a.kind, a.name) for a in first.actions} == {("quota", "volumes"), ("quota", "gigabytes")}
    apply_plan(small, OpenStackCloud(dev_cloud.name), first, ACTOR)

    plans = {}
    for label, store in (("small", small), ("big", big)):
        plans[label] = make_plan(store, OpenStackCloud(dev_cloud.name))
        assert plans[label].actions == [], plans[label].actions
    assert plans["small"].api_calls == plans["big"].api_calls
    assert plans["small"].calls_by_endpoint == plans["big"].calls_by_endpoint

    # --deep adds exactly one Cinder call per department
    deep = {label: make_plan(store, OpenStackCloud(dev_cloud.name), deep=True)
            for label, store in (("small", small), ("big", big))}
    assert deep["big"].api_calls - deep["small"].api_calls == 3
    assert deep["big"].actions == []

    r = run_cli(["cloud", "plan", "--cloud", dev_cloud.name, "--stats"], big.url)
    assert r.returncode == 0 and "No changes. 4 departments" in r.stdout
    assert f"stats: {plans['big'].api_calls} API calls" in r.stderr
