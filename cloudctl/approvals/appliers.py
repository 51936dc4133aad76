"""The hook that carries out approved requests: one "applier" function per request kind.

Another capability registers its applier, e.g. the cloud capability for quota increases:

    from cloudctl.approvals.appliers import register_applier

    @register_applier("quota-increase")
    def apply_quota(store, request: dict) -> dict:   # request: id, kind, dept, region, payload, ...
        ...                                          # talk to OpenStack; must be idempotent
        return {"quota": {...}}                      # recorded on the request as apply_result

An applier raising CloudctlError (or anything) marks the request apply_status=failed with
the error text; `cloudctl request apply ID` retries a failed one. `cloudctl request sweep`
applies every approved, not yet applied request whose kind has an applier. Kinds without
an applier stay approved and unapplied (visible in `request list`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from cloudctl.approvals import engine
from cloudctl.approvals.requests import _event, _load, _serialise
from cloudctl.audit import Actor, record_change
from cloudctl.errors import ConflictError
from cloudctl.store import Store
from cloudctl.store.tables.approvals import approval_request

Applier = Callable[[Store, dict[str, Any]], dict[str, Any]]
APPLIERS: dict[str, Applier] = {}


def register_applier(kind: str) -> Callable[[Applier], Applier]:
    def deco(fn: Applier) -> Applier:
        APPLIERS[kind] = fn
        return fn

    return deco


def _claim(store: Store, request_id: int, actor: Actor, retry: bool) -> dict[str, Any] | None:
    """Mark the request 'applying' (so two sweeps never apply it twice); None if nothing to do."""
    with store.begin() as conn:
        _serialise(conn)
        row = _load(conn, request_id, lock=True)
        if row.status != engine.APPROVED:
            raise ConflictError(f"request {row.id} is {row.status}, not approved")
        allowed = (None, "failed") if retry else (None,)
        if row.apply_status not in allowed or row.kind not in APPLIERS:
            return None
        conn.execute(update(approval_request).where(approval_request.c.id == row.id).values(apply_status="applying"))
        return {"id": row.id, "kind": row.kind, "title": row.title, "requester": row.requester, "dept": row.dept,
                "region": row.region, "payload": json.loads(row.payload)}


def apply_request(store: Store, request_id: int, actor: Actor, *, retry: bool = True) -> dict[str, Any] | None:
    """Run the applier of an approved request and record the result on it (None: nothing to apply)."""
    request = _claim(store, request_id, actor, retry)
    if request is None:
        return None
    try:
        result, status = APPLIERS[request["kind"]](store, request), "ok"
    except Exception as e:
        result, status = {"error": f"{type(e).__name__}: {e}"}, "failed"
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    with store.begin() as conn:
        _serialise(conn)
        conn.execute(update(approval_request).where(approval_request.c.id == request_id).values(
            applied_at=at, apply_status=status, apply_result=json.dumps(result, sort_keys=True, default=str)))
        _event(conn, request_id, at, actor.name, "applied", {"status": status, "result": result})
        record_change(conn, actor, "request.apply", "request", str(request_id), None,
                      {"apply_status": status, "result": result}, at=at)
    return {"id": request_id, "apply_status": status, "result": result}


def apply_approved(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Apply every approved request not yet applied whose kind has an applier (used by sweep)."""
    with store.connect() as conn:
        ids = [r[0] for r in conn.execute(select(approval_request.c.id).where(
            (approval_request.c.status == engine.APPROVED) & approval_request.c.apply_status.is_(None)
            & approval_request.c.kind.in_(sorted(APPLIERS)))
            .order_by(approval_request.c.id))] if APPLIERS else []
    done = []
    for rid in ids:
        res = apply_request(store, rid, actor, retry=False)
        if res is not None:
            done.append(res)
    return done
