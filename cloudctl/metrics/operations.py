"""Department quotas and usage, gateway publications and drift, approval requests.

Each collector reads its capability's tables when they exist (with the columns it needs) and
emits nothing otherwise: capabilities land one by one, and a store without them is still
scraped cleanly. Expected shapes:

- cloud_department(code, status) + cloud_department_quota(dept_code, resource, value): quotas;
  cloud_usage(dept_code, resource, value): usage snapshots, when the cloud capability stores them.
- gateway_publication(gateway, request_id) joined to approval_request(id, status): publications
  per gateway and state (the state of their approval request); gateway_deploy(gateway, host,
  action, status, drift_items): the latest `verify` per gateway and host says whether it drifted.
- approval_request(kind, status, deadline_at): requests per kind and state; overdue = pending
  past deadline_at.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from cloudctl.approvals.kinds import KINDS
from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family

# Store quota names -> (metric resource label, factor to base units). OpenStack's ram quota is
# in MiB and gigabytes in GiB; Prometheus wants bytes.
RESOURCE_UNITS: dict[str, tuple[str, int]] = {"ram": ("ram_bytes", 2**20), "ram_mb": ("ram_bytes", 2**20),
                                              "gigabytes": ("volume_bytes", 2**30)}


def _has_columns(ctx: CollectContext, table: str, *cols: str) -> bool:
    return ctx.has(table) and set(cols) <= ctx.columns(table)


def _resource(name: str, value: int) -> tuple[str, float]:
    label, factor = RESOURCE_UNITS.get(name, (name, 1))
    return label, value * factor


def _per_department(ctx: CollectContext, family: Family, table: str) -> None:
    rows = ctx.conn.execute(text(
        f"SELECT q.dept_code, q.resource, q.value FROM {table} q JOIN cloud_department d ON d.code = q.dept_code "
        "WHERE d.status = 'active' ORDER BY q.dept_code, q.resource")).all()
    for dept, resource, value in rows:
        label, v = _resource(resource, int(value))
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
    if _has_columns(ctx, "gateway_publication", "gateway", "request_id") and _has_columns(
            ctx, "approval_request", "id", "status"):
        pubs = Family("cloudctl_gateway_publications", "gauge",
                      "Publications per gateway and the state of their approval request.", ("gateway", "state"))
        for gw, state, n in ctx.conn.execute(text(
                "SELECT p.gateway, COALESCE(r.status, 'unknown'), count(*) FROM gateway_publication p "
                "LEFT JOIN approval_request r ON r.id = p.request_id GROUP BY p.gateway, r.status "
                "ORDER BY p.gateway, r.status")):
            pubs.add(int(n), str(gw), str(state))
        out.append(pubs)
    if _has_columns(ctx, "gateway_deploy", "id", "gateway", "host", "action", "status", "drift_items"):
        labels = ("gateway", "host")
        drift = Family("cloudctl_gateway_drift", "gauge",
                       "1 when the last verify found the host's running ruleset differs from the approved one.",
                       labels)
        items = Family("cloudctl_gateway_drift_items", "gauge", "Differences the last verify found.", labels)
        for gw, host, status, n in ctx.conn.execute(text(
                "SELECT d.gateway, d.host, d.status, d.drift_items FROM gateway_deploy d JOIN "
                "(SELECT max(id) AS id FROM gateway_deploy WHERE action = 'verify' GROUP BY gateway, host) v "
                "ON v.id = d.id ORDER BY d.gateway, d.host")):
            drifted = status != "in-sync"
            drift.add(1 if drifted else 0, str(gw), str(host))
            items.add(int(n or 0) if drifted else 0, str(gw), str(host))
        out += [drift, items]
    return out


def collect_approvals(ctx: CollectContext) -> list[Family]:
    if not _has_columns(ctx, "approval_request", "kind", "status", "deadline_at"):
        return []
    requests = Family("cloudctl_approval_requests", "gauge", "Approval requests per kind and state.",
                      ("kind", "state"))
    overdue = Family("cloudctl_approval_requests_overdue", "gauge",
                     "Pending approval requests past their deadline, per kind.", ("kind",))
    counts: dict[tuple[str, str], int] = {}
    late: dict[str, int] = {}
    for stored, state, n in ctx.conn.execute(text(
            "SELECT kind, status, count(*) FROM approval_request GROUP BY kind, status")):
        kind = stored if stored in KINDS else "other"  # registered kinds only: the label stays bounded
        counts[(kind, state)] = counts.get((kind, state), 0) + int(n)
        late.setdefault(kind, 0)
    for stored, deadline in ctx.conn.execute(text(
            "SELECT kind, deadline_at FROM approval_request WHERE status = 'pending'")):
        kind = stored if stored in KINDS else "other"
        if deadline is not None and _epoch(deadline) < ctx.now:
            late[kind] += 1
    for (kind, state), n in sorted(counts.items()):
        requests.add(n, kind, state)
    for kind, n in sorted(late.items()):
        overdue.add(n, kind)
    return [requests, overdue]


def _epoch(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()
