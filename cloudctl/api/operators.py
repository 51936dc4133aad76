"""Operators over HTTP: API tokens (SHA-256 only). What an operator may do with one is the action layer's
business (api/operator_routes.py): every call is checked against the power list as that operator."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from cloudctl import clock
from cloudctl.api import credentials as cred
from cloudctl.audit import Actor, record_change
from cloudctl.errors import InputError


def create_operator_token(store: Any, actor: Actor, ttl: timedelta = timedelta(days=30)) -> tuple[str, str]:
    """A token that lets the operator running this command act as themselves over HTTP."""
    from cloudctl.store.tables.agents import api_token

    if ttl <= timedelta(0):
        raise InputError("the token must live a positive time", field="--ttl", hint="e.g. 30d")
    token_id = cred.new_token_id()
    token = cred.new_secret(cred.OPERATOR, token_id)
    now = clock.now()
    expires = (now + ttl).isoformat(timespec="seconds")
    with store.begin() as conn:
        conn.execute(insert(api_token).values(token_id=token_id, operator=actor.name,
                                              token_hash=cred.hash_secret(token),
                                              created_at=now.isoformat(timespec="seconds"), expires_at=expires))
        record_change(conn, actor, "create", "api_token", token_id, None,
                      {"operator": actor.name, "expires_at": expires})
    return token, expires


def authenticate_operator(conn: Connection, token: str) -> str | None:
    """The operator a valid, unexpired, unrevoked token belongs to (constant-time comparison)."""
    from cloudctl.store.tables.agents import api_token

    token_id = cred.split_secret(token, cred.OPERATOR)
    row = None
    if token_id is not None:
        row = conn.execute(select(api_token).where(api_token.c.token_id == token_id)).first()
    ok = cred.matches(token, row.token_hash if row is not None else None)
    if not ok or row is None or row.revoked_at is not None:
        return None
    if datetime.fromisoformat(row.expires_at) < clock.now():
        return None
    return str(row.operator)


def revoke_operator_token(store: Any, actor: Actor, token_id: str) -> None:
    """Revoke one of the acting operator's own tokens at once."""
    from sqlalchemy import update

    from cloudctl.errors import ConflictError, NotFoundError, PermissionDenied
    from cloudctl.store.tables.agents import api_token

    with store.begin() as conn:
        row = conn.execute(select(api_token).where(api_token.c.token_id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no API token {token_id!r}", field="--revoke", hint="the opt-... part of the token")
        if row.operator != actor.name:
            raise PermissionDenied(f"token {token_id} belongs to {row.operator}, not {actor.name}")
        if row.revoked_at is not None:
            raise ConflictError(f"token {token_id} is already revoked")
        at = clock.stamp()
        conn.execute(update(api_token).where(api_token.c.token_id == token_id).values(revoked_at=at))
        record_change(conn, actor, "revoke", "api_token", token_id, {"revoked_at": None}, {"revoked_at": at})
