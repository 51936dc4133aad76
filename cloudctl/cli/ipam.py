"""cloudctl ipam: the address plan (pools, allocations, reservations). Logic lives in cloudctl.ipam."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Connection

    from cloudctl.audit import Actor
    from cloudctl.store import Store

ALLOC_COLUMNS = ["prefix", "pool", "kind", "owner", "note", "created_at", "created_by"]


@click.group()
def ipam() -> None:
    """The address plan: hierarchical pools and prefix allocations (IPv4 and IPv6)."""


@ipam.group("pool")
def pool() -> None:
    """Address pools: national supernet -> province pools -> department pools."""


@pool.command("add")
@click.argument("cidr")
@click.option("--name", required=True, help="Pool name (letters, digits, . _ : -).")
@click.option("--parent", metavar="POOL", help="The pool this one is carved from.")
@click.option("--description", help="Free text shown by `ipam show`.")
@format_option()
@pass_app
def pool_add(app: AppContext, cidr: str, name: str, parent: str | None, description: str | None, fmt: str) -> None:
    """Add a pool CIDR named NAME (inside --parent, overlapping none of its siblings)."""
    from cloudctl.ipam import create_pool

    with authorized(app.store, app.actor, "ipam.pool.add") as conn:
        created = create_pool(conn, cidr, name, parent, app.actor, description)
    row = created.summary(parent)
    emit_rows([row], ["name", "cidr", "parent", "description"], fmt, json_data=row)


@pool.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def pool_remove(app: AppContext, name: str, yes: bool) -> None:
    """Remove an empty pool."""
    from cloudctl.ipam import delete_pool

    _confirm(f"remove address pool {name!r}?", yes)
    with authorized(app.store, app.actor, "ipam.pool.remove") as conn:
        removed = delete_pool(conn, name, app.actor)
    click.echo(f"removed pool {removed.name} ({removed.cidr})", err=True)


@ipam.command("allocate")
@click.option("--pool", "pool_name", required=True, metavar="POOL", help="Pool to allocate from.")
@click.option("--length", required=True, type=int, help="Prefix length wanted, e.g. 24.")
@click.option("--for", "owner", required=True, metavar="OBJECT", help="Owner key, e.g. dept:health.")
@click.option("--note", help="Free text kept with the allocation.")
@format_option()
@pass_app
def allocate_cmd(app: AppContext, pool_name: str, length: int, owner: str, note: str | None, fmt: str) -> None:
    """Allocate a prefix by best fit; asking again for the same owner returns the same prefix."""
    from cloudctl.ipam import allocate

    with authorized(app.store, app.actor, "ipam.allocate") as conn:
        alloc = allocate(conn, pool_name, length, owner, app.actor, note)
    _emit_allocations([alloc.as_row()], fmt, single=True)


@ipam.command("reserve")
@click.argument("cidr")
@click.option("--pool", "pool_name", metavar="POOL", help="Pool (default: the deepest pool containing CIDR).")
@click.option("--reason", required=True, help="Why this range is kept out of allocation.")
@format_option()
@pass_app
def reserve_cmd(app: AppContext, cidr: str, pool_name: str | None, reason: str, fmt: str) -> None:
    """Reserve a range so it is never allocated (gateways, future growth)."""
    from cloudctl.ipam import reserve_prefix

    with authorized(app.store, app.actor, "ipam.reserve") as conn:
        alloc = reserve_prefix(conn, cidr, app.actor, pool_name, reason)
    _emit_allocations([alloc.as_row()], fmt, single=True)


@ipam.command("release")
@click.option("--for", "owner", metavar="OBJECT", help="Release what this owner holds.")
@click.option("--prefix", metavar="CIDR", help="Release this exact allocation or reservation.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show what would be released, change nothing.")
@format_option()
@pass_app
def release_cmd(app: AppContext, owner: str | None, prefix: str | None, yes: bool, dry_run: bool, fmt: str) -> None:
    """Give a prefix back to its pool (by owner or by prefix)."""
    from cloudctl.errors import InputError, NotFoundError
    from cloudctl.ipam import find_allocation, release_by_prefix, release_owner

    if bool(owner) == bool(prefix):
        raise InputError("give exactly one of --for OBJECT or --prefix CIDR", field="--for/--prefix")
    with app.store.connect() as conn:
        found = find_allocation(conn, owner=owner) if owner else find_allocation(conn, prefix=prefix)
    if found is None:
        what = f"{owner!r} holds no prefix" if owner else f"{prefix} is neither allocated nor reserved"
        raise NotFoundError(what, field="--for" if owner else "--prefix", hint="cloudctl ipam list")
    if dry_run:
        _emit_allocations([found.as_row()], fmt, single=True)
        click.echo("dry run: nothing released", err=True)
        return
    _confirm(f"release {found.prefix} ({found.owner or found.note or found.kind})?", yes)
    with authorized(app.store, app.actor, "ipam.release") as conn:
        by_owner = owner is not None
        released = release_owner(conn, owner, app.actor) if by_owner else release_by_prefix(conn, prefix, app.actor)
    assert released is not None
    _emit_allocations([released.as_row()], fmt, single=True)


@ipam.command("show")
@click.argument("pool_name", metavar="[POOL]", required=False)
@format_option()
@pass_app
def show_cmd(app: AppContext, pool_name: str | None, fmt: str) -> None:
    """The pool tree with utilisation (all pools, or the subtree under POOL)."""
    from cloudctl.ipam import pool_tree

    with app.store.connect() as conn:
        rows = [v.as_row() for v in pool_tree(conn, pool_name)]
    for r in rows:
        r["used"] = f"{r['utilisation'] * 100:.1f}%"
    cols = ["tree", "cidr", "used", "allocations", "reservations", "child_pools", "free", "largest_free"]
    if fmt == "csv":
        cols = ["name", "parent", "cidr", "size", "allocated", "reserved", "delegated", "free", "utilisation",
                "largest_free", "allocations", "reservations", "child_pools"]
    for r in rows:
        if fmt != "table":
            r.pop("used")
    emit_rows(rows, cols, fmt, title="address plan")


@ipam.command("free")
@click.argument("pool_name", metavar="POOL")
@click.option("--length", type=int, help="Only blocks that can hold a prefix of this length.")
@format_option()
@pass_app
def free_cmd(app: AppContext, pool_name: str, length: int | None, fmt: str) -> None:
    """The free blocks of POOL (maximal aligned CIDRs), in address order."""
    from cloudctl.ipam import pool_free

    with app.store.connect() as conn:
        blocks = pool_free(conn, pool_name, length)
    rows = [{"prefix": b.cidr, "length": b.prefixlen, "addresses": b.size} for b in blocks]
    emit_rows(rows, ["prefix", "length", "addresses"], fmt)


@ipam.command("list")
@click.option("--pool", "pool_name", metavar="POOL", help="Only this pool.")
@click.option("--kind", type=click.Choice(["allocation", "reserved"]), help="Only allocations or reservations.")
@format_option()
@pass_app
def list_cmd(app: AppContext, pool_name: str | None, kind: str | None, fmt: str) -> None:
    """Allocations and reservations."""
    from cloudctl.ipam import list_allocations

    with app.store.connect() as conn:
        rows = [a.as_row() for a in list_allocations(conn, pool_name, kind)]
    _emit_allocations(rows, fmt)


def _emit_allocations(rows: list[dict], fmt: str, *, single: bool = False) -> None:
    if single and fmt == "json":
        emit_json(rows[0])
    else:
        emit_rows(rows, ALLOC_COLUMNS, fmt)


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        from cloudctl.errors import InputError

        raise InputError("refusing to change without confirmation", field="--yes",
                         hint="add --yes when running non-interactively")
    click.confirm(question, abort=True, err=True)


@contextmanager
def authorized(store: Store, actor: Actor, permission: str) -> Iterator[Connection]:
    """The power list check (audited), then the change's transaction."""
    from cloudctl.power import authorized as guard

    with guard(store, actor, permission) as conn:
        yield conn
