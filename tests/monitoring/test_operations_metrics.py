"""Quota, gateway and approval metrics: read when their tables are present, in base units."""

from __future__ import annotations

from sqlalchemy import text

from cloudctl.metrics import Exposition
from cloudctl.metrics.prom import parse_exposition

NOW = 1_790_000_000.0

SHAPES = [
    "CREATE TABLE IF NOT EXISTS cloud_department (code VARCHAR(32) PRIMARY KEY, name TEXT NOT NULL, "
    "division_code VARCHAR(12) NOT NULL, contact TEXT, status VARCHAR(16) NOT NULL, cidr VARCHAR(64), "
    "created_at VARCHAR(40) NOT NULL, retired_at VARCHAR(40))",
    "CREATE TABLE IF NOT EXISTS cloud_department_quota (dept_code VARCHAR(32), resource VARCHAR(32), "
    "value BIGINT NOT NULL, PRIMARY KEY (dept_code, resource))",
    "CREATE TABLE cloud_usage (dept_code VARCHAR(32), resource VARCHAR(32), value BIGINT NOT NULL)",
    "CREATE TABLE gateway_publication (id INTEGER PRIMARY KEY, state VARCHAR(16) NOT NULL)",
    "CREATE TABLE gateway_drift (gateway VARCHAR(64) PRIMARY KEY, drift SMALLINT NOT NULL)",
    "CREATE TABLE approval_request (id INTEGER PRIMARY KEY, kind VARCHAR(32), state VARCHAR(16), due_at VARCHAR(40))",
]
ROWS = [
    "INSERT INTO cloud_department (code, name, division_code, status, created_at) VALUES "
    "('health', 'Health', '11', 'active', 'x'), ('old', 'Old', '11', 'retired', 'x')",
    "INSERT INTO cloud_department_quota VALUES ('health', 'vcpus', 20), ('health', 'ram', 51200), "
    "('health', 'gigabytes', 500), ('old', 'vcpus', 4)",
    "INSERT INTO cloud_usage VALUES ('health', 'vcpus', 19), ('health', 'ram', 1024)",
    "INSERT INTO gateway_publication (state) VALUES ('approved'), ('approved'), ('pending'), ('deployed')",
    "INSERT INTO gateway_drift VALUES ('gw-1', 0), ('gw-2', 1)",
    "INSERT INTO approval_request (kind, state, due_at) VALUES "
    "('resource', 'pending', '2026-01-01T00:00:00+00:00'), ('resource', 'pending', '2027-01-01T00:00:00+00:00'), "
    "('resource', 'approved', '2026-01-01T00:00:00+00:00'), ('publication', 'pending', NULL)",
]


def test_operations_metrics_when_tables_are_present(seeded_sqlite) -> None:  # type: ignore[no-untyped-def]
    with seeded_sqlite.begin() as conn:
        for sql in SHAPES + ROWS:
            conn.execute(text(sql))
    s = parse_exposition(Exposition(seeded_sqlite, clock=lambda: NOW).text())
    quota = {(x["department"], x["resource"]): v for x, v in s["cloudctl_department_quota"]}
    assert quota == {("health", "vcpus"): 20, ("health", "ram_bytes"): 51200 * 2**20,
                     ("health", "volume_bytes"): 500 * 2**30}  # retired departments left out
    usage = {(x["department"], x["resource"]): v for x, v in s["cloudctl_department_usage"]}
    assert usage == {("health", "vcpus"): 19, ("health", "ram_bytes"): 1024 * 2**20}
    assert {x["state"]: v for x, v in s["cloudctl_gateway_publications"]} == {"approved": 2, "pending": 1,
                                                                              "deployed": 1}
    assert {x["gateway"]: v for x, v in s["cloudctl_gateway_drift"]} == {"gw-1": 0, "gw-2": 1}
    req = {(x["kind"], x["state"]): v for x, v in s["cloudctl_approval_requests"]}
    assert req == {("resource", "pending"): 2, ("resource", "approved"): 1, ("publication", "pending"): 1}
    assert {x["kind"]: v for x, v in s["cloudctl_approval_requests_overdue"]} == {"resource": 1, "publication": 0}
    assert all(v == 1.0 for _, v in s["cloudctl_collector_success"])
