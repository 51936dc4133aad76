"""Requests through the approval engine, in the store: create, vote, withdraw, sweep, delegate.

Race-freedom: a write first takes the audit head row (PostgreSQL; every write needs it for
its audit record, so all transactions lock in the same order), then the request row with
SELECT ... FOR UPDATE; on SQLite BEGIN IMMEDIATE already serialises writers. The status
moves from pending exactly once, in the transaction that makes the deciding change, and
that transaction writes the one `decided` event.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from cloudctl import clock, values
from cloudctl.approvals import engine
from cloudctl.approvals.kinds import get_kind
from cloudctl.approvals.policy import Policy, parse_duration, parse_policy, policy_from_json
from cloudctl.audit import Actor, record_change
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.store.tables.approvals import (
    approval_delegation,
    approval_event,
    approval_policy,
    approval_request,
    approval_vote,
)
from cloudctl.store.tables.core import audit_head


def _iso(now: datetime | None) -> str:
    return clock.stamp(now)


def parse_time(value: str, field: str) -> datetime:
    """An ISO 8601 date or time; without an offset, wall time in the configured zone."""
    return values.parse_instant(value, field)


def _serialise(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1).with_for_update())


def _event(conn: Connection, request_id: int, at: str, actor: str, kind: str, data: dict[str, Any]) -> None:
    conn.execute(insert(approval_event).values(request_id=request_id, at=at, actor=actor, kind=kind,
                                               data=json.dumps(data, sort_keys=True, ensure_ascii=False)))


# ---- policies -----------------------------------------------------------------------------

def set_policy(conn: Connection, raw: Any, actor: Actor, source: str | None = None) -> Policy:
    """Add or replace a policy. Running requests keep the policy they were created under."""
    policy = parse_policy(raw, source)
    _serialise(conn)
    before = conn.execute(select(approval_policy.c.body).where(approval_policy.c.name == policy.name)).scalar()
    body = policy.to_json()
    if before == body:
        return policy
    values = {"body": body, "updated_at": _iso(None), "updated_by": actor.name}
    if before is None:
        conn.execute(insert(approval_policy).values(name=policy.name, **values))
    else:
        conn.execute(update(approval_policy).where(approval_policy.c.name == policy.name).values(**values))
    record_change(conn, actor, "approval.policy.set", "approval_policy", policy.name,
                  json.loads(before) if before else None, policy.as_dict())
    return policy


def get_policy(conn: Connection, name: str) -> Policy:
    body = conn.execute(select(approval_policy.c.body).where(approval_policy.c.name == name)).scalar()
    if body is None:
        names = [r[0] for r in conn.execute(select(approval_policy.c.name).order_by(approval_policy.c.name))]
        raise NotFoundError(f"no approval policy named {name!r}", field="--policy",
                            hint=f"known: {', '.join(names)}" if names else "add one: cloudctl request policy set FILE")
    return policy_from_json(body)


def list_policies(conn: Connection) -> list[Policy]:
    return [policy_from_json(b) for b in conn.execute(select(approval_policy.c.body).order_by(approval_policy.c.name))
            .scalars()]


# ---- requests -----------------------------------------------------------------------------

def check_targets(conn: Connection, dept: str | None, region: str | None) -> str | None:
    """The department must be active and the region a known division, when the request is filed.

    Returns the department's division (the request's region when it names none)."""
    from cloudctl.store.tables.cloud import department
    from cloudctl.store.tables.divisions import division

    dept_division = None
    if dept is not None:
        row = conn.execute(select(department.c.status, department.c.division_code)
                           .where(department.c.code == dept)).first()
        if row is None or row.status != "active":
            raise NotFoundError(f"no active department {dept!r}", field="dept", hint="cloudctl dept list")
        dept_division = row.division_code
    if region is not None and conn.execute(select(division.c.code).where(division.c.code == region)).first() is None:
        raise NotFoundError(f"no division with code {region!r}", field="region",
                            hint="cloudctl divisions search NAME")
    return dept_division


def create_request(conn: Connection, actor: Actor, *, kind: str, payload: dict[str, Any], policy: str,
                   title: str | None = None, dept: str | None = None, region: str | None = None,
                   now: datetime | None = None, flavor: dict[str, Any] | None = None, check_dept: bool = True,
                   may_auto_approve: bool = True) -> dict[str, Any]:
    """File a request; every reviewer group is asked at once. Auto-approved inside the policy's tier.

    The kind must be registered and the payload fit its schema; cloudctl computes the size fields
    (a server's from its FLAVOR, read from the cloud by the caller). The department and region
    must exist now, not only when the request is applied (a gateway publication's department is
    one its checked gateway policy declares: check_dept=False). may_auto_approve=False: votes are needed
    whatever the policy's tier says (a conditional data share).
    """
    spec = get_kind(kind)
    parsed = spec.parse(payload)
    sizes = spec.sizes(parsed, flavor)
    check_targets(conn, dept if check_dept else None, region)
    _serialise(conn)
    pol = get_policy(conn, policy)
    stuck = pol.unreachable_for(actor.name)
    if stuck:
        raise InputError(f"{actor.name!r} may not vote on their own request, so these groups of policy {pol.name} "
                         f"could never approve it: {'; '.join(stuck)}", field="policy",
                         hint="file it under a policy whose groups do not depend on the requester, or ask "
                              "another operator to file it")
    stored = spec.normalise(parsed, flavor)
    start = now or clock.now()
    at, deadline = _iso(start), _iso(start + pol.deadline)
    auto = may_auto_approve and pol.auto_approves(spec.name, spec.size_fields, sizes)
    status = engine.APPROVED if auto else engine.PENDING
    reason = "auto-approved: inside the policy's size tier" if auto else None
    rid = conn.execute(insert(approval_request).values(
        kind=spec.name, title=title or spec.name, requester=actor.name, dept=dept, region=region,
        payload=json.dumps(stored, sort_keys=True, ensure_ascii=False), policy_name=pol.name,
        policy=pol.to_json(), status=status, created_at=at, deadline_at=deadline,
        decided_at=at if auto else None, decision_reason=reason,
    ).returning(approval_request.c.id)).scalar_one()
    _event(conn, rid, at, actor.name, "created", {"policy": pol.as_dict(), "kind": spec.name, "payload": stored,
                                                  "auto_approved": auto})
    if auto:
        _event(conn, rid, at, actor.name, "decided", {"status": status, "reason": reason})
    summary = {"id": rid, "kind": spec.name, "title": title or spec.name, "dept": dept, "region": region,
               "policy": pol.name, "status": status, "deadline_at": deadline, "payload": stored}
    record_change(conn, actor, "request.create", "request", str(rid), None, summary, at=at)
    return summary


def _load(conn: Connection, request_id: int, *, lock: bool = False) -> Any:
    q = select(approval_request).where(approval_request.c.id == int(request_id))
    if lock and conn.dialect.name != "sqlite":
        q = q.with_for_update()
    row = conn.execute(q).one_or_none()
    if row is None:
        raise NotFoundError(f"no request {request_id}", field="ID", hint="cloudctl request list")
    return row


def votes_of(conn: Connection, request_id: int) -> list[engine.Vote]:
    rows = conn.execute(select(approval_vote).where(approval_vote.c.request_id == request_id)
                        .order_by(approval_vote.c.id))
    return [engine.Vote(r.reviewer, r.decision, r.reason, r.at, r.cast_by) for r in rows]


def active_delegators(conn: Connection, delegate: str, at: str) -> list[str]:
    rows = conn.execute(select(approval_delegation.c.delegator).where(
        (approval_delegation.c.delegate == delegate) & (approval_delegation.c.starts_at <= at)
        & (approval_delegation.c.ends_at > at)))
    return [r[0] for r in rows]


def _finish(conn: Connection, row: Any, actor: Actor, status: str, reason: str | None, at: str) -> None:
    conn.execute(update(approval_request).where(approval_request.c.id == row.id).values(
        status=status, decided_at=at, decision_reason=reason))
    _event(conn, row.id, at, actor.name, "decided", {"status": status, "reason": reason})


def cast_vote(conn: Connection, actor: Actor, request_id: int, decision: str, reason: str | None,
              now: datetime | None = None) -> dict[str, Any]:
    """Vote approve or reject (for oneself and for active delegators); decides when the rules say so."""
    if decision not in ("approve", "reject"):
        raise InputError(f"bad decision {decision!r}", field="decision", hint="approve or reject")
    if decision == "reject" and not (reason or "").strip():
        raise InputError("a rejection needs a reason", field="--reason", hint="the requester will read it")
    _serialise(conn)
    row = _load(conn, request_id, lock=True)
    if row.status != engine.PENDING:
        raise ConflictError(f"request {row.id} is already {row.status} ({row.decided_at}): {row.decision_reason}",
                            hint="a decided request takes no more votes")
    policy = policy_from_json(row.policy)
    at = _iso(now)
    votes = votes_of(conn, row.id)
    escalated = row.escalated_at is not None
    if actor.name == row.requester:
        raise ConflictError(f"{actor.name!r} filed request {row.id} and may not vote on it (four eyes)",
                            hint="another reviewer decides; the requester may withdraw it")
    whose = engine.voters_for(policy, actor.name, active_delegators(conn, actor.name, at),
                              {v.reviewer for v in votes}, escalated, row.requester)
    if not whose:
        if actor.name in {v.reviewer for v in votes}:
            raise ConflictError(f"{actor.name!r} has already voted on request {row.id}")
        raise ConflictError(f"{actor.name!r} is not a reviewer of request {row.id} (nor a delegate of one)",
                            hint="reviewers: " + ", ".join(sorted(policy.reviewers(escalated))))
    new = [engine.Vote(w, decision, reason, at, actor.name) for w in whose]
    conn.execute(insert(approval_vote), [{"request_id": row.id, "reviewer": v.reviewer, "cast_by": v.cast_by,
                                          "decision": v.decision, "reason": v.reason, "at": at} for v in new])
    for v in new:
        _event(conn, row.id, at, actor.name, "vote", {"reviewer": v.reviewer, "cast_by": v.cast_by,
                                                      "decision": decision, "reason": reason})
    outcome = engine.evaluate(policy, votes + new, escalated, row.requester)
    if outcome.status != engine.PENDING:
        _finish(conn, row, actor, outcome.status, outcome.reason, at)
    result = {"id": row.id, "vote": decision, "for": whose, "status": outcome.status, "reason": outcome.reason}
    record_change(conn, actor, f"request.{decision}", "request", str(row.id), {"status": row.status}, result, at=at)
    return result


def withdraw(conn: Connection, actor: Actor, request_id: int, reason: str | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    _serialise(conn)
    row = _load(conn, request_id, lock=True)
    if row.requester != actor.name:
        raise ConflictError(f"only the requester ({row.requester}) can withdraw request {row.id}")
    if row.status != engine.PENDING:
        raise ConflictError(f"request {row.id} is already {row.status}")
    at = _iso(now)
    _event(conn, row.id, at, actor.name, "withdrawn", {"reason": reason})
    _finish(conn, row, actor, engine.WITHDRAWN, reason or "withdrawn by the requester", at)
    result = {"id": row.id, "status": engine.WITHDRAWN}
    record_change(conn, actor, "request.withdraw", "request", str(row.id), {"status": row.status}, result, at=at)
    return result


def close_pending(conn: Connection, actor: Actor, request_id: int, reason: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    """Withdraw a pending request on behalf of the capability that filed it (a revoked data share): closing
    needs no approval. The caller has authorized the actor; the reviewers stop being asked."""
    _serialise(conn)
    row = _load(conn, request_id, lock=True)
    if row.status != engine.PENDING:
        raise ConflictError(f"request {row.id} is already {row.status}")
    at = _iso(now)
    _event(conn, row.id, at, actor.name, "withdrawn", {"reason": reason})
    _finish(conn, row, actor, engine.WITHDRAWN, reason, at)
    result = {"id": row.id, "status": engine.WITHDRAWN}
    record_change(conn, actor, "request.withdraw", "request", str(row.id), {"status": row.status}, result, at=at)
    return result


def sweep(conn: Connection, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Escalate every pending request past its deadline (once). Safe to run from cron: idempotent."""
    _serialise(conn)
    at = _iso(now)
    q = select(approval_request).where((approval_request.c.status == engine.PENDING)
                                       & approval_request.c.escalated_at.is_(None)
                                       & (approval_request.c.deadline_at <= at)).order_by(approval_request.c.id)
    if conn.dialect.name != "sqlite":
        q = q.with_for_update()
    escalated, no_group = [], []
    for row in conn.execute(q).all():
        policy = policy_from_json(row.policy)
        conn.execute(update(approval_request).where(approval_request.c.id == row.id).values(escalated_at=at))
        group = policy.escalation.name if policy.escalation else None
        _event(conn, row.id, at, actor.name, "escalated", {"to": group, "deadline_at": row.deadline_at})
        (escalated if group else no_group).append(row.id)
        outcome = engine.evaluate(policy, votes_of(conn, row.id), True, row.requester)
        if outcome.status != engine.PENDING:
            _finish(conn, row, actor, outcome.status, outcome.reason, at)
    result = {"escalated": escalated, "overdue_without_escalation_group": no_group, "at": at}
    if escalated or no_group:
        record_change(conn, actor, "request.sweep", "request", "sweep", None, result, at=at)
    return result


def delegate_votes(conn: Connection, actor: Actor, to: str, starts: datetime, ends: datetime) -> dict[str, Any]:
    """Hand the actor's votes to `to` from `starts` until `ends`."""
    if not to.strip() or to == actor.name:
        raise InputError("delegate to another operator", field="--to")
    if ends <= starts:
        raise InputError("the delegation ends before it starts", field="--until")
    _serialise(conn)
    values = {"delegator": actor.name, "delegate": to, "starts_at": _iso(starts), "ends_at": _iso(ends),
              "created_at": _iso(None)}
    did = conn.execute(insert(approval_delegation).values(**values).returning(approval_delegation.c.id)).scalar_one()
    record_change(conn, actor, "request.delegate", "delegation", str(did), None, values)
    return {"id": did, **values}


def list_delegations(conn: Connection, operator: str | None = None) -> list[dict[str, Any]]:
    q = select(approval_delegation).order_by(approval_delegation.c.id)
    if operator:
        q = q.where((approval_delegation.c.delegator == operator) | (approval_delegation.c.delegate == operator))
    return [dict(r._mapping) for r in conn.execute(q)]


def events_of(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(approval_event).where(approval_event.c.request_id == int(request_id))
                        .order_by(approval_event.c.id))
    return [{**dict(r._mapping), "data": json.loads(r.data)} for r in rows]


def show_request(conn: Connection, request_id: int) -> dict[str, Any]:
    row = _load(conn, request_id)
    policy = policy_from_json(row.policy)
    votes = votes_of(conn, row.id)
    states = engine.group_states(policy, votes, row.escalated_at is not None, row.requester)
    out = {k: v for k, v in row._mapping.items() if k not in ("policy", "payload", "apply_result")}
    out["payload"] = json.loads(row.payload)
    out["apply_result"] = json.loads(row.apply_result) if row.apply_result else None
    out["groups"] = [s.as_dict() for s in states]
    out["votes"] = [v.__dict__ for v in votes]
    return out


def list_requests(conn: Connection, *, status: str | None = None, requester: str | None = None,
                  reviewer: str | None = None) -> list[dict[str, Any]]:
    q = select(approval_request).order_by(approval_request.c.id)
    if status:
        q = q.where(approval_request.c.status == status)
    if requester:
        q = q.where(approval_request.c.requester == requester)
    if reviewer:
        q = q.where(approval_request.c.status == engine.PENDING)
    rows = conn.execute(q).all()
    out = []
    for r in rows:
        if reviewer:
            policy = policy_from_json(r.policy)
            voted = {v.reviewer for v in votes_of(conn, r.id)}
            if r.status != engine.PENDING or reviewer not in policy.reviewers(r.escalated_at is not None) \
                    or reviewer in voted or reviewer == r.requester:
                continue
        out.append({"id": r.id, "kind": r.kind, "title": r.title, "requester": r.requester, "dept": r.dept,
                    "status": r.status, "created_at": r.created_at, "deadline_at": r.deadline_at,
                    "escalated": r.escalated_at is not None, "apply_status": r.apply_status})
    return out


__all__ = ["cast_vote", "close_pending", "create_request", "delegate_votes", "events_of", "get_policy",
           "list_delegations", "list_policies", "list_requests", "parse_duration", "parse_time", "set_policy",
           "show_request", "sweep", "withdraw"]
