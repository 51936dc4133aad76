"""The action layer: one definition per mutating action, one order of work for every channel.

    1. validate the inputs          InputError: exit 2 on the CLI, 422 on the API
    2. derive the scope from them   may read the store (the link's division, the request's dept);
                                    a target that does not exist is bad input, refused here
    3. authorize (power list)       audited; a denial commits only its power.deny record: exit 1 / 403
    4. confirm, if destructive      the CLI's --yes or a typed answer on a terminal
                                    (a dry run stops after step 2 and shows its preview: it reads only)
    5. act                          the work and its audit record, in one transaction
    6. return a result              plain data, rendered by the channel

An action is defined once, in its capability (e.g. cloudctl/coverage/actions.py), as an `Action`:
its permission name on the power list, a pydantic `Inputs` model, a scope function and a run
function. The CLI (cli/perform.py `performs`) and the API (api/actions.py) are adapters: they
build the raw inputs, call `perform` and render what it returns. What a vote does on the CLI it
does over HTTP, because both run the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError
from pydantic_core import PydanticCustomError, core_schema
from sqlalchemy import Connection

from cloudctl import clock as clock_module
from cloudctl.audit import Actor
from cloudctl.errors import CloudctlError, InputError
from cloudctl.power.roles import Scope
from cloudctl.store import Store


def _located(title: str) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except InputError as e:
            where = {k: v for k, v in (("file", e.file), ("line", e.line), ("column", e.column)) if v is not None}
            error = PydanticCustomError("cloudctl_value", "{message}",
                                        {"message": e.message, "hint": e.hint or "", **where})
            loc = field_path(e.field) if e.field else ()
            raise ValidationError.from_exception_data(title, [{"type": error, "loc": loc, "input": None}]) from None

    return validate


def field_path(field: str) -> tuple[str | int, ...]:
    """'groups[0].members' -> ('groups', 0, 'members') ('(top)' is the document itself)."""
    import re

    if field == "(top)":
        return ()
    return tuple(int(i) if i else k for k, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field))


class Inputs(BaseModel):
    """Base of every action's inputs: unknown fields are refused, values are immutable.

    A check inside a validator may raise InputError (a loader naming file:line:column, a kind's
    payload schema naming payload.vcpus): it becomes a pydantic validation error at that field,
    so the API answers 422 like any other bad body and `input_error` gives the CLI its location back.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(_located(cls.__name__), handler(source))


In = TypeVar("In", bound=Inputs)


class Declined(CloudctlError):
    """The operator did not confirm a destructive action: nothing changed."""


class Confirmation(Protocol):
    def check(self, action: Action[Any]) -> None:
        """Before authorization: refuse (InputError) when confirmation can be neither given nor asked."""

    def ask(self, question: str, answer: str) -> None:
        """After authorization: raise Declined unless the operator confirms."""


class Confirmed:
    """Confirmation given up front (the CLI's --yes, or an API call: the request is the intent)."""

    def check(self, action: Action[Any]) -> None:
        return None

    def ask(self, question: str, answer: str) -> None:
        return None


@dataclass
class Context:
    """What every action receives: the store, who acts, the clock, and the outside systems (opened on use)."""

    store: Store
    actor: Actor
    clock: clock_module.Clock = field(default_factory=clock_module.current)
    cloud: Callable[[], Any] | None = None
    confirmation: Confirmation = field(default_factory=Confirmed)
    progress: Callable[..., object] | None = None  # advance(n=1, total=None) of a progress bar, if any
    _opened_cloud: Any = None

    def open_cloud(self) -> Any:
        """The cloud connection, opened once (appliers and cloud actions receive it as an argument)."""
        if self._opened_cloud is None:
            if self.cloud is None:
                from cloudctl.errors import OperationFailed

                raise OperationFailed("this action needs the cloud, and no cloud is configured",
                                      hint="--cloud NAME (clouds.yaml) or CLOUDCTL_CLOUD")
            self._opened_cloud = self.cloud()
        return self._opened_cloud


def no_scope(conn: Connection, inputs: Any) -> Scope | None:
    return None


@dataclass(frozen=True)
class Action(Generic[In]):
    """One mutating action: `name` is its permission on the power list (cloudctl/power/registry.py)."""

    name: str
    inputs: type[In]
    run: Callable[[Context, In], Any]
    # the scope to authorize in; a list when the action touches several (each is authorized, first denial wins)
    scope: Callable[[Connection, In], Scope | list[Scope] | None] = no_scope
    # destructive actions: (question, the word an operator types on a terminal to confirm)
    confirm: Callable[[In], tuple[str, str]] | None = None
    # what a dry run (inputs with dry_run=True) shows instead: reads only, so neither authorized nor confirmed
    preview: Callable[[Context, In], Any] | None = None

    @property
    def destructive(self) -> bool:
        return self.confirm is not None


def input_error(e: ValidationError) -> InputError:
    """The first problem of a pydantic ValidationError as an InputError naming the field (and the file,
    line and column when a loader found it)."""
    first = e.errors(include_url=False)[0]
    where = _format_path(first.get("loc", ())) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    ctx = first.get("ctx") or {}
    ctx = ctx if isinstance(ctx, dict) else {}
    more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
    return InputError(message + more, field=where, hint=ctx.get("hint") or None, file=ctx.get("file"),
                      line=ctx.get("line"), column=ctx.get("column"))


def _format_path(loc: Any) -> str:
    from cloudctl.inputs.documents import format_path

    return format_path([part for part in loc if part != "__root__"])


def validate(action: Action[In], raw: Mapping[str, Any] | In) -> In:
    """Step 1: the inputs, or an InputError naming the field (never reaches authorization)."""
    if isinstance(raw, action.inputs):
        return raw
    try:
        return action.inputs.model_validate(dict(raw))
    except ValidationError as e:
        raise input_error(e) from None


def perform(ctx: Context, action: Action[In], raw: Mapping[str, Any] | In) -> Any:
    """Run ACTION for ctx.actor in the one order (see the module doc)."""
    from cloudctl.power.authorize import authorize

    inputs = validate(action, raw)
    dry_run = action.preview is not None and bool(getattr(inputs, "dry_run", False))
    if action.confirm is not None and not dry_run:
        ctx.confirmation.check(action)
    with ctx.store.connect() as conn:
        scope = action.scope(conn, inputs)
    if dry_run:
        return action.preview(ctx, inputs)  # type: ignore[misc]
    for s in scope if isinstance(scope, list) else [scope]:
        authorize(ctx.store, ctx.actor, action.name, s)
    if action.confirm is not None:
        ctx.confirmation.ask(*action.confirm(inputs))
    return action.run(ctx, inputs)
