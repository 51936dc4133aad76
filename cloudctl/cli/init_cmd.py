"""cloudctl init: create or upgrade the store and load the shipped divisions (idempotent)."""

from __future__ import annotations

import click

from cloudctl.cli.context import AppContext, creates_store, pass_app
from cloudctl.cli.guard import requires
from cloudctl.cli.output import emit_json, format_option, progress_bar


@click.command("init")
@format_option()
@pass_app
@requires("store.init")
@creates_store
def init(app: AppContext, fmt: str) -> None:
    """Create or upgrade the store, then load the shipped divisions (provinces → townships).

    Safe to rerun: the schema is migrated to the newest version and the divisions are
    upserted by code (nothing changes when they are already there). Villages are not
    shipped: import them with `cloudctl divisions import villages.csv.gz`.
    """
    from sqlalchemy.engine import make_url

    from cloudctl.cli.divisions import emit_import_result
    from cloudctl.divisions.registry import level_counts
    from cloudctl.divisions.shipped import load_shipped_divisions

    store, actor = app.store, app.actor  # opening the store migrates it
    with progress_bar("loading shipped divisions") as advance:
        result = load_shipped_divisions(store, actor, progress=advance)
    with store.connect() as conn:
        stored = level_counts(conn)
    where = make_url(store.url).render_as_string(hide_password=True)
    if fmt == "json":
        emit_json({"store": where, "import": result.to_json(), "stored": stored})
        return
    emit_import_result(result, fmt)
    if fmt == "table":
        click.echo(f"store {where}: " + ", ".join(f"{n} {level}" for level, n in stored.items()), err=True)
