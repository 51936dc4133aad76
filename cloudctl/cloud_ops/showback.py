"""Showback: per department, allocated (quota) against used, over a period. Pure aggregation.

Inputs are plain data read elsewhere: Nova's os-simple-tenant-usage answer (vCPU-hours and
RAM MB-hours per project, as Nova computes them), the volume list (Cinder has no usage history:
GB-hours are size x the part of [created_at, end) inside the period, for volumes that still
exist), the departments' quotas, and the project id of each department.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

COLUMNS = ["dept", "servers", "vcpu_hours", "vcpu_quota", "vcpu_hours_allocated", "vcpu_utilisation",
           "ram_gb_hours", "ram_quota_gb", "ram_utilisation", "instances_quota", "volumes", "volume_gb",
           "volume_gb_hours", "gigabytes_quota", "volume_utilisation"]


@dataclass(frozen=True)
class ShowbackRow:
    dept: str
    servers: int
    vcpu_hours: float
    vcpu_quota: int | None
    vcpu_hours_allocated: float | None
    vcpu_utilisation: float | None
    ram_gb_hours: float
    ram_quota_gb: float | None
    ram_utilisation: float | None
    instances_quota: int | None
    volumes: int
    volume_gb: int
    volume_gb_hours: float
    gigabytes_quota: int | None
    volume_utilisation: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_time(value: Any) -> datetime | None:
    """OpenStack timestamps come with or without 'Z'/offset and fractional seconds; all are UTC."""
    if value is None or value == "":
        return None
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _hours(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 3600.0)


def volume_gb_hours(volumes: Iterable[Mapping[str, Any]], start: datetime, end: datetime) -> float:
    total = 0.0
    for v in volumes:
        created = parse_time(v.get("created_at")) or start
        total += int(v.get("size") or 0) * _hours(max(created, start), end)
    return total


def _ratio(used: float, allocated: float | None) -> float | None:
    if allocated is None or allocated <= 0:
        return None
    return used / allocated


def _quota(q: Mapping[str, int], key: str) -> int | None:
    v = q.get(key)
    return None if v is None or v < 0 else int(v)  # -1 (unlimited) has no allocation to compare with


def showback(*, tenant_usages: Iterable[Mapping[str, Any]], volumes: Iterable[Mapping[str, Any]],
             quotas: Mapping[str, Mapping[str, int]], project_of: Mapping[str, str], start: datetime,
             end: datetime) -> list[ShowbackRow]:
    """One row per department in project_of (dept -> project id), sorted by dept."""
    if end <= start:
        raise ValueError("end must be after start")
    period_h = _hours(start, end)
    usage_by_project = {u["tenant_id"]: u for u in tenant_usages}
    vols_by_project: dict[str, list[Mapping[str, Any]]] = {}
    for v in volumes:
        created = parse_time(v.get("created_at"))
        if created is not None and created >= end:
            continue  # did not exist in the period
        vols_by_project.setdefault(v.get("project_id") or "", []).append(v)
    rows = []
    for dept in sorted(project_of):
        pid = project_of[dept]
        u = usage_by_project.get(pid, {})
        q = quotas.get(dept, {})
        vcpu_h = float(u.get("total_vcpus_usage") or 0.0)
        ram_gb_h = float(u.get("total_memory_mb_usage") or 0.0) / 1024.0
        vq, rq, gq = _quota(q, "vcpus"), _quota(q, "ram"), _quota(q, "gigabytes")
        vcpu_alloc = None if vq is None else vq * period_h
        ram_q_gb = None if rq is None else rq / 1024.0
        vols = vols_by_project.get(pid, [])
        gb = sum(int(v.get("size") or 0) for v in vols)
        gb_h = volume_gb_hours(vols, start, end)
        rows.append(ShowbackRow(
            dept=dept, servers=len(u.get("server_usages") or []), vcpu_hours=vcpu_h, vcpu_quota=vq,
            vcpu_hours_allocated=vcpu_alloc, vcpu_utilisation=_ratio(vcpu_h, vcpu_alloc), ram_gb_hours=ram_gb_h,
            ram_quota_gb=ram_q_gb, ram_utilisation=_ratio(ram_gb_h, None if ram_q_gb is None else ram_q_gb * period_h),
            instances_quota=_quota(q, "instances"), volumes=len(vols), volume_gb=gb, volume_gb_hours=gb_h,
            gigabytes_quota=gq, volume_utilisation=_ratio(gb_h, None if gq is None else gq * period_h)))
    return rows


def totals(rows: Iterable[ShowbackRow]) -> dict[str, float]:
    rows = list(rows)
    return {k: sum(getattr(r, k) for r in rows) for k in ("servers", "vcpu_hours", "ram_gb_hours", "volumes",
                                                          "volume_gb", "volume_gb_hours")}
