"""cloudctl ipam: the address plan (pools, allocations, reservations). Logic lives in cloudctl.ipam."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only, yes_option

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
@performs("cloudctl.ipam.actions:ADD_POOL")
def pool_add(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Add a pool CIDR named NAME (inside --parent, overlapping none of its siblings)."""
    emit_rows([result], ["name", "cidr", "parent", "description"], fmt, json_data=result)


@pool.command("remove")
@click.argument("name")
@yes_option
@performs("cloudctl.ipam.actions:REMOVE_POOL")
def pool_remove(app: AppContext, result: Any) -> None:
    """Remove an empty pool."""
    click.echo(f"removed pool {result.name} ({result.cidr})", err=True)


@ipam.command("allocate")
@click.option("--pool", "pool_name", required=True, metavar="POOL", help="Pool to allocate from.")
@click.option("--length", required=True, help="Prefix length wanted, e.g. 24.")
@click.option("--for", "owner", required=True, metavar="OBJECT", help="Owner key, e.g. dept:health.")
@click.option("--note", help="Free text kept with the allocation.")
@format_option()
@performs("cloudctl.ipam.actions:ALLOCATE")
def allocate_cmd(app: AppContext, result: Any, fmt: str) -> None:
    """Allocate a prefix by best fit; asking again for the same owner returns the same prefix."""
    _emit_allocations([result.as_row()], fmt, single=True)


@ipam.command("reserve")
@click.argument("cidr")
@click.option("--pool", "pool_name", metavar="POOL", help="Pool (default: the deepest pool containing CIDR).")
@click.option("--reason", required=True, help="Why this range is kept out of allocation.")
@format_option()
@performs("cloudctl.ipam.actions:RESERVE")
def reserve_cmd(app: AppContext, result: Any, fmt: str) -> None:
    """Reserve a range so it is never allocated (gateways, future growth)."""
    _emit_allocations([result.as_row()], fmt, single=True)


@ipam.command("release")
@click.option("--for", "owner", metavar="OBJECT", help="Release what this owner holds.")
@click.option("--prefix", metavar="CIDR", help="Release this exact allocation or reservation.")
@yes_option
@click.option("--dry-run", is_flag=True, help="Show what would be released, change nothing.")
@format_option()
@performs("cloudctl.ipam.actions:RELEASE")
def release_cmd(app: AppContext, result: Any, fmt: str) -> None:
    """Give a prefix back to its pool (by owner or by prefix)."""
    allocation, released = result
    _emit_allocations([allocation.as_row()], fmt, single=True)
    if not released:
        click.echo("dry run: nothing released", err=True)


@ipam.command("show")
@click.argument("pool_name", metavar="[POOL]", required=False)
@format_option()
@pass_app
@read_only
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
@read_only
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
@read_only
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
