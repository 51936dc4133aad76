"""Data sharing in the store: the catalogue, shares filed through the approval engine, revocation,
and the reads (share list, the report, the gateway's approved shares).

A share's id is its `data-share` approval request's id: `cloudctl request approve ID` votes on
share ID. Every change is one transaction with its audit record; votes are the approval engine's.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from cloudctl import clock
from cloudctl.audit import Actor, record_change
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.sharing.model import (
    REQUEST_KIND,
    REVIEWER_ROLES,
    ShareFacts,
    approval_seconds,
    local_date,
    share_state,
)
from cloudctl.store.tables.approvals import approval_request
from cloudctl.store.tables.sharing import data_share, share_resource

# ---- the catalogue ------------------------------------------------------------------------------

def get_resource(conn: Connection, name: str, field: str = "resource") -> Any:
    row = conn.execute(select(share_resource).where(share_resource.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no resource named {name!r} in the catalogue", field=field,
                            hint="cloudctl share resource list")
    return row


def stored_gateway(conn: Connection, gateway: str, field: str = "gateway") -> dict[str, Any]:
    """The stored gateway policy's body (services and departments; publications are apart)."""
    from cloudctl.store.tables.gateway import gateway_policy

    body = conn.execute(select(gateway_policy.c.body).where(gateway_policy.c.name == gateway)).scalar()
    if body is None:
        raise NotFoundError(f"no stored gateway named {gateway!r}", field=field,
                            hint="import its policy first: cloudctl gateway import FILE")
    return json.loads(body)  # type: ignore[no-any-return]


def service_of(body: dict[str, Any], name: str, field: str = "service") -> dict[str, Any]:
    service = next((s for s in body.get("services", []) if s["name"] == name), None)
    if service is None:
        raise NotFoundError(f"gateway {body['gateway']['name']!r} has no service {name!r}", field=field,
                            hint="services: " + ", ".join(s["name"] for s in body.get("services", [])[:20]))
    return service


def check_reviewers(conn: Connection, policy_name: str, field: str = "policy") -> None:
    """The approval policy exists and names the three reviewer roles as groups (docs/sharing.md)."""
    from cloudctl.approvals.requests import get_policy
    from cloudctl.sharing.model import POLICY_EXAMPLE, missing_roles

    try:
        policy = get_policy(conn, policy_name)
    except NotFoundError as e:
        raise NotFoundError(e.message, field=field, hint=f"add it: cloudctl request policy set FILE, e.g.\n"
                                                         f"{POLICY_EXAMPLE}") from None
    missing = missing_roles([g.name for g in policy.groups])
    if missing:
        raise InputError(f"approval policy {policy_name!r} has no group {', '.join(map(repr, missing))}: a data share "
                         f"is reviewed by the owner department's approvers, the data authority and security at once",
                         field=field, hint=f"groups named {', '.join(REVIEWER_ROLES)}, e.g.\n{POLICY_EXAMPLE}")


def add_resource(conn: Connection, actor: Actor, values: dict[str, Any], now: dt.datetime | None = None
                 ) -> dict[str, Any]:
    at = clock.stamp(now)
    if conn.execute(select(share_resource.c.name).where(share_resource.c.name == values["name"])).first():
        raise ConflictError(f"the catalogue already has a resource named {values['name']!r}",
                            hint="choose another name, or retire the old one first")
    row = {**values, "status": "active", "created_at": at, "created_by": actor.name}
    conn.execute(insert(share_resource).values(**row))
    record_change(conn, actor, "share.resource.add", "share_resource", values["name"], None, row, at=at)
    return row


def retire_resource(conn: Connection, actor: Actor, name: str, reason: str | None,
                    now: dt.datetime | None = None) -> dict[str, Any]:
    """Retire a resource: its pending requests are withdrawn and its shares revoked (closed at the next deploy)."""
    from cloudctl.approvals.requests import _serialise

    _serialise(conn)
    row = get_resource(conn, name, "name")
    if row.status != "active":
        raise ConflictError(f"resource {name!r} was retired on {row.retired_at}")
    at = clock.stamp(now)
    why = f"resource {name} retired" + (f": {reason}" if reason else "")
    closed = []
    for share_id, status in conn.execute(
            select(data_share.c.id, approval_request.c.status).join(approval_request,
                                                                    approval_request.c.id == data_share.c.id)
            .where(data_share.c.resource == name, data_share.c.revoked_at.is_(None),
                   approval_request.c.status.in_(("pending", "approved"))).order_by(data_share.c.id)).all():
        _close(conn, actor, share_id, status, why, at, now)
        closed.append(share_id)
    conn.execute(update(share_resource).where(share_resource.c.name == name).values(
        status="retired", retired_at=at, retired_by=actor.name, retire_reason=reason))
    result = {"name": name, "status": "retired", "closed_shares": closed}
    record_change(conn, actor, "share.resource.retire", "share_resource", name, {"status": row.status},
                  {**result, "reason": reason}, at=at)
    return result


def list_resources(conn: Connection, *, include_retired: bool = False) -> list[dict[str, Any]]:
    q = select(share_resource).order_by(share_resource.c.name)
    if not include_retired:
        q = q.where(share_resource.c.status == "active")
    return [dict(r._mapping) for r in conn.execute(q)]


# ---- shares ---------------------------------------------------------------------------------------

def file_share(conn: Connection, actor: Actor, resource: Any, *, consumer: str, purpose: str, until: dt.date,
               ports: list[int | str], owner_region: str | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """File the `data-share` request (owner's approvers, data authority and security asked at once) and
    record the share under the request's id. `conditional` resources are never auto-approved."""
    from cloudctl.approvals.requests import create_request

    payload = {"resource": resource.name, "resource_class": resource.share_class, "owner": resource.owner_dept,
               "consumer": consumer, "gateway": resource.gateway, "service": resource.service, "ports": ports,
               "until": until.isoformat(), "purpose": purpose}
    request = create_request(
        conn, actor, kind=REQUEST_KIND, payload=payload, policy=resource.approval_policy,
        title=f"data share: {resource.name} ({resource.owner_dept}) for {consumer} until {until}",
        dept=resource.owner_dept, region=owner_region, now=now,
        may_auto_approve=resource.share_class == "open")
    at = clock.stamp(now)
    row = {"id": request["id"], "resource": resource.name, "consumer_dept": consumer, "purpose": purpose,
           "until": until.isoformat(), "ports": json.dumps(ports), "created_at": at, "requester": actor.name}
    conn.execute(insert(data_share).values(**row))
    result = {"id": request["id"], "resource": resource.name, "class": resource.share_class,
              "owner": resource.owner_dept, "consumer": consumer, "ports": ports, "until": until.isoformat(),
              "status": request["status"], "policy": request["policy"], "deadline_at": request["deadline_at"]}
    record_change(conn, actor, "share.request", "data_share", str(request["id"]), None, result, at=at)
    return result


def _close(conn: Connection, actor: Actor, share_id: int, status: str, reason: str, at: str,
           now: dt.datetime | None) -> None:
    from cloudctl.approvals.requests import close_pending

    if status == "pending":
        close_pending(conn, actor, share_id, reason, now=now)
    conn.execute(update(data_share).where(data_share.c.id == share_id).values(
        revoked_at=at, revoked_by=actor.name, revoke_reason=reason))


def revoke_share(conn: Connection, actor: Actor, share_id: int, reason: str, today: dt.date,
                 now: dt.datetime | None = None) -> dict[str, Any]:
    """Close a share (no approval needed): a pending request is withdrawn, an active share stops at the next
    compile or deploy of its gateway."""
    from cloudctl.approvals.requests import _serialise

    _serialise(conn)
    row = share_row(conn, share_id)
    if row.revoked_at is not None:
        raise ConflictError(f"share {share_id} was revoked at {row.revoked_at}: {row.revoke_reason}")
    if row.status not in ("pending", "approved"):
        raise ConflictError(f"share {share_id} was {row.status}: it never took effect", hint="nothing to revoke")
    if row.status == "approved" and dt.date.fromisoformat(row.until) < today:
        raise ConflictError(f"share {share_id} expired after {row.until}: it is closed already")
    at = clock.stamp(now)
    _close(conn, actor, share_id, row.status, reason, at, now)
    result = {"id": share_id, "resource": row.resource, "consumer": row.consumer_dept, "gateway": row.gateway,
              "was": "pending" if row.status == "pending" else "active", "state": "revoked", "reason": reason}
    record_change(conn, actor, "share.revoke", "data_share", str(share_id), {"state": result["was"]}, result, at=at)
    return result


def share_row(conn: Connection, share_id: int, field: str = "ID") -> Any:
    row = conn.execute(_share_query().where(data_share.c.id == share_id)).first()
    if row is None:
        raise NotFoundError(f"no data share {share_id}", field=field, hint="cloudctl share list")
    return row


def _share_query() -> Any:
    return (select(data_share, share_resource.c.owner_dept, share_resource.c.gateway, share_resource.c.service,
                   share_resource.c.share_class, approval_request.c.status, approval_request.c.decided_at,
                   approval_request.c.deadline_at, approval_request.c.decision_reason)
            .join(share_resource, share_resource.c.name == data_share.c.resource)
            .join(approval_request, approval_request.c.id == data_share.c.id))


def list_shares(conn: Connection, at: dt.date, zone: ZoneInfo, *, dept: str | None = None,
                state: str | None = None, now_stamp: str | None = None) -> list[dict[str, Any]]:
    """Every share with its state on AT (dept: as owner or consumer), oldest first."""
    q = _share_query().order_by(data_share.c.id)
    if dept:
        q = q.where((data_share.c.consumer_dept == dept) | (share_resource.c.owner_dept == dept))
    now_stamp = now_stamp or clock.stamp()
    out = []
    for r in conn.execute(q):
        facts = ShareFacts(r.status, dt.date.fromisoformat(r.until), local_date(r.revoked_at, zone))
        current = share_state(facts, at)
        if state and current != state:
            continue
        out.append({"id": r.id, "resource": r.resource, "class": r.share_class, "owner": r.owner_dept,
                    "consumer": r.consumer_dept, "gateway": r.gateway, "service": r.service,
                    "ports": json.loads(r.ports), "until": r.until, "state": current, "purpose": r.purpose,
                    "requester": r.requester, "requested_at": r.created_at, "decided_at": r.decided_at,
                    "approval_seconds": approval_seconds(r.created_at, r.decided_at),
                    "deadline_at": r.deadline_at, "overdue": r.status == "pending" and r.deadline_at <= now_stamp,
                    "decision_reason": r.decision_reason, "revoked_at": r.revoked_at,
                    "revoke_reason": r.revoke_reason})
    return out


def approved_shares(conn: Connection, gateway: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The shares of a gateway's resources that were approved, as policy records (gateway/policy.py Share):
    each in effect from its approval's date through `until`, unless revoked (compile decides per date)."""
    rows = conn.execute(_share_query().where(share_resource.c.gateway == gateway,
                                             approval_request.c.status == "approved").order_by(data_share.c.id))
    out = []
    for r in rows:
        share: dict[str, Any] = {"id": r.id, "service": r.service, "consumer": r.consumer_dept, "until": r.until,
                                 "ports": json.loads(r.ports), "starts": local_date(r.decided_at, zone).isoformat(),
                                 "resource": r.resource, "owner": r.owner_dept}
        revoked = local_date(r.revoked_at, zone)
        if revoked is not None:
            share["revoked"] = revoked.isoformat()
        out.append(share)
    return out
