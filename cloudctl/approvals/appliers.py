"""Carrying out approved requests: one applier per request kind, registered in one place.

An applier is `fn(store, request, cloud) -> result`: `request` has id, kind, title, requester,
dept, region and payload; `cloud` is the opened cloud connection, passed in (appliers never
look for it themselves). It must be idempotent. The appliers are listed once, in
cloudctl/wiring.py `appliers()`, and handed to the functions here; nothing registers itself as
a side effect of an import.

Kinds whose approval takes effect where it is read (a gateway publication is compiled only once
approved) need no applier (approvals/kinds.py `applier_needed=False`). An approved request of a
kind that needs one and has none is an error, said out loud (OperationFailed, exit 1) and
recorded as a failed apply, never a silent "approved and unapplied".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from cloudctl import clock
from cloudctl.approvals import engine
from cloudctl.approvals.kinds import KINDS
from cloudctl.approvals.requests import _event, _load, _serialise
from cloudctl.audit import Actor, record_change
from cloudctl.errors import ConflictError, OperationFailed
from cloudctl.store import Store
from cloudctl.store.tables.approvals import approval_request

if TYPE_CHECKING:
    from cloudctl.action import Context

Applier = Callable[[Store, dict[str, Any], Any], dict[str, Any]]
Appliers = Mapping[str, Applier]


def needs_applier(kind: str) -> bool:
    known = KINDS.get(kind)
    return known is None or known.applier_needed


def _claim(store: Store, request_id: int, retry: bool) -> dict[str, Any] | None:
    """Mark the request 'applying' (so two sweeps never apply it twice); None if nothing to do."""
    with store.begin() as conn:
        _serialise(conn)
        row = _load(conn, request_id, lock=True)
        if row.status != engine.APPROVED:
            raise ConflictError(f"request {row.id} is {row.status}, not approved")
        allowed = (None, "failed") if retry else (None,)
        if row.apply_status not in allowed or not needs_applier(row.kind):
            return None
        conn.execute(update(approval_request).where(approval_request.c.id == row.id).values(apply_status="applying"))
        return {"id": row.id, "kind": row.kind, "title": row.title, "requester": row.requester, "dept": row.dept,
                "region": row.region, "payload": json.loads(row.payload)}


def apply_request(ctx: Context, appliers: Appliers, request_id: int, *, retry: bool = True
                  ) -> dict[str, Any] | None:
    """Run the applier of an approved request and record the outcome on it (None: nothing to apply)."""
    request = _claim(ctx.store, request_id, retry)
    if request is None:
        return None
    applier = appliers.get(request["kind"])
    try:
        if applier is None:
            raise OperationFailed(f"no applier for request kind {request['kind']!r}: request {request_id} is approved "
                                  "but nothing can carry it out", hint="this cloudctl does not wire that kind")
        result, status = applier(ctx.store, request, ctx.open_cloud()), "ok"
    except Exception as e:
        result, status = {"error": f"{type(e).__name__}: {e}"}, "failed"
    at = clock.stamp()
    with ctx.store.begin() as conn:
        _serialise(conn)
        conn.execute(update(approval_request).where(approval_request.c.id == request_id).values(
            applied_at=at, apply_status=status, apply_result=json.dumps(result, sort_keys=True, default=str)))
        _event(conn, request_id, at, ctx.actor.name, "applied", {"status": status, "result": result})
        record_change(conn, ctx.actor, "request.apply", "request", str(request_id), None,
                      {"apply_status": status, "result": result}, at=at)
    return {"id": request_id, "apply_status": status, "result": result}


def apply_approved(ctx: Context, appliers: Appliers) -> list[dict[str, Any]]:
    """Apply every approved request not yet applied whose kind needs an applier (used by sweep)."""
    kinds = [k for k in KINDS if needs_applier(k)]
    with ctx.store.connect() as conn:
        ids = [r[0] for r in conn.execute(select(approval_request.c.id).where(
            (approval_request.c.status == engine.APPROVED) & approval_request.c.apply_status.is_(None)
            & (approval_request.c.kind.in_(kinds))).order_by(approval_request.c.id))]
    done = []
    for rid in ids:
        res = apply_request(ctx, appliers, rid, retry=False)
        if res is not None:
            done.append(res)
    return done


def request_actor(request: dict[str, Any]) -> Actor:
    """Who an applier acts as in the audit log: the request itself, naming its requester."""
    return Actor(f"request-{request['id']}", f"cloudctl request apply {request['id']} (by {request['requester']})")
