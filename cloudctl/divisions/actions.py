"""The division registry's actions: create the store with the shipped divisions, import official files.

Unscoped on the power list: the registry is the whole country's. (The first `cloudctl init` on a new
store is also how the installing OS user becomes admin: power/authorize.py's first-operator rule.)
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from cloudctl.action import Action, Context, Inputs


class NoInputs(Inputs):
    pass


def _init(ctx: Context, inputs: NoInputs) -> dict[str, Any]:
    from cloudctl.divisions.registry import level_counts
    from cloudctl.divisions.shipped import load_shipped_divisions

    result = load_shipped_divisions(ctx.store, ctx.actor, progress=ctx.progress)
    with ctx.store.connect() as conn:
        stored = level_counts(conn)
    return {"import": result, "stored": stored}


INIT_STORE = Action("store.init", NoInputs, _init)


class ImportDivisions(Inputs):
    paths: list[str] = Field(min_length=1, max_length=10)
    _files: list[Any] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _read(self) -> ImportDivisions:
        """Every file is read and checked (file:line errors) before anyone is asked; the import then writes
        it all or nothing."""
        from cloudctl.divisions.importer import read_division_files

        self._files = read_division_files(self.paths)
        return self


def _import(ctx: Context, inputs: ImportDivisions) -> Any:
    from cloudctl.divisions.importer import import_divisions

    return import_divisions(ctx.store, inputs._files, ctx.actor, progress=ctx.progress)


IMPORT_DIVISIONS = Action("divisions.import", ImportDivisions, _import)

ACTIONS = (INIT_STORE, IMPORT_DIVISIONS)
