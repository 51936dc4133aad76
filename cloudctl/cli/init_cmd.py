"""cloudctl init: create or upgrade the store and load the shipped divisions (idempotent)."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, creates_store
from cloudctl.cli.output import emit_json, format_option
from cloudctl.cli.perform import performs


@click.command("init")
@format_option()
@performs("cloudctl.divisions.actions:INIT_STORE", progress="loading shipped divisions")
@creates_store
def init(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Create or upgrade the store, then load the shipped divisions (provinces → townships).

    Safe to rerun: the schema is migrated to the newest version and the divisions are
    upserted by code (nothing changes when they are already there). Villages are not
    shipped: import them with `cloudctl divisions import villages.csv.gz`.
    """
    from sqlalchemy.engine import make_url

    from cloudctl.cli.divisions import emit_import_result

    imported, stored = result["import"], result["stored"]
    where = make_url(app.store.url).render_as_string(hide_password=True)
    if fmt == "json":
        emit_json({"store": where, "import": imported.to_json(), "stored": stored})
        return
    emit_import_result(imported, fmt)
    if fmt == "table":
        click.echo(f"store {where}: " + ", ".join(f"{n} {level}" for level, n in stored.items()), err=True)
