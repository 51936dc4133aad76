"""cloudctl audit: list the hash-chained audit log, sign checkpoints of it, verify it."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only


@click.group()
def audit() -> None:
    """The append-only, hash-chained audit log and its signed checkpoints (docs/audit.md)."""


@audit.command("log")
@click.option("--limit", type=int, default=50, show_default=True, help="Newest N entries (0 = all).")
@click.option("--object-type", help="Only entries about this kind of object.")
@click.option("--actor", help="Only entries by this operator.")
@format_option()
@pass_app
@read_only
def log_cmd(app: AppContext, limit: int, object_type: str | None, actor: str | None, fmt: str) -> None:
    """List audit entries, newest first."""
    from cloudctl.audit import list_entries

    with app.store.connect() as conn:
        rows = list_entries(conn, limit=limit or None, object_type=object_type, actor=actor)
    cols = ["seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "command"]
    emit_rows(rows, cols, fmt)


def _key_option(help_text: str):  # type: ignore[no-untyped-def]
    return click.option("--key", "key_flag", metavar="PATH", allow_from_autoenv=False,
                        help=f"{help_text} Env: CLOUDCTL_AUDIT_KEY (default: audit-signing.key in the user "
                             "config dir).")


_file_option = click.option(
    "--checkpoint-file", "file_flag", metavar="PATH", allow_from_autoenv=False,
    help="The append-only checkpoint file (e.g. on a share of another host). Env: CLOUDCTL_AUDIT_CHECKPOINT_FILE "
         "(default: audit-checkpoints.jsonl in the user data dir).")
_public_option = click.option(
    "--public-key", "public_flags", metavar="PATH", multiple=True, allow_from_autoenv=False,
    help="A trusted signer's public key (repeatable, e.g. after a key rotation). Env: CLOUDCTL_AUDIT_PUBLIC_KEY.")


@audit.command("keygen")
@_key_option("Where to write the new private key (PATH.pub gets the public key).")
@read_only
def keygen_cmd(key_flag: str | None) -> None:
    """Create the Ed25519 key that signs checkpoints (mode 0600; never overwrites a key)."""
    from cloudctl.audit import keys
    from cloudctl.audit.checkpoints import key_id

    path = keys.key_path(key_flag)
    public, key = keys.generate_key(path)
    click.echo(f"signing key: {path} (mode 0600: keep it off the database host and out of its backups)")
    click.echo(f"public key:  {public} (all a verifier needs)")
    click.echo(f"key id:      {key_id(key)}")


@audit.command("public-key")
@_key_option("The signing key.")
@read_only
def public_key_cmd(key_flag: str | None) -> None:
    """Print the signing key's public key (PEM), for verifiers."""
    from cloudctl.audit import keys

    click.echo(keys.public_pem(keys.load_private_key(keys.key_path(key_flag)).public_key()), nl=False)


@audit.command("checkpoint")
@_key_option("The signing key.")
@_file_option
@_public_option
@format_option()
@performs("cloudctl.audit.actions:CHECKPOINT")
def checkpoint_cmd(app: AppContext, result: Any, fmt: str) -> None:
    """Sign the chain's head; append the checkpoint to the store and the file (safe to run from cron)."""
    cp = result.newest
    if fmt == "json":
        emit_json({"created": result.created, "checkpoint": cp.as_dict() if cp else None, "file": str(result.file),
                   "imported_from_file": result.imported, "appended_to_file": result.appended_missing})
    elif cp is None:
        click.echo("nothing to sign: the audit log is empty")
    else:
        what = "signed" if result.created else "unchanged since"
        click.echo(f"{what} checkpoint {cp.number}: row {cp.seq}, hash {cp.hash[:16]}…, at {cp.at}; in the store "
                   f"and {result.file}")
    for n, where in ((result.imported, "copied from the file into the store"),
                     (result.appended_missing, "appended to the file (it lacked them)")):
        if n:
            click.echo(f"{n} earlier checkpoint(s) {where}", err=True)


@audit.command("verify")
@_public_option
@_file_option
@click.option("--checkpoints", "source", type=click.Choice(["store", "file", "both"]), default=None,
              help="Which checkpoints to check the chain against: the store's, the file's alone (when the "
                   "store's copy may have been rewritten too), or both (default when the file exists).")
@format_option()
@pass_app
@read_only
def verify_cmd(app: AppContext, public_flags: tuple[str, ...], file_flag: str | None, source: str | None,
               fmt: str) -> None:
    """Check the chain and its signed checkpoints; exit 1 naming the first bad row or contradicted checkpoint."""
    from cloudctl.audit import keys
    from cloudctl.audit.verify import verify_audit
    from cloudctl.errors import InputError

    public = [keys.load_public_key(p) for p in keys.public_key_paths(list(public_flags))]
    path = keys.checkpoint_file_path(file_flag)
    if source in ("file", "both") and not path.exists():
        raise InputError("no checkpoint file here", file=str(path), field="--checkpoints",
                         hint="name it with --checkpoint-file or CLOUDCTL_AUDIT_CHECKPOINT_FILE")
    if source in ("file", "both") and not public:
        raise InputError("checking checkpoints needs the signer's public key", field="--public-key",
                         hint="pass the KEY.pub that `cloudctl audit keygen` wrote")
    with app.store.connect() as conn:
        result = verify_audit(conn, public, path if path.exists() else None, source or "both")
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        _print_verification(result)
    if not result.ok:
        raise SystemExit(1)


def _print_verification(result) -> None:  # type: ignore[no-untyped-def]
    c = result.chain
    if not c.ok:
        click.echo(f"audit chain BROKEN at row {c.first_bad_seq}: {c.problem}")
    elif result.problems:
        click.echo(f"audit chain intact ({c.rows_checked} entries), but its checkpoints are not: {result.problems[0]}")
    else:
        signed = (f" against {c.checkpoints_checked} signed checkpoint(s) ({', '.join(result.sources)})"
                  if c.checkpoints_checked else "")
        click.echo(f"audit chain intact: {c.rows_checked} entries verified{signed}")
        if result.newest is not None:
            click.echo(f"newest checkpoint {result.newest.number}: row {result.newest.seq}, signed {result.newest.at}; "
                       f"{result.unsigned_entries} entries after it not yet signed")
    for problem in result.problems if not c.ok else result.problems[1:]:
        click.echo(f"also: {problem}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
