"""@requires: the power-list check of a mutating command, one decorator line per command.

    @links.command("add")
    @click.option("--division", "division_code", ...)
    @pass_app
    @requires("links.add", scope=lambda params: Scope(region=params.get("division_code")))
    def add_cmd(app, ...): ...

The check runs before the command body: `cloudctl.power.authorize(app.store, app.actor,
permission, scope)` audits the decision (allowed or denied) in its own transaction and raises
PermissionDenied (exit 1) on a denial, so a denied command changes nothing but that one audit
record. `scope` receives the command's parsed parameters (click's ctx.params) and returns a
cloudctl.power.Scope, or None for an unscoped action; when the scope lives in the store (the
division of an agent named by id), pass `store_scope(store, params)` instead. The power package is imported only when
a guarded command runs, so `cloudctl --help` stays light. The decorated function keeps a
`__cloudctl_permission__` attribute naming its permission (tests walk the command tree with it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from cloudctl.power import Scope

F = TypeVar("F", bound=Callable[..., Any])
ScopeFn = Callable[[dict[str, Any]], "Scope | None"]
StoreScopeFn = Callable[[Any, dict[str, Any]], "Scope | None"]

PERMISSION_ATTR = "__cloudctl_permission__"


def requires(permission: str, scope: ScopeFn | None = None, store_scope: StoreScopeFn | None = None
             ) -> Callable[[F], F]:
    """Guard a click command with `permission` from the power list (see the module doc)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from cloudctl.cli.context import AppContext
            from cloudctl.power import authorize

            ctx = click.get_current_context()
            app = ctx.find_object(AppContext)
            if app is None:  # invoked outside the cloudctl root group (a bug, not a user error)
                raise RuntimeError(f"{permission}: no AppContext on the click context")
            params = dict(ctx.params)
            where = scope(params) if scope else None
            if store_scope is not None:
                where = store_scope(app.store, params)
            authorize(app.store, app.actor, permission, where)
            return func(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTR, permission)
        return wrapper  # type: ignore[return-value]

    return decorate


def region_of(name: str) -> ScopeFn:
    """A scope function: the region (division code) given by parameter `name`, if any."""

    def scope(params: dict[str, Any]) -> Scope | None:
        from cloudctl.power import Scope

        value = params.get(name)
        return Scope(region=str(value)) if value else None

    return scope


def permission_of(command: click.Command) -> str | None:
    """The permission a command was decorated with (None: not guarded by @requires)."""
    return getattr(command.callback, PERMISSION_ATTR, None)
