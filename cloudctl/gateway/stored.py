"""Policies in the store: import a policy file, each new or changed publication through the
approval engine; read back the policy with only its approved publications.

A publication takes effect once its approval request (kind `gateway-publication`) is approved,
and only in the version that was approved: changing it files a new request and the publication
allows nothing until that one is approved (fail closed). A publication removed from the file is
withdrawn at once (closing needs no approval). One import is one transaction with one
summarising audit record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from cloudctl import clock
from cloudctl.audit import Actor, record_change
from cloudctl.errors import NotFoundError
from cloudctl.gateway.check import ensure_valid
from cloudctl.gateway.policy import Policy
from cloudctl.inputs.documents import Document
from cloudctl.store import Store
from cloudctl.store.tables.gateway import gateway_policy, gateway_publication

REQUEST_KIND = "gateway-publication"
DEFAULT_APPROVAL_POLICY = "gateway"


@dataclass
class ImportResult:
    gateway: str
    requested: list[dict[str, Any]] = field(default_factory=list)  # name, request_id, status
    unchanged: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def refuse_shares(policy: Policy) -> Policy:
    """A policy file to import carries no data shares: those are granted through approval only."""
    if policy.shares:
        raise policy.source.error(("shares",), "data shares are not imported from a policy file",
                                  hint="remove `shares`: a share is granted through `cloudctl share request` and "
                                       "approval, and the stored gateway is compiled with the approved ones")
    return policy


def import_policy(store: Store, actor: Actor, policy: Policy, *, approval_policy: str = DEFAULT_APPROVAL_POLICY,
                  source: str | None = None, now: datetime | None = None) -> ImportResult:
    """Store a checked policy; file an approval request per new or changed publication."""
    from cloudctl.approvals import create_request

    refuse_shares(ensure_valid(policy))
    at = clock.stamp(now)
    name = policy.gateway.name
    body = _canonical(policy.model_dump(mode="json", exclude={"publications", "shares"}))
    departments = {s.name: s.department for s in policy.services}
    result = ImportResult(name)
    with store.begin() as conn:
        before = conn.execute(select(gateway_policy.c.body).where(gateway_policy.c.name == name)).scalar_one_or_none()
        values = {"division_code": policy.gateway.division, "body": body, "source": source, "updated_at": at,
                  "updated_by": actor.name}
        if before is None:
            conn.execute(insert(gateway_policy).values(name=name, **values))
        else:
            conn.execute(update(gateway_policy).where(gateway_policy.c.name == name).values(**values))
        stored = {r.name: r for r in conn.execute(select(gateway_publication)
                                                  .where(gateway_publication.c.gateway == name))}
        for position, pub in enumerate(policy.publications):
            pub_body = pub.model_dump(mode="json", exclude_none=True)
            text = _canonical(pub_body)
            old = stored.get(pub.name)
            if old is not None and old.body == text:
                if old.position != position:
                    conn.execute(update(gateway_publication).where(gateway_publication.c.id == old.id)
                                 .values(position=position))
                result.unchanged.append(pub.name)
                continue
            request = create_request(
                conn, actor, kind=REQUEST_KIND, policy=approval_policy, dept=departments.get(pub.service),
                title=f"gateway {name}: publish {pub.service} to {pub.portal} ({pub.direction}) as {pub.name}",
                payload={"gateway": name, "publication": pub.name, "body": pub_body}, now=now,
                check_dept=False)  # a department the checked policy declares
            row = {"position": position, "body": text, "request_id": request["id"], "updated_at": at}
            if old is None:
                conn.execute(insert(gateway_publication).values(gateway=name, name=pub.name, **row))
            else:
                conn.execute(update(gateway_publication).where(gateway_publication.c.id == old.id).values(**row))
            result.requested.append({"name": pub.name, "request_id": request["id"], "status": request["status"]})
        names = {p.name for p in policy.publications}
        result.withdrawn = sorted(n for n in stored if n not in names)
        if result.withdrawn:
            conn.execute(delete(gateway_publication).where(gateway_publication.c.gateway == name,
                                                           gateway_publication.c.name.in_(result.withdrawn)))
        record_change(conn, actor, "gateway.import", "gateway", name,
                      None if before is None else {"publications": sorted(stored)},
                      {"publications": len(policy.publications), "requested": [r["name"] for r in result.requested],
                       "unchanged": len(result.unchanged), "withdrawn": result.withdrawn}, at=at)
    return result


def list_publications(store: Store, gateway: str) -> list[dict[str, Any]]:
    """Stored publications of a gateway in file order, with their approval status."""
    from cloudctl.store.tables.approvals import approval_request

    with store.connect() as conn:
        if conn.execute(select(gateway_policy.c.name).where(gateway_policy.c.name == gateway)).first() is None:
            raise NotFoundError(f"no stored gateway policy {gateway!r}", field="NAME",
                                hint="import it first: cloudctl gateway import FILE")
        rows = conn.execute(
            select(gateway_publication.c.position, gateway_publication.c.name, gateway_publication.c.body,
                   gateway_publication.c.request_id, approval_request.c.status)
            .join(approval_request, approval_request.c.id == gateway_publication.c.request_id, isouter=True)
            .where(gateway_publication.c.gateway == gateway).order_by(gateway_publication.c.position)).all()
    return [{"position": r.position, "name": r.name, "request_id": r.request_id, "status": r.status or "unknown",
             "body": json.loads(r.body)} for r in rows]


def load_stored_policy(store: Store, gateway: str) -> Policy:
    """The stored policy of a gateway with its approved publications and approved data shares only, checked.

    A share the current policy can no longer place (its service or consumer department was removed by a
    later import, or its ports are no longer the service's) is left out, so it opens nothing; analyze
    lists it (policy.dropped_shares)."""
    from cloudctl.sharing.store import approved_shares

    with store.connect() as conn:
        body = conn.execute(select(gateway_policy.c.body).where(gateway_policy.c.name == gateway)).scalar_one_or_none()
        shares = approved_shares(conn, gateway, clock.current().zone) if body is not None else []
    if body is None:
        raise NotFoundError(f"no policy file and no stored gateway named {gateway!r}", field="FILE|NAME",
                            hint="give a policy file, or import one: cloudctl gateway import FILE")
    data = json.loads(body)
    data["publications"] = [p["body"] for p in list_publications(store, gateway) if p["status"] == "approved"]
    policy = Policy.model_validate(data)
    policy._source = Document(None, f"store:{gateway}")
    ensure_valid(policy)
    if shares:
        _add_shares(policy, shares)
    return policy


def _add_shares(policy: Policy, shares: list[dict[str, Any]]) -> None:
    from cloudctl.gateway.policy import Share
    from cloudctl.gateway.shares import check_shares, describe
    from cloudctl.inputs.records import from_data

    records = [from_data(Share, s) for s in shares]
    for record in records:
        problems: list[str] = []
        check_shares(replace(policy, shares=[record]),
                     lambda path, message, hint=None, out=problems: out.append(message))
        if problems:
            policy.dropped_shares.append(f"{describe(record)}: {problems[0]}")
        else:
            policy.shares.append(record)
    # the policy stays checked: each share was checked against it alone, and shares do not interact (their
    # ids are the store's keys)
