"""Pure rules without a cloud: idle lifecycle with an injected clock, showback arithmetic edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudctl.approvals.kinds import KINDS
from cloudctl.cloud_ops.idle import IdlePolicy, extended_grace, lifecycle, scan
from cloudctl.cloud_ops.showback import showback
from cloudctl.errors import InputError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = IdlePolicy(days=10, grace_days=3)


def _scan(now: datetime) -> list:
    servers = [{"id": "s1", "status": "SHUTOFF", "updated_at": "2026-01-01T00:00:00Z", "project_id": "p"},
               {"id": "s2", "status": "ACTIVE", "updated_at": "2025-01-01T00:00:00Z", "project_id": "p"}]
    volumes = [{"id": "v1", "status": "available", "attachments": [], "updated_at": "2026-01-01T00:00:00",
                "size": 5, "project_id": "p"},
               {"id": "v2", "status": "in-use", "attachments": ["s2"], "updated_at": "2025-01-01T00:00:00",
                "project_id": "p"}]
    fips = [{"id": "f1", "port_id": None, "updated_at": "2026-01-09T00:00:00Z", "project_id": "q"},
            {"id": "f2", "port_id": "x", "updated_at": "2025-01-01T00:00:00Z", "project_id": "p"}]
    return scan(servers=servers, volumes=volumes, floating_ips=fips, now=now, policy=POLICY, dept_of={"p": "fin"})


def test_scan_threshold_is_exact_at_n_days() -> None:
    assert {f.id for f in _scan(T0 + timedelta(days=10) - timedelta(seconds=1))} == {"f1"}
    found = _scan(T0 + timedelta(days=10))
    assert [(f.id, f.dept) for f in found] == [("s1", "fin"), ("v1", "fin"), ("f1", None)]


def test_lifecycle_warn_wait_reclaim_done_and_clear() -> None:
    now = T0 + timedelta(days=11)
    found = _scan(now)
    steps = lifecycle(found, {}, now=now, policy=POLICY)
    assert {s.op for s in steps} == {"warn"} and all(s.grace_until == now + timedelta(days=3) for s in steps)
    records = {s.resource_id: {"state": "warned", "grace_until": s.grace_until.isoformat(), "kind": s.kind}
               for s in steps}
    assert {s.op for s in lifecycle(found, records, now=now + timedelta(days=3, seconds=-1), policy=POLICY)} == {
        "wait"}
    later = now + timedelta(days=3)
    reclaim = lifecycle(found, records, now=later, policy=POLICY)
    assert [(s.op, s.action) for s in reclaim] == [("reclaim", "snapshot"), ("reclaim", "delete"),
                                                    ("reclaim", "delete")]
    records["s1"]["state"] = "reclaimed"
    # v1 got attached meanwhile: it is no longer idle -> clear; s1 is done
    still = [f for f in found if f.id != "v1"]
    ops = {s.resource_id: s.op for s in lifecycle(still, records, now=later, policy=POLICY)}
    assert ops == {"s1": "done", "f1": "reclaim", "v1": "clear"}


def test_extend_counts_from_the_later_of_deadline_and_now() -> None:
    assert extended_grace(T0, T0 - timedelta(days=1), 2) == T0 + timedelta(days=2)
    assert extended_grace(T0, T0 + timedelta(days=5), 2) == T0 + timedelta(days=7)
    with pytest.raises(InputError):
        extended_grace(T0, T0, 0)


def test_policy_refuses_volume_snapshot() -> None:
    with pytest.raises(InputError, match="volume cannot be reclaimed by snapshot"):
        IdlePolicy(actions={"volume": "snapshot"})


def test_showback_quota_unlimited_and_volumes_created_inside_period() -> None:
    start, end = T0, T0 + timedelta(hours=10)
    rows = showback(
        tenant_usages=[{"tenant_id": "p", "total_vcpus_usage": 12.5, "total_memory_mb_usage": 2048.0,
                        "server_usages": [{}, {}]}],
        volumes=[{"project_id": "p", "size": 4, "created_at": "2026-01-01T05:00:00"},
                 {"project_id": "p", "size": 100, "created_at": "2026-01-02T00:00:00"}],
        quotas={"a": {"vcpus": 5, "ram": -1, "gigabytes": 10}}, project_of={"a": "p", "b": "none"},
        start=start, end=end)
    a, b = rows
    assert (a.servers, a.vcpu_hours, a.vcpu_hours_allocated, a.vcpu_utilisation) == (2, 12.5, 50.0, 0.25)
    assert (a.ram_gb_hours, a.ram_quota_gb, a.ram_utilisation) == (2.0, None, None)
    assert (a.volumes, a.volume_gb, a.volume_gb_hours, a.volume_utilisation) == (1, 4, 20.0, 0.2)
    assert (b.servers, b.vcpu_hours, b.vcpu_quota) == (0, 0.0, None)


def test_server_payload_gets_size_fields_from_flavor() -> None:
    server = KINDS["server"]
    out = server.normalise(server.parse({"flavor": "m1.tiny", "image": "img", "count": 3}), {"vcpus": 2, "ram": 512})
    assert out == {"flavor": "m1.tiny", "image": "img", "count": 3, "instances": 3, "vcpus": 6, "ram": 1536}
    with pytest.raises(InputError) as e:
        KINDS["volume"].parse({"size_gb": 1, "count": 0})
    assert e.value.field == "payload.count"
    with pytest.raises(InputError) as e:
        KINDS["quota-increase"].parse({"cpus": 1})
    assert e.value.field == "payload.cpus"
