"""The approval engine's actions: file, vote, withdraw, sweep, apply, set a policy, delegate.

Each is defined once here and run by the CLI (`cloudctl request ...`) and the API
(`/v1/requests`, `/v1/approvals/{id}/approve|reject`) alike through cloudctl.action.perform: the
deciding vote applies the request on either channel, and an auto-approved request is applied as
soon as it is filed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import Connection

from cloudctl.action import Action, Context, Inputs, field_path
from cloudctl.approvals import engine
from cloudctl.approvals.appliers import apply_approved, apply_request, needs_applier
from cloudctl.approvals.kinds import KINDS, get_kind
from cloudctl.approvals.requests import (
    cast_vote,
    check_targets,
    create_request,
    delegate_votes,
    set_policy,
    show_request,
    sweep,
    withdraw,
)
from cloudctl.errors import InputError, OperationFailed
from cloudctl.fields import DeptCode, DivisionCode, Instant, RowId, ShortName, Text
from cloudctl.power.roles import Scope


def _appliers() -> Any:
    from cloudctl.wiring import appliers

    return appliers()


def _apply_now(ctx: Context, out: dict[str, Any]) -> dict[str, Any]:
    """Carry out a request that this step approved (the sweep and `request apply` retry a failure)."""
    if out.get("status") == engine.APPROVED and needs_applier(out["kind"]):
        applied = apply_request(ctx, _appliers(), out["id"], retry=False)
        if applied is not None:
            out.update(apply_status=applied["apply_status"], apply_result=applied["result"])
    return out


# ---- file a request -----------------------------------------------------------------------

class CreateRequest(Inputs):
    kind: str = Field(max_length=60)
    payload: dict[str, Any]
    policy_name: ShortName = Field(description="the approval policy to file it under")
    title: Text | None = None
    dept: DeptCode | None = None
    region: DivisionCode | None = None

    @model_validator(mode="after")
    def _payload_fits_kind(self) -> CreateRequest:
        kind = get_kind(self.kind)
        if kind.filed_by != "cloudctl request create":
            raise InputError(f"{kind.name} requests are filed by `{kind.filed_by}`", field="kind",
                             hint="request create files: " + ", ".join(
                                 k for k, v in KINDS.items() if v.filed_by == "cloudctl request create"))
        kind.parse(self.payload)
        return self


def _request_target(conn: Connection, inputs: CreateRequest) -> Scope:
    dept_division = check_targets(conn, inputs.dept, inputs.region)
    return Scope(dept=inputs.dept, region=inputs.region or dept_division)


def _create(ctx: Context, inputs: CreateRequest) -> dict[str, Any]:
    kind = KINDS[inputs.kind]
    payload = kind.parse(inputs.payload)
    flavor = None
    if kind.needs_flavor:
        from cloudctl.cloud_ops.requests import find_flavor

        flavor = find_flavor(ctx.open_cloud(), payload.flavor)  # type: ignore[attr-defined]
    with ctx.store.begin() as conn:
        out = create_request(conn, ctx.actor, kind=kind.name, payload=inputs.payload, policy=inputs.policy_name,
                             title=inputs.title or f"{kind.name} for {inputs.dept or inputs.region or 'everyone'}",
                             dept=inputs.dept, region=inputs.region, now=ctx.clock.now(), flavor=flavor)
    return _apply_now(ctx, out)


CREATE_REQUEST = Action("request.create", CreateRequest, _create, scope=_request_target)


# ---- votes, withdrawal, apply -------------------------------------------------------------

class Vote(Inputs):
    request_id: RowId
    reason: Text | None = None


class Rejection(Inputs):
    request_id: RowId
    reason: Text = Field(description="why (the requester reads it)")


def _request_scope(conn: Connection, inputs: Vote | Rejection) -> Scope:
    req = show_request(conn, inputs.request_id)
    return Scope(dept=req["dept"], region=req["region"])


def _voter(decision: str) -> Any:
    def run(ctx: Context, inputs: Vote | Rejection) -> dict[str, Any]:
        with ctx.store.begin() as conn:
            out = cast_vote(conn, ctx.actor, inputs.request_id, decision, inputs.reason, now=ctx.clock.now())
            out["kind"] = show_request(conn, inputs.request_id)["kind"]
        return _apply_now(ctx, out)

    return run


APPROVE = Action("request.approve", Vote, _voter("approve"), scope=_request_scope)
REJECT = Action("request.reject", Rejection, _voter("reject"), scope=_request_scope)


def _withdraw(ctx: Context, inputs: Vote) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return withdraw(conn, ctx.actor, inputs.request_id, inputs.reason, now=ctx.clock.now())


WITHDRAW = Action("request.withdraw", Vote, _withdraw, scope=_request_scope,
                  confirm=lambda i: (f"withdraw request {i.request_id}? its reviewers stop being asked",
                                     str(i.request_id)))


class ApplyRequest(Inputs):
    request_id: RowId


def _apply(ctx: Context, inputs: ApplyRequest) -> dict[str, Any]:
    out = apply_request(ctx, _appliers(), inputs.request_id)
    if out is None:
        raise OperationFailed(f"request {inputs.request_id} has nothing to apply: it was applied already, or its "
                              "kind takes effect where it is read (gateway publications: gateway compile/deploy)")
    return out


APPLY = Action("request.apply", ApplyRequest, _apply, scope=_request_scope)


# ---- sweep --------------------------------------------------------------------------------

class Sweep(Inputs):
    now: Instant | None = Field(None, description="pretend it is this time (testing a policy's deadlines)")


def _sweep(ctx: Context, inputs: Sweep) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        out = sweep(conn, ctx.actor, inputs.now or ctx.clock.now())
    out["applied"] = apply_approved(ctx, _appliers())
    out["failed"] = [a for a in out["applied"] if a["apply_status"] != "ok"]
    return out


SWEEP = Action("request.sweep", Sweep, _sweep)


# ---- policies and delegation --------------------------------------------------------------

class SetPolicy(Inputs):
    document: Any = Field(description="the policy as a mapping (YAML or JSON); the CLI passes the loaded file, "
                                      "whose marks place every error at its line and column")
    source: str | None = Field(None, max_length=4096, description="the file it came from, for error locations")

    @property
    def data(self) -> Any:
        from cloudctl.inputs.documents import Document

        return self.document.data if isinstance(self.document, Document) else self.document

    @model_validator(mode="after")
    def _valid_policy(self) -> SetPolicy:
        from cloudctl.approvals.policy import parse_policy
        from cloudctl.inputs.documents import Document

        try:
            parse_policy(self.data, self.source)
        except InputError as e:
            if isinstance(self.document, Document) and e.field:
                raise self.document.error(field_path(e.field), e.message, hint=e.hint) from None
            raise
        return self


def _set_policy(ctx: Context, inputs: SetPolicy) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return set_policy(conn, inputs.data, ctx.actor, inputs.source).as_dict()


SET_POLICY = Action("request.policy.set", SetPolicy, _set_policy)


class Delegate(Inputs):
    to: ShortName
    until: Instant
    start: Instant | None = None


def _delegate(ctx: Context, inputs: Delegate) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        return delegate_votes(conn, ctx.actor, inputs.to, inputs.start or ctx.clock.now(), inputs.until)


DELEGATE = Action("request.delegate", Delegate, _delegate)

ACTIONS = (CREATE_REQUEST, APPROVE, REJECT, WITHDRAW, APPLY, SWEEP, SET_POLICY, DELEGATE)
