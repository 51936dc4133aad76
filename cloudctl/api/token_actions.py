"""The operator API token action (`cloudctl serve token`): issue one's own token, or revoke one of them.

Unscoped on the power list (serve.token); a token lets its operator act over HTTP as themselves,
still checked against the power list on every call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field

from cloudctl.action import Action, Context, Inputs
from cloudctl.fields import duration_up_to

MAX_TTL = timedelta(days=365)


class Token(Inputs):
    ttl: duration_up_to(MAX_TTL) = Field(  # type: ignore[valid-type]
        timedelta(days=30), description="how long the token stays valid (at most 365d)")
    revoke: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9._-]+$",
                               description="revoke this token id of yours instead")


def _token(ctx: Context, inputs: Token) -> dict[str, Any]:
    from cloudctl.api.operators import create_operator_token, revoke_operator_token

    if inputs.revoke:
        revoke_operator_token(ctx.store, ctx.actor, inputs.revoke)
        return {"operator": ctx.actor.name, "revoked": inputs.revoke}
    token, expires = create_operator_token(ctx.store, ctx.actor, inputs.ttl)
    return {"operator": ctx.actor.name, "token": token, "expires_at": expires}


TOKEN = Action("serve.token", Token, _token)
