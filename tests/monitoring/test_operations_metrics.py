"""Quota, gateway and approval metrics from their capabilities' tables, in base units."""

from __future__ import annotations

from sqlalchemy import text

from cloudctl.metrics import Exposition
from cloudctl.metrics.prom import parse_exposition

NOW = 1_790_000_000.0  # 2026-09-21

# cloud_usage is not (yet) a table of the cloud capability: the collector reads it when present.
USAGE = "CREATE TABLE cloud_usage (dept_code VARCHAR(32), resource VARCHAR(32), value BIGINT NOT NULL)"
ROWS = [
    "INSERT INTO cloud_department (code, name, division_code, status, created_at) VALUES "
    "('health', 'Health', '11', 'active', 'x'), ('old', 'Old', '11', 'retired', 'x')",
    "INSERT INTO cloud_department_quota VALUES ('health', 'vcpus', 20), ('health', 'ram', 51200), "
    "('health', 'gigabytes', 500), ('old', 'vcpus', 4)",
    "INSERT INTO cloud_usage VALUES ('health', 'vcpus', 19), ('health', 'ram', 1024)",
    "INSERT INTO approval_request (id, kind, title, requester, payload, policy_name, policy, status, created_at, "
    "deadline_at) VALUES "
    "(1, 'quota-increase', 't', 'r', '{}', 'p', '{}', 'pending', 'x', '2026-01-01T00:00:00+00:00'), "
    "(2, 'quota-increase', 't', 'r', '{}', 'p', '{}', 'pending', 'x', '2027-01-01T00:00:00+00:00'), "
    "(3, 'quota-increase', 't', 'r', '{}', 'p', '{}', 'approved', 'x', '2026-01-01T00:00:00+00:00'), "
    "(4, 'gateway-publication', 't', 'r', '{}', 'p', '{}', 'pending', 'x', '2027-01-01T00:00:00+00:00'), "
    "(5, 'gateway-publication', 't', 'r', '{}', 'p', '{}', 'approved', 'x', '2026-01-01T00:00:00+00:00'), "
    "(6, 'free text from an old store', 't', 'r', '{}', 'p', '{}', 'pending', 'x', '2026-01-01T00:00:00+00:00')",
    "INSERT INTO gateway_publication (gateway, position, name, body, request_id, updated_at) VALUES "
    "('gw-1', 1, 'a', '{}', 4, 'x'), ('gw-1', 2, 'b', '{}', 5, 'x'), ('gw-2', 1, 'c', '{}', 5, 'x')",
    "INSERT INTO gateway_deploy (id, gateway, host, action, status, drift_items, at, actor) VALUES "
    "(1, 'gw-1', 'h1', 'verify', 'drift', 3, 'x', 'a'), (2, 'gw-1', 'h1', 'verify', 'in-sync', 0, 'x', 'a'), "
    "(3, 'gw-2', 'h2', 'verify', 'in-sync', 0, 'x', 'a'), (4, 'gw-2', 'h2', 'verify', 'drift', 2, 'x', 'a'), "
    "(5, 'gw-2', 'h2', 'deploy', 'confirmed', NULL, 'x', 'a')",
]


def test_operations_metrics_from_their_tables(seeded_sqlite) -> None:  # type: ignore[no-untyped-def]
    with seeded_sqlite.begin() as conn:
        for sql in [USAGE, *ROWS]:
            conn.execute(text(sql))
    s = parse_exposition(Exposition(seeded_sqlite, clock=lambda: NOW).text())
    quota = {(x["department"], x["resource"]): v for x, v in s["cloudctl_department_quota"]}
    assert quota == {("health", "vcpus"): 20, ("health", "ram_bytes"): 51200 * 2**20,
                     ("health", "volume_bytes"): 500 * 2**30}  # retired departments left out
    usage = {(x["department"], x["resource"]): v for x, v in s["cloudctl_department_usage"]}
    assert usage == {("health", "vcpus"): 19, ("health", "ram_bytes"): 1024 * 2**20}
    pubs = {(x["gateway"], x["state"]): v for x, v in s["cloudctl_gateway_publications"]}
    assert pubs == {("gw-1", "pending"): 1, ("gw-1", "approved"): 1, ("gw-2", "approved"): 1}
    assert {x["gateway"]: v for x, v in s["cloudctl_gateway_drift"]} == {"gw-1": 0, "gw-2": 1}  # latest verify
    assert {x["gateway"]: v for x, v in s["cloudctl_gateway_drift_items"]} == {"gw-1": 0, "gw-2": 2}
    req = {(x["kind"], x["state"]): v for x, v in s["cloudctl_approval_requests"]}
    # the kind label takes only registered kinds: anything else is "other", so the label stays bounded
    assert req == {("quota-increase", "pending"): 2, ("quota-increase", "approved"): 1,
                   ("gateway-publication", "pending"): 1, ("gateway-publication", "approved"): 1,
                   ("other", "pending"): 1}
    assert {x["kind"]: v for x, v in s["cloudctl_approval_requests_overdue"]} == {
        "quota-increase": 1, "gateway-publication": 0, "other": 1}
    assert all(v == 1.0 for _, v in s["cloudctl_collector_success"])


def test_without_rows_the_families_are_empty_not_missing(seeded_sqlite) -> None:  # type: ignore[no-untyped-def]
    body = Exposition(seeded_sqlite, clock=lambda: NOW).text()
    for name in ("cloudctl_department_quota", "cloudctl_gateway_drift", "cloudctl_approval_requests_overdue"):
        assert f"# TYPE {name} gauge" in body and f"\n{name}{{" not in body
    assert "cloudctl_department_usage" not in body  # no usage table: nothing at all
