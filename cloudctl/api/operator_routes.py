"""The API's adapter over the action layer: operator routes, each a few lines over cloudctl.action.perform.

An operator authenticates with their `ccop.` token (`cloudctl serve token`) and acts as themselves:
the same validation, scope, power-list decision (audited), work and audit record as the same
command on the CLI, and the same result (an approving vote that decides a request applies it here
too). Each route names its action in the OpenAPI document (`x-cloudctl-permission`), so a test can
walk every route and prove it.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudctl import clock
from cloudctl.action import Action, Confirmed, Context, perform
from cloudctl.agents.actions import ADD_PROBE, IMPORT_PROBES, REMOVE_PROBE, AddProbe
from cloudctl.agents.probes import Probe
from cloudctl.api.models import MAX_JSON_INT, Problem
from cloudctl.approvals.actions import APPROVE, CREATE_REQUEST, REJECT, WITHDRAW, CreateRequest
from cloudctl.audit import Actor
from cloudctl.fields import Text

DOC: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no valid operator token"},
    403: {"model": Problem, "description": "the power list does not allow it (the decision is audited)"},
    404: {"model": Problem, "description": "the object named does not exist"},
    409: {"model": Problem, "description": "the object's state does not allow it"}}
RequestId = Annotated[int, Path(ge=1, le=MAX_JSON_INT)]


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text | None = Field(None, description="Why (optional).")


class RequiredReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(description="Why: the requester reads it.")


class ProbeList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    probes: list[Probe] = Field(min_length=1, max_length=100_000)


def permission(action: Action[Any]) -> dict[str, Any]:
    return {"x-cloudctl-permission": action.name}


def register(app: FastAPI, store: Any, current_operator: Callable[..., str], cloud: Callable[[], Any] | None,
             dependencies: list[Any]) -> None:
    """Add the operator routes to APP (called by create_app); DEPENDENCIES run first (the rate limit)."""
    Operator = Annotated[str, Depends(current_operator)]

    def doc(action: Action[Any], tag: str) -> dict[str, Any]:
        return {"dependencies": dependencies, "responses": DOC, "openapi_extra": permission(action), "tags": [tag]}

    def act(request: Request, operator: str, action: Action[Any], raw: Any) -> dict[str, Any]:
        """Validate as the action does (a failure is 422 like any bad body, before authorization), then perform."""
        try:
            inputs = raw if isinstance(raw, action.inputs) else action.inputs.model_validate(raw)
        except ValidationError as e:  # located as FastAPI locates its own: in the path or in the body
            raise RequestValidationError([
                {**err, "loc": ("path" if err["loc"][:1] and err["loc"][0] in request.path_params else "body",
                                *err["loc"])} for err in e.errors(include_url=False)]) from None
        ctx = Context(store=store, actor=Actor(operator, f"{request.method} {request.url.path}"),
                      clock=clock.current(), cloud=cloud, confirmation=Confirmed())
        return perform(ctx, action, inputs)

    @app.post("/v1/requests", status_code=201, **doc(CREATE_REQUEST, "approvals"))
    def file_request(body: CreateRequest, request: Request, operator: Operator) -> dict[str, Any]:
        """File a request for parallel approval (as `cloudctl request create`); applied at once when auto-approved."""
        return act(request, operator, CREATE_REQUEST, body)

    @app.post("/v1/approvals/{request_id}/approve", **doc(APPROVE, "approvals"))
    def approve(request_id: RequestId, body: Reason, request: Request, operator: Operator) -> dict[str, Any]:
        """Vote to approve as the token's operator; the deciding vote applies the request (as on the CLI)."""
        return act(request, operator, APPROVE, {"request_id": request_id, **body.model_dump(exclude_none=True)})

    @app.post("/v1/approvals/{request_id}/reject", **doc(REJECT, "approvals"))
    def reject(request_id: RequestId, body: RequiredReason, request: Request, operator: Operator) -> dict[str, Any]:
        """Vote to reject as the token's operator; a reason is required."""
        return act(request, operator, REJECT, {"request_id": request_id, **body.model_dump(exclude_none=True)})

    @app.post("/v1/requests/{request_id}/withdraw", **doc(WITHDRAW, "approvals"))
    def withdraw(request_id: RequestId, body: Reason, request: Request, operator: Operator) -> dict[str, Any]:
        """Withdraw one's own pending request."""
        return act(request, operator, WITHDRAW, {"request_id": request_id, **body.model_dump(exclude_none=True)})

    @app.get("/v1/probes", dependencies=dependencies, responses={401: DOC[401]}, tags=["probes"])
    def list_probes(operator: Operator,
                    division: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None) -> list[dict[str, Any]]:
        """Probes, by division and name (as `cloudctl agent probe list`)."""
        from cloudctl.agents.probes import list_probes as read

        with store.connect() as conn:
            return read(conn, division)

    @app.post("/v1/probes", status_code=201, **doc(ADD_PROBE, "probes"))
    def add_probe(body: AddProbe, request: Request, operator: Operator) -> dict[str, Any]:
        """Add a probe (as `cloudctl agent probe add`)."""
        return act(request, operator, ADD_PROBE, body)

    @app.post("/v1/probes/import", **doc(IMPORT_PROBES, "probes"))
    def import_probes(body: ProbeList, request: Request, operator: Operator) -> dict[str, Any]:
        """Add or update probes, all or nothing (as `cloudctl agent probe import`)."""
        return act(request, operator, IMPORT_PROBES, {"probes": body.probes})

    @app.delete("/v1/probes/{division}/{name}", **doc(REMOVE_PROBE, "probes"))
    def remove_probe(division: Annotated[str, Path(pattern=r"^[0-9]{2,12}$")],
                     name: Annotated[str, Path(min_length=1, max_length=100)], request: Request,
                     operator: Operator) -> dict[str, Any]:
        """Remove a probe (as `cloudctl agent probe remove`; the request is the confirmation)."""
        return act(request, operator, REMOVE_PROBE, {"division": division, "name": name})
