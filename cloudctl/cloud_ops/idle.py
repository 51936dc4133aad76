"""Idle resources: which are idle (scan), and the lifecycle warn -> grace period -> reclaim. Pure.

The clock is a parameter (`now`), so the rules are tested at any moment with real timestamps.
Idle since:
- server: status SHUTOFF, since its `updated_at` (the last state change);
- volume: status available with no attachment, since its `updated_at` (detach or creation);
- floating IP: no port, since its `updated_at`.
A resource is *idle* when it has been so for at least `days` days (floating IPs: any time unless
`fip_days` is set).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cloudctl.cloud_ops.showback import parse_time
from cloudctl.errors import InputError

KINDS = ("server", "volume", "floating_ip")
ACTIONS = ("snapshot", "delete")


@dataclass(frozen=True)
class IdlePolicy:
    days: int = 30  # idle at least this long before a warning
    grace_days: int = 7  # between the warning and the reclaim
    fip_days: int = 0
    actions: Mapping[str, str] = field(default_factory=lambda: {"server": "snapshot", "volume": "delete",
                                                                  "floating_ip": "delete"})

    def __post_init__(self) -> None:
        if self.days < 0 or self.grace_days < 0 or self.fip_days < 0:
            raise InputError("idle days and grace days must be >= 0", field="--days")
        for kind, action in self.actions.items():
            if kind not in KINDS or action not in ACTIONS:
                raise InputError(f"bad reclaim action {kind}={action}", field="--action",
                                 hint="server=snapshot|delete, volume=delete, floating_ip=delete")
            if kind != "server" and action == "snapshot":
                raise InputError(f"{kind} cannot be reclaimed by snapshot", field="--action",
                                 hint="Cinder keeps a snapshot only while its volume exists: use delete")


@dataclass(frozen=True)
class IdleFinding:
    kind: str
    id: str
    name: str | None
    project_id: str | None
    dept: str | None
    idle_since: datetime
    idle_days: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["idle_since"] = self.idle_since.isoformat()
        d["idle_days"] = round(self.idle_days, 3)
        return d


def _days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 86400.0


def scan(*, servers: Iterable[Mapping[str, Any]], volumes: Iterable[Mapping[str, Any]],
         floating_ips: Iterable[Mapping[str, Any]], now: datetime, policy: IdlePolicy,
         dept_of: Mapping[str, str] | None = None) -> list[IdleFinding]:
    """Every resource idle for at least the policy's days at `now`, oldest first."""
    dept_of = dept_of or {}
    out: list[IdleFinding] = []

    def add(kind: str, r: Mapping[str, Any], since_raw: Any, min_days: int, detail: str) -> None:
        since = parse_time(since_raw) or parse_time(r.get("created_at"))
        if since is None:
            return
        d = _days(since, now)
        if d >= min_days:
            pid = r.get("project_id")
            out.append(IdleFinding(kind, r["id"], r.get("name"), pid, dept_of.get(pid or ""), since, d, detail))

    for s in servers:
        if s.get("status") == "SHUTOFF":
            add("server", s, s.get("updated_at"), policy.days, "SHUTOFF")
    for v in volumes:
        if v.get("status") == "available" and not v.get("attachments"):
            add("volume", v, v.get("updated_at"), policy.days, f"unattached, {v.get('size')} GB")
    for f in floating_ips:
        if not f.get("port_id"):
            add("floating_ip", f, f.get("updated_at"), policy.fip_days, "unassociated")
    return sorted(out, key=lambda f: (f.idle_since, f.kind, f.id))


@dataclass(frozen=True)
class Step:
    """What the lifecycle does with one resource now."""

    op: str  # warn | wait | reclaim | clear | done
    resource_id: str
    kind: str
    grace_until: datetime | None = None
    action: str | None = None
    finding: IdleFinding | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "id": self.resource_id, "kind": self.kind,
                "name": self.finding.name if self.finding else None,
                "dept": self.finding.dept if self.finding else None,
                "grace_until": self.grace_until.isoformat() if self.grace_until else None, "action": self.action}


def lifecycle(findings: Iterable[IdleFinding], records: Mapping[str, Mapping[str, Any]], *, now: datetime,
              policy: IdlePolicy) -> list[Step]:
    """Next step for every idle resource and every recorded one.

    - idle, no record (or only a cleared one) -> warn: grace period starts now;
    - idle, warned, now < grace_until -> wait;  now >= grace_until -> reclaim (policy action);
    - recorded as warned but no longer idle (started, attached, associated, gone) -> clear;
    - reclaimed -> done (a rerun does nothing: idempotent); failed -> reclaim again.
    """
    steps: list[Step] = []
    seen = set()
    for f in findings:
        seen.add(f.id)
        rec = records.get(f.id)
        action = policy.actions.get(f.kind, "delete")
        if rec is None:
            steps.append(Step("warn", f.id, f.kind, now + timedelta(days=policy.grace_days), action, f))
            continue
        grace = parse_time(rec["grace_until"])
        assert grace is not None
        if rec["state"] == "reclaimed":
            steps.append(Step("done", f.id, f.kind, grace, rec.get("action"), f))
        elif now < grace:
            steps.append(Step("wait", f.id, f.kind, grace, action, f))
        else:
            steps.append(Step("reclaim", f.id, f.kind, grace, action, f))
    for rid, rec in records.items():
        if rid not in seen and rec["state"] == "warned":
            steps.append(Step("clear", rid, rec["kind"], parse_time(rec["grace_until"])))
    return steps


def extended_grace(current: datetime, now: datetime, days: int) -> datetime:
    """`idle extend ID --days N`: N more days from the later of the current deadline and now."""
    if days <= 0:
        raise InputError("--days must be a positive number of days", field="--days")
    return max(current, now) + timedelta(days=days)
