"""The shared pool (pure): capacity x overcommit, promised quotas, usage, headroom; quota checks.

capacity  = (placement inventory total - reserved) summed over hypervisors
sellable  = capacity x overcommit ratio (cloudctl setting, else placement's allocation_ratio)
promised  = sum of active departments' quotas (-1 = unlimited counts as the whole sellable amount)
headroom  = sellable - promised (what can still be promised); free = sellable - used
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from cloudctl.errors import InputError

# pool resource -> (placement resource class, department quota name, setting key for the ratio)
POOL_RESOURCES = {
    "vcpu": ("VCPU", "vcpus", "overcommit_vcpu"),
    "ram_mb": ("MEMORY_MB", "ram", "overcommit_ram"),
    "disk_gb": ("DISK_GB", "gigabytes", "overcommit_disk"),
}


@dataclass(frozen=True)
class PoolRow:
    resource: str
    capacity: float
    overcommit: float
    sellable: float
    promised: float
    used: float
    headroom: float
    promised_ratio: float  # promised / sellable (0-1, above 1 = overpromised)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pool_rows(capacity: dict[str, dict[str, float]], settings: dict[str, str],
              quotas: dict[str, dict[str, int]]) -> list[PoolRow]:
    rows = []
    for resource, (rc, quota_name, ratio_key) in POOL_RESOURCES.items():
        inv = capacity.get(rc, {"total": 0.0, "reserved": 0.0, "ratio": 1.0, "used": 0.0})
        cap = max(0.0, inv["total"] - inv["reserved"])
        ratio = float(settings.get(ratio_key) or inv.get("ratio") or 1.0)
        sellable = cap * ratio
        promised = sum(sellable if q.get(quota_name, 0) == -1 else q.get(quota_name, 0) for q in quotas.values())
        rows.append(PoolRow(resource, cap, ratio, sellable, float(promised), float(inv["used"]),
                            sellable - promised, promised / sellable if sellable else 0.0))
    return rows


def check_quota_change(rows: list[PoolRow], quotas: dict[str, dict[str, int]], dept: str,
                       new: dict[str, int]) -> None:
    """Refuse (InputError naming the flag) a change that would promise more than the pool can sell."""
    by_quota = {POOL_RESOURCES[r.resource][1]: r for r in rows}
    for name, value in new.items():
        row = by_quota.get(name)
        if row is None:
            continue
        current = quotas.get(dept, {}).get(name, 0)
        others = row.promised - (row.sellable if current == -1 else current)
        wanted = row.sellable if value == -1 else value
        if others + wanted > row.sellable:
            room = max(0.0, row.sellable - others)
            raise InputError(
                f"quota {name}={value} for {dept} would promise {others + wanted:,.0f} of {row.sellable:,.0f} "
                f"sellable {row.resource} (capacity {row.capacity:,.0f} x overcommit {row.overcommit:g})",
                field=f"--{name}",
                hint=f"at most {room:,.0f} is left for {dept}; lower other departments' quotas or raise the "
                     f"overcommit (cloudctl pool overcommit)")
