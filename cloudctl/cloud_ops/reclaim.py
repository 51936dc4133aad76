"""Idle resources in the store and the cloud: scan, run the lifecycle (warn, reclaim, clear), extend.

Every step is audited: a run's warnings and clears as one summarising record each, every reclaim
(destructive) as its own record, every extension as its own. Rerunning is safe: reclaimed
resources are `done`, warned ones `wait` until their grace period ends.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from cloudctl import clock
from cloudctl.audit import Actor, record_change
from cloudctl.cloud_ops.idle import IdleFinding, IdlePolicy, Step, extended_grace, lifecycle, scan
from cloudctl.cloud_ops.openstack_ops import CloudOps
from cloudctl.cloud_ops.showback import parse_time
from cloudctl.cloud_ops.usage import project_ids
from cloudctl.errors import CloudctlError, NotFoundError
from cloudctl.store import Store
from cloudctl.store.tables.cloud_ops import idle_event, idle_resource


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def scan_cloud(store: Store, ops: CloudOps, *, now: datetime, policy: IdlePolicy,
               depts: list[str] | None = None) -> list[IdleFinding]:
    """Idle resources of the departments' projects (all projects when no department is recorded)."""
    project_of = project_ids(store, depts)
    dept_of = {pid: code for code, pid in project_of.items()}
    found = scan(servers=ops.list_servers(), volumes=ops.list_volumes(), floating_ips=ops.list_floating_ips(),
                 now=now, policy=policy, dept_of=dept_of)
    if depts:
        found = [f for f in found if f.dept in depts]
    return found


def load_records(store: Store) -> dict[str, dict[str, Any]]:
    with store.connect() as conn:
        return {r.resource_id: dict(r._mapping) for r in conn.execute(select(idle_resource))}


def _event(conn: Any, rid: str, at: str, actor: Actor, kind: str, data: dict[str, Any]) -> None:
    conn.execute(insert(idle_event).values(resource_id=rid, at=at, actor=actor.name, kind=kind,
                                           data=json.dumps(data, sort_keys=True, default=str)))


def plan_reclaim(store: Store, ops: CloudOps, *, now: datetime, policy: IdlePolicy,
                 depts: list[str] | None = None) -> list[Step]:
    records = load_records(store)
    if depts:
        records = {k: v for k, v in records.items() if v.get("dept") in depts}
    # only departments' resources are reclaimed: a project cloudctl does not manage is not ours to touch
    found = [f for f in scan_cloud(store, ops, now=now, policy=policy, depts=depts) if f.dept]
    return lifecycle(found, records, now=now, policy=policy)


def run_reclaim(store: Store, ops: CloudOps, actor: Actor, steps: list[Step], *, now: datetime) -> list[dict]:
    """Carry out warn/clear (one transaction, one audit record each kind) and reclaim (one by one)."""
    at = _iso(now)
    warns = [s for s in steps if s.op == "warn"]
    clears = [s for s in steps if s.op == "clear"]
    out: list[dict[str, Any]] = []
    if warns or clears:
        with store.begin() as conn:
            for s in warns:
                f = s.finding
                assert f is not None and s.grace_until is not None
                conn.execute(delete(idle_resource).where(idle_resource.c.resource_id == s.resource_id))
                conn.execute(insert(idle_resource).values(
                    resource_id=f.id, kind=f.kind, name=f.name, project_id=f.project_id, dept=f.dept,
                    idle_since=_iso(f.idle_since), state="warned", warned_at=at, grace_until=_iso(s.grace_until),
                    action=s.action))
                _event(conn, f.id, at, actor, "warn", s.as_dict())
            for s in clears:
                conn.execute(delete(idle_resource).where(idle_resource.c.resource_id == s.resource_id))
                _event(conn, s.resource_id, at, actor, "clear", {"reason": "no longer idle"})
            if warns:
                record_change(conn, actor, "idle.warn", "idle_resources", f"{len(warns)} resources", None,
                              {"warned": [s.as_dict() for s in warns]}, at=at)
            if clears:
                record_change(conn, actor, "idle.clear", "idle_resources", f"{len(clears)} resources", None,
                              {"cleared": [s.resource_id for s in clears]}, at=at)
    out += [{**s.as_dict(), "result": "warned"} for s in warns]
    out += [{**s.as_dict(), "result": "cleared"} for s in clears]
    for s in steps:
        if s.op == "reclaim":
            out.append(_reclaim_one(store, ops, actor, s, at))
    return out


def _reclaim_one(store: Store, ops: CloudOps, actor: Actor, s: Step, at: str) -> dict[str, Any]:
    result: dict[str, Any] = {"action": s.action}
    state = "reclaimed"
    try:
        if s.kind == "server" and s.action == "snapshot":
            result["image_id"] = ops.snapshot_server(s.resource_id, f"reclaimed-{s.resource_id}")
        result["deleted"] = ops.delete(s.kind, s.resource_id)
    except CloudctlError as e:
        state, result["error"] = "failed", e.render()
    with store.begin() as conn:
        before = conn.execute(select(idle_resource.c.state).where(idle_resource.c.resource_id == s.resource_id)
                              ).scalar()
        conn.execute(update(idle_resource).where(idle_resource.c.resource_id == s.resource_id).values(
            state=state, reclaimed_at=at if state == "reclaimed" else None, action=s.action,
            result=json.dumps(result, sort_keys=True)))
        _event(conn, s.resource_id, at, actor, "reclaim", {"state": state, **result})
        record_change(conn, actor, "idle.reclaim", s.kind, s.resource_id, {"state": before},
                      {"state": state, **result}, at=at)
    return {**s.as_dict(), "result": state, **{k: v for k, v in result.items() if k != "action"}}


def extend(store: Store, actor: Actor, resource_id: str, days: int, *, now: datetime | None = None) -> dict:
    now = now or clock.now()
    with store.begin() as conn:
        row = conn.execute(select(idle_resource).where(idle_resource.c.resource_id == resource_id)).one_or_none()
        if row is None or row.state != "warned":
            raise NotFoundError(f"no warned idle resource {resource_id!r}", field="ID",
                                hint="cloudctl idle list shows warned resources")
        before = parse_time(row.grace_until)
        assert before is not None
        after = extended_grace(before, now, days)
        conn.execute(update(idle_resource).where(idle_resource.c.resource_id == resource_id)
                     .values(grace_until=_iso(after)))
        _event(conn, resource_id, _iso(now), actor, "extend", {"from": _iso(before), "to": _iso(after)})
        record_change(conn, actor, "idle.extend", row.kind, resource_id, {"grace_until": _iso(before)},
                      {"grace_until": _iso(after)})
    return {"id": resource_id, "kind": row.kind, "dept": row.dept, "grace_until": _iso(after)}


def dept_of_record(store: Store, resource_id: str) -> str | None:
    with store.connect() as conn:
        return conn.execute(select(idle_resource.c.dept).where(idle_resource.c.resource_id == resource_id)).scalar()
