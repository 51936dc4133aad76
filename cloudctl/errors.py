"""The one error hierarchy. Library code raises these; the CLI maps them to exit codes.

Exit codes (docs/architecture.md): 0 success, 1 operation failed, 2 bad input or usage,
3 partly done.
"""

from __future__ import annotations


class CloudctlError(Exception):
    """Base of every error cloudctl reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(CloudctlError):
    """Bad input: a file, a field or an argument. Names where, and how to fix it."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.column = column
        self.field = field

    @property
    def location(self) -> str:
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        where = ":".join(str(p) for p in parts)
        if self.field:
            where = f"{where}: field {self.field!r}" if where else f"field {self.field!r}"
        return where

    def render(self) -> str:
        where = self.location
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class NotFoundError(InputError):
    """A named object (division, link, department...) does not exist."""


class ConflictError(CloudctlError):
    """The request contradicts the store's state (e.g. a concurrent change won)."""

    exit_code = 1


class PermissionDenied(CloudctlError):
    """The power list does not grant this action to this operator."""

    exit_code = 1


class OperationFailed(CloudctlError):
    """An outside system (cloud, host, database) failed the operation."""

    exit_code = 1


class PartialFailure(CloudctlError):
    """Some items succeeded and some failed; a rerun finishes the rest."""

    exit_code = 3

    def __init__(self, message: str, *, failed: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failed = failed
