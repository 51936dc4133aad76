"""The context object on ctx.obj and the one place errors become exit codes."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from cloudctl.audit import Actor
    from cloudctl.clock import Clock
    from cloudctl.store import Store


@dataclass
class AppContext:
    db_flag: str | None = None
    actor_flag: str | None = None
    debug: bool = False
    argv: list[str] = field(default_factory=list)
    _store: Store | None = None
    _clock: Clock | None = None

    @property
    def db_url(self) -> str:
        from cloudctl.config import resolve_db_url

        return resolve_db_url(self.db_flag)

    @property
    def store(self) -> Store:
        """The store, opened (and migrated) on first use. Only a command marked @creates_store
        (init, demo) creates a missing one; every other command refuses it (exit 2)."""
        if self._store is None:
            from cloudctl.store import open_store

            self._store = open_store(self.db_url, create=_running_command_creates_store())
            _ = self.clock  # every command that opens the store runs on the store's time zone
        return self._store

    @property
    def clock(self) -> Clock:
        """The one clock, in CLOUDCTL_TZ's zone, else the store's `timezone` setting (read once, DB-API only)."""
        if self._clock is None:
            from cloudctl.config import timezone_override
            from cloudctl.settings import clock_for

            self._clock = clock_for(self.store, timezone_override())
        return self._clock

    @property
    def actor(self) -> Actor:
        from cloudctl.audit import Actor
        from cloudctl.config import resolve_actor

        return Actor(resolve_actor(self.actor_flag), "cloudctl " + shlex.join(self.argv))


pass_app = click.make_pass_decorator(AppContext)

CREATES_STORE_ATTR = "__cloudctl_creates_store__"
F = TypeVar("F", bound=Callable[..., Any])


def creates_store(func: F) -> F:
    """Mark a command as one that may create the store (put it under the other decorators:
    functools.wraps carries the mark up to click's callback)."""
    setattr(func, CREATES_STORE_ATTR, True)
    return func


def command_creates_store(command: click.Command | None) -> bool:
    return bool(getattr(getattr(command, "callback", None), CREATES_STORE_ATTR, False))


def _running_command_creates_store() -> bool:
    ctx = click.get_current_context(silent=True)
    return ctx is not None and command_creates_store(ctx.command)


def _echo_error(text: str) -> None:
    from cloudctl.cli.output import printable  # messages quote outside values: no raw escape sequences

    click.echo(f"error: {printable(text, keep_newlines=True)}", err=True)


@contextmanager
def handle_errors(debug: bool) -> Iterator[None]:
    """Map every failure to its exit code; tracebacks only with --debug."""
    from cloudctl.errors import CloudctlError

    try:
        yield
    except click.exceptions.Abort:
        _echo_error("aborted")
        sys.exit(1)
    except click.ClickException as e:  # usage errors: exit 2
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except CloudctlError as e:
        if debug:
            import traceback

            traceback.print_exc()
        _echo_error(e.render())
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        _echo_error("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:
        if debug:
            raise
        _echo_error(f"unexpected {type(e).__name__}: {e} (rerun with --debug for the traceback)")
        sys.exit(1)
    sys.exit(0)
