"""Department quotas and usage, gateway publications and drift, approval requests.

Each collector reads its capability's tables when they exist (with the columns it needs) and
emits nothing otherwise: capabilities land one by one, and a store without them is still
scraped cleanly. Expected shapes:

- cloud_department(code, status) + cloud_department_quota(dept_code, resource, value): quotas;
  cloud_usage(dept_code, resource, value): usage snapshots, when the cloud capability stores them.
- gateway_publication(state): publications per state; gateway_drift(gateway, drift): 1 when a
  gateway's running ruleset differs from its approved publication.
- approval_request(kind, state, due_at): requests per kind and state; overdue = pending past due_at.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family

# Store quota names -> (metric resource label, factor to base units). OpenStack's ram quota is
# in MiB and gigabytes in GiB; Prometheus wants bytes.
RESOURCE_UNITS: dict[str, tuple[str, float]] = {"ram": ("ram_bytes", 2.0**20), "ram_mb": ("ram_bytes", 2.0**20),
                                                "gigabytes": ("volume_bytes", 2.0**30)}


def _has_columns(ctx: CollectContext, table: str, *cols: str) -> bool:
    return ctx.has(table) and set(cols) <= ctx.columns(table)


def _resource(name: str, value: float) -> tuple[str, float]:
    label, factor = RESOURCE_UNITS.get(name, (name, 1.0))
    return label, value * factor


def _per_department(ctx: CollectContext, family: Family, table: str) -> None:
    rows = ctx.conn.execute(text(
        f"SELECT q.dept_code, q.resource, q.value FROM {table} q JOIN cloud_department d ON d.code = q.dept_code "
        "WHERE d.status = 'active' ORDER BY q.dept_code, q.resource")).all()
    for dept, resource, value in rows:
        label, v = _resource(resource, float(value))
        family.add(v, dept, label)


def collect_quotas(ctx: CollectContext) -> list[Family]:
    if not (_has_columns(ctx, "cloud_department", "code", "status")
            and _has_columns(ctx, "cloud_department_quota", "dept_code", "resource", "value")):
        return []
    labels = ("department", "resource")
    quota = Family("cloudctl_department_quota", "gauge",
                   "The department's quota per resource (counts; ram and volumes in bytes).", labels)
    _per_department(ctx, quota, "cloud_department_quota")
    out = [quota]
    if _has_columns(ctx, "cloud_usage", "dept_code", "resource", "value"):
        usage = Family("cloudctl_department_usage", "gauge",
                       "The department's last measured usage per resource (same units as the quota).", labels)
        _per_department(ctx, usage, "cloud_usage")
        out.append(usage)
    return out


def collect_gateway(ctx: CollectContext) -> list[Family]:
    out = []
    if _has_columns(ctx, "gateway_publication", "state"):
        pubs = Family("cloudctl_gateway_publications", "gauge", "Gateway publications per state.", ("state",))
        for state, n in ctx.conn.execute(text(
                "SELECT state, count(*) FROM gateway_publication GROUP BY state ORDER BY state")):
            pubs.add(float(n), str(state))
        out.append(pubs)
    if _has_columns(ctx, "gateway_drift", "gateway", "drift"):
        drift = Family("cloudctl_gateway_drift", "gauge",
                       "1 when the gateway's running ruleset differs from its approved publication.", ("gateway",))
        for gw, d in ctx.conn.execute(text("SELECT gateway, drift FROM gateway_drift ORDER BY gateway")):
            drift.add(1.0 if d else 0.0, str(gw))
        out.append(drift)
    return out


def collect_approvals(ctx: CollectContext) -> list[Family]:
    if not _has_columns(ctx, "approval_request", "kind", "state", "due_at"):
        return []
    requests = Family("cloudctl_approval_requests", "gauge", "Approval requests per kind and state.",
                      ("kind", "state"))
    overdue = Family("cloudctl_approval_requests_overdue", "gauge",
                     "Pending approval requests past their due time, per kind.", ("kind",))
    counts: dict[tuple[str, str], int] = {}
    late: dict[str, int] = {}
    for kind, state, due in ctx.conn.execute(text("SELECT kind, state, due_at FROM approval_request")):
        counts[(kind, state)] = counts.get((kind, state), 0) + 1
        late.setdefault(kind, 0)
        if state == "pending" and due is not None and _epoch(due) < ctx.now:
            late[kind] += 1
    for (kind, state), n in sorted(counts.items()):
        requests.add(float(n), kind, state)
    for kind, n in sorted(late.items()):
        overdue.add(float(n), kind)
    return [requests, overdue]


def _epoch(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()
