"""The address plan's actions: pools, allocations, reservations, releases (unscoped on the power list)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator
from sqlalchemy import Connection

from cloudctl.action import Action, Context, Inputs
from cloudctl.errors import InputError, NotFoundError
from cloudctl.fields import ShortName, Text
from cloudctl.ipam import records
from cloudctl.ipam.allocate import (
    NAME_RE,
    allocate,
    create_pool,
    delete_pool,
    release_by_prefix,
    release_owner,
    reserve_prefix,
)


def _cidr(text: str) -> str:
    from cloudctl.ipam.space import parse_block

    try:
        parse_block(text)
    except InputError as e:
        raise ValueError(f"{e.message} ({e.hint})" if e.hint else e.message) from None
    return text


def _pool_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ValueError("letters, digits, '.', '_', ':' and '-', at most 100 characters")
    return name


Cidr = Annotated[str, Field(max_length=64), AfterValidator(_cidr)]
PoolRef = Annotated[str, Field(max_length=100), AfterValidator(_pool_name)]


class AddPool(Inputs):
    cidr: Cidr
    name: PoolRef
    parent: PoolRef | None = None
    description: Text | None = None


def _parent_exists(conn: Connection, inputs: AddPool) -> None:
    if inputs.parent is not None and records.find_pool(conn, inputs.parent) is None:
        raise NotFoundError(f"no address pool {inputs.parent!r}", field="parent", hint="cloudctl ipam show")


def _add_pool(ctx: Context, inputs: AddPool) -> dict[str, Any]:
    with ctx.store.begin() as conn:
        created = create_pool(conn, inputs.cidr, inputs.name, inputs.parent, ctx.actor, inputs.description)
    return created.summary(inputs.parent)


ADD_POOL = Action("ipam.pool.add", AddPool, _add_pool, scope=_parent_exists)


class PoolName(Inputs):
    name: PoolRef


def _pool_exists(conn: Connection, inputs: PoolName) -> None:
    if records.find_pool(conn, inputs.name) is None:
        raise NotFoundError(f"no address pool {inputs.name!r}", field="name", hint="cloudctl ipam show")


def _remove_pool(ctx: Context, inputs: PoolName) -> records.Pool:
    with ctx.store.begin() as conn:
        return delete_pool(conn, inputs.name, ctx.actor)


REMOVE_POOL = Action("ipam.pool.remove", PoolName, _remove_pool, scope=_pool_exists,
                     confirm=lambda i: (f"remove address pool {i.name}?", i.name))


class Allocate(Inputs):
    pool_name: PoolRef
    length: int = Field(ge=1, le=128)
    owner: ShortName
    note: Text | None = None


def _allocation_pool(conn: Connection, inputs: Allocate) -> None:
    _pool_exists(conn, PoolName(name=inputs.pool_name))


def _allocate(ctx: Context, inputs: Allocate) -> records.Allocation:
    with ctx.store.begin() as conn:
        return allocate(conn, inputs.pool_name, inputs.length, inputs.owner, ctx.actor, inputs.note)


ALLOCATE = Action("ipam.allocate", Allocate, _allocate, scope=_allocation_pool)


class Reserve(Inputs):
    cidr: Cidr
    pool_name: PoolRef | None = None
    reason: Text


def _reserve(ctx: Context, inputs: Reserve) -> records.Allocation:
    with ctx.store.begin() as conn:
        return reserve_prefix(conn, inputs.cidr, ctx.actor, inputs.pool_name, inputs.reason)


RESERVE = Action("ipam.reserve", Reserve, _reserve)


class Release(Inputs):
    owner: ShortName | None = None
    prefix: Cidr | None = None
    dry_run: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> Release:
        if (self.owner is None) == (self.prefix is None):
            raise ValueError("give exactly one of --for OBJECT or --prefix CIDR")
        return self


def _held(conn: Connection, inputs: Release) -> None:
    found = records.find_allocation(conn, owner=inputs.owner) if inputs.owner else \
        records.find_allocation(conn, prefix=inputs.prefix)
    if found is None:
        what = f"{inputs.owner!r} holds no prefix" if inputs.owner else \
            f"{inputs.prefix} is neither allocated nor reserved"
        raise NotFoundError(what, field="owner" if inputs.owner else "prefix", hint="cloudctl ipam list")


def _preview(ctx: Context, inputs: Release) -> tuple[records.Allocation, bool]:
    """What a release would give back (a dry run: reads only)."""
    with ctx.store.connect() as conn:
        found = records.find_allocation(conn, owner=inputs.owner) if inputs.owner else \
            records.find_allocation(conn, prefix=inputs.prefix)
    assert found is not None  # checked by the scope step
    return found, False


def _release(ctx: Context, inputs: Release) -> tuple[records.Allocation, bool]:
    """(the allocation, True: it was released)."""
    with ctx.store.begin() as conn:
        if inputs.owner is not None:
            released = release_owner(conn, inputs.owner, ctx.actor)
        else:
            released = release_by_prefix(conn, inputs.prefix or "", ctx.actor)
    assert released is not None
    return released, True


def _release_question(inputs: Release) -> tuple[str, str]:
    what = inputs.owner or inputs.prefix or ""
    return f"release {what}? it goes back to its pool", what


RELEASE = Action("ipam.release", Release, _release, scope=_held, confirm=_release_question, preview=_preview)

ACTIONS = (ADD_POOL, REMOVE_POOL, ALLOCATE, RESERVE, RELEASE)
