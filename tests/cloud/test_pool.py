"""The shared pool and quotas: capacity from the real placement service, checked quota changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudctl.cloud.pool import check_quota_change, pool_rows
from cloudctl.errors import InputError
from tests.cloud.conftest import DevCloud
from tests.cloud.helpers import add_departments, admin_conn, cloud_store, run_cli

CAPACITY = {"VCPU": {"total": 16, "reserved": 0, "ratio": 16.0, "used": 3},
            "MEMORY_MB": {"total": 32768, "reserved": 512, "ratio": 1.5, "used": 1024},
            "DISK_GB": {"total": 1000, "reserved": 0, "ratio": 1.0, "used": 10}}


def test_pool_rows_use_setting_over_placement_ratio_and_count_unlimited_as_everything() -> None:
    quotas = {"a": {"vcpus": 10, "ram": 4096}, "b": {"vcpus": -1, "ram": 1024}}
    rows = {r.resource: r for r in pool_rows(CAPACITY, {"overcommit_vcpu": "4"}, quotas)}
    assert rows["vcpu"].overcommit == 4 and rows["vcpu"].sellable == 64
    assert rows["vcpu"].promised == 10 + 64 and rows["vcpu"].headroom == -10
    assert rows["ram_mb"].overcommit == 1.5 and rows["ram_mb"].sellable == (32768 - 512) * 1.5
    assert rows["ram_mb"].promised == 5120 and rows["ram_mb"].used == 1024


def test_quota_change_refused_beyond_sellable_names_the_flag_and_the_room() -> None:
    quotas = {"a": {"vcpus": 40}, "b": {"vcpus": 10}}
    rows = pool_rows(CAPACITY, {"overcommit_vcpu": "4"}, quotas)  # sellable 64
    check_quota_change(rows, quotas, "b", {"vcpus": 24})  # 40 + 24 = 64: fits exactly
    with pytest.raises(InputError) as e:
        check_quota_change(rows, quotas, "b", {"vcpus": 25})
    assert e.value.field == "--vcpus" and "at most 24" in e.value.render()


@pytest.mark.openstack
def test_pool_show_and_quota_set_against_real_placement(dev_cloud: DevCloud, tmp_path: Path,
                                                        code_prefix: str) -> None:
    store = cloud_store(tmp_path)
    a, b = add_departments(store, code_prefix, 2)
    conn = admin_conn()
    vcpu_total = 0
    for rp in conn.placement.resource_providers():
        inv = conn.placement.get(f"/resource_providers/{rp.id}/inventories", microversion="1.26").json()
        vcpu_total += inv["inventories"]["VCPU"]["total"] - inv["inventories"]["VCPU"]["reserved"]
    assert vcpu_total > 0

    r = run_cli(["pool", "overcommit", "--vcpu", "2"], store.url)
    assert r.returncode == 0, r.stderr
    r = run_cli(["pool", "show", "--cloud", dev_cloud.name, "--format", "json"], store.url)
    assert r.returncode == 0, r.stderr
    vcpu = next(x for x in json.loads(r.stdout)["resources"] if x["resource"] == "vcpu")
    assert vcpu["capacity"] == vcpu_total and vcpu["overcommit"] == 2 and vcpu["sellable"] == 2 * vcpu_total
    assert vcpu["promised"] == 40  # two departments with the default 20 vCPUs

    too_many = 2 * vcpu_total - 20 + 1
    r = run_cli(["quota", "set", a, "--vcpus", str(too_many), "--cloud", dev_cloud.name], store.url)
    assert r.returncode == 2 and "--vcpus" in r.stderr and "at most" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(["quota", "set", a, "--vcpus", "33", "--ram", "4096", "--cloud", dev_cloud.name], store.url)
    assert r.returncode == 0, r.stderr

    r = run_cli(["cloud", "apply", "--cloud", dev_cloud.name, "--dept", a, "--dept", b], store.url)
    assert r.returncode == 0, r.stderr
    r = run_cli(["quota", "show", a, "--cloud", dev_cloud.name, "--format", "json"], store.url)
    assert r.returncode == 0, r.stderr
    rows = {x["resource"]: x for x in json.loads(r.stdout)}
    assert rows["vcpus"]["quota"] == 33 and rows["vcpus"]["in_cloud"] == 33 and rows["vcpus"]["used"] == 0
    assert rows["ram"]["in_cloud"] == 4096
    r = run_cli(["pool", "show", "--cloud", dev_cloud.name, "--format", "json"], store.url)
    vcpu = next(x for x in json.loads(r.stdout)["resources"] if x["resource"] == "vcpu")
    assert vcpu["promised"] == 53
