"""The CLI's adapter over the action layer (cloudctl/action.py): a mutating command is its options,
`@performs(ACTION)` and a body that renders the result.

    @links.command("retire")
    @click.argument("link_id")
    @click.option("--on", "retired_on")
    @yes_option
    @format_option()
    @performs(RETIRE_LINK)
    def retire_cmd(app: AppContext, result: LinkRecord, fmt: str) -> None:
        ...render result...

The command's parameters named like fields of the action's inputs become the inputs; the others
(--format, --yes, --cloud) are the adapter's. An InputError naming an input field is reported with
the option that carries it (`--division`, not `division_code`). Read-only commands are marked
`@read_only`; tests walk the command tree and require every command to be one or the other.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from cloudctl.action import Action, Context
    from cloudctl.cli.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])
ACTION_ATTR = "__cloudctl_action__"
READ_ONLY_ATTR = "__cloudctl_read_only__"
BOOTSTRAP_ATTR = "__cloudctl_bootstrap__"
SERVICE_ATTR = "__cloudctl_service__"
ADAPTER_PARAMS = ("yes", "cloud_name")


def yes_option(f: F) -> F:
    """The one confirmation flag of every destructive command."""
    return click.option("--yes", "-y", "yes", is_flag=True,
                        help="Do not ask: confirm the destructive change (needed when stdin is not a terminal).")(f)


class CliConfirmation:
    """--yes confirms; without it a terminal is asked to type the object's name; a pipe is refused."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes

    def check(self, action: Action[Any]) -> None:
        from cloudctl.errors import InputError

        if not self.yes and not sys.stdin.isatty():
            raise InputError(f"{action.name} is destructive and needs confirmation", field="--yes",
                             hint="add --yes (stdin is not a terminal, so cloudctl cannot ask)")

    def ask(self, question: str, answer: str) -> None:
        from cloudctl.action import Declined

        if self.yes:
            return
        typed = click.prompt(f"{question}\nType {answer!r} to confirm", default="", show_default=False, err=True)
        if typed.strip() != answer:
            raise Declined("not confirmed: nothing changed")


def action_context(app: AppContext, *, yes: bool = False, cloud_name: str | None = None) -> Context:
    """The action context of this command line: store, operator, clock, cloud (opened on use), --yes."""
    from cloudctl.action import Context

    def cloud() -> Any:
        from cloudctl.cloud.openstack_adapter import OpenStackCloud, resolve_cloud
        from cloudctl.config import cloud_name as resolve_name

        return OpenStackCloud(resolve_cloud(resolve_name(cloud_name)))

    return Context(store=app.store, actor=app.actor, clock=app.clock, cloud=cloud,
                   confirmation=CliConfirmation(yes))


def _flag_names(command: click.Command) -> dict[str, str]:
    """Input field name -> how the operator typed it (--division, or the argument's metavar)."""
    out = {}
    for p in command.params:
        if p.name:
            out[p.name] = max(p.opts, key=len) if isinstance(p, click.Option) else (p.human_readable_name or p.name)
    return out


Progress = str | Callable[[dict[str, Any]], AbstractContextManager[Any]] | None


def run_action(app: AppContext, action: Action[Any], raw: dict[str, Any], *, yes: bool = False,
               cloud_name: str | None = None, progress: Progress = None) -> Any:
    """perform() for this command line; errors name the options the operator typed. PROGRESS labels a
    progress bar (on a terminal) that the action advances, or builds another live view from the raw
    inputs (e.g. the per-host table of a playbook run); the action receives what it yields as ctx.progress."""
    from cloudctl.action import perform
    from cloudctl.cli.output import progress_bar
    from cloudctl.errors import InputError

    ctx = action_context(app, yes=yes, cloud_name=cloud_name)
    try:
        if progress is None:
            return perform(ctx, action, raw)
        view = progress_bar(progress) if isinstance(progress, str) else progress(raw)
        with view as advance:
            ctx.progress = advance
            return perform(ctx, action, raw)
    except InputError as e:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and e.field:
            head, _, rest = e.field.partition(".")
            flag = _flag_names(ctx.command).get(head)
            if flag:
                e.field = flag + (f".{rest}" if rest else "")
        raise


def resolve(action: Action[Any] | str) -> Action[Any]:
    """An action, or its "module:NAME" reference imported now (command modules stay light to import)."""
    if isinstance(action, str):
        module, _, name = action.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    return action


def performs(ref: Action[Any] | str, *, inputs: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
             consumes: tuple[str, ...] = (), progress: Progress = None) -> Callable[[F], F]:
    """Make a click command an adapter over the action REF (an Action, or "module:NAME"; see the module doc).

    `inputs` builds the raw inputs from the parameters when they are not the fields themselves
    (e.g. a file to load, or fixed fields of a shortcut command); `consumes` names the parameters
    it used, which the body does not receive.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(**params: Any) -> Any:
            from cloudctl.cli.context import AppContext

            action = resolve(ref)
            app = click.get_current_context().find_object(AppContext)
            if app is None:  # invoked outside the cloudctl root group (a bug, not a user error)
                raise RuntimeError(f"{action.name}: no AppContext on the click context")
            fields = action.inputs.model_fields
            given = {k: _plain(v) for k, v in params.items() if v is not None}
            raw = inputs(given) if inputs else {k: v for k, v in given.items() if k in fields}
            rest = {k: v for k, v in params.items() if k not in fields and k not in consumes}
            result = run_action(app, action, raw, yes=bool(rest.pop("yes", False)),
                                cloud_name=rest.pop("cloud_name", None), progress=progress)
            return func(app, result, **rest)

        setattr(wrapper, ACTION_ATTR, ref)
        return wrapper  # type: ignore[return-value]

    return decorate


def _plain(value: Any) -> Any:
    """click's tuples (multiple=True) as lists (None values are left out so that defaults apply)."""
    return list(value) if isinstance(value, tuple) else value


def read_only(func: F) -> F:
    """Mark a command that changes nothing (tests walk the tree: every command is read-only or an action)."""
    setattr(func, READ_ONLY_ATTR, True)
    return func


def bootstrap_only(func: F) -> F:
    """Mark `role bootstrap`: the first-operator rule, outside the power list by design (it works only while
    nobody holds any role, and is audited as role.bootstrap)."""
    setattr(func, BOOTSTRAP_ATTR, True)
    return func


def service(func: F) -> F:
    """Mark a long-running process (`serve`, `agent run`): it changes the store only through the actions its
    callers ask for, each authorized on its own (the API's routes), or not at all (an agent's local state)."""
    setattr(func, SERVICE_ATTR, True)
    return func


def action_of(command: click.Command) -> Action[Any] | None:
    ref = getattr(command.callback, ACTION_ATTR, None)
    return None if ref is None else resolve(ref)


def is_read_only(command: click.Command) -> bool:
    return bool(getattr(command.callback, READ_ONLY_ATTR, False))


def is_bootstrap(command: click.Command) -> bool:
    return bool(getattr(command.callback, BOOTSTRAP_ATTR, False))


def is_service(command: click.Command) -> bool:
    return bool(getattr(command.callback, SERVICE_ATTR, False))
