"""The division registry's actions: create the store with the shipped divisions, import official files.

Unscoped on the power list: the registry is the whole country's. (The first `cloudctl init` on a new
store is also how the installing OS user becomes admin: power/authorize.py's first-operator rule.)
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

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

    @field_validator("paths")
    @classmethod
    def _readable(cls, paths: list[str]) -> list[str]:
        """Every file must be there and readable before anyone is asked (its rows are checked on import, all or
        nothing, with file:line errors)."""
        import os

        for p in paths:
            if not os.path.isfile(p) or not os.access(p, os.R_OK):
                raise ValueError(f"{p}: no such readable file")
        return paths


def _import(ctx: Context, inputs: ImportDivisions) -> Any:
    from cloudctl.divisions.importer import import_division_files

    return import_division_files(ctx.store, list(inputs.paths), ctx.actor, progress=ctx.progress)


IMPORT_DIVISIONS = Action("divisions.import", ImportDivisions, _import)

ACTIONS = (INIT_STORE, IMPORT_DIVISIONS)
