"""The coverage capability's actions: import, add and retire extranet links; set a coverage or
availability target.

All are region-scoped on the power list: an operator granted `links.*` for region 51 may add,
retire and import links of Sichuan's divisions. The scope comes from the validated inputs: the
division of the new link, the division of the link being retired, and for an import the closest
region that holds every row's division (a file spanning two provinces needs a country-wide grant).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from sqlalchemy import Connection

from cloudctl.action import Action, Context, Inputs
from cloudctl.coverage import links as link_store
from cloudctl.coverage import targets as target_store
from cloudctl.coverage.model import Target
from cloudctl.divisions.codes import CODE_LENGTHS, LEVEL_NAMES
from cloudctl.errors import ConflictError, NotFoundError
from cloudctl.fields import DivisionCode, IsoDate, Name, problem
from cloudctl.power.roles import Scope

LinkType = Literal["fiber", "mstp", "sdh", "vpn", "wireless", "satellite"]


def common_region(codes: list[str]) -> str | None:
    """The longest division code that is a prefix of every code (None: only the country holds them all)."""
    if not codes:
        return None
    low, high = min(codes), max(codes)
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    fitting = [length for length in CODE_LENGTHS if length <= n]
    return low[:fitting[-1]] if fitting else None


def _division_must_exist(conn: Connection, code: str, field: str) -> None:
    if link_store.missing_divisions(conn, [code]):
        raise NotFoundError(f"no division with code {code!r}", field=field, hint="cloudctl divisions search NAME")


# ---- import ---------------------------------------------------------------------------------

class ImportLinks(Inputs):
    path: str = Field(max_length=4096, description="a links CSV (plain or .gz)")
    _records: list[tuple[int, link_store.LinkRecord]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _read(self) -> ImportLinks:
        self._records = link_store.read_links_csv(self.path)
        return self

    @property
    def records(self) -> list[tuple[int, link_store.LinkRecord]]:
        return self._records


def _import_scope(conn: Connection, inputs: ImportLinks) -> Scope | None:
    link_store.check_divisions(conn, [r for _, r in inputs.records], inputs.path, [n for n, _ in inputs.records])
    codes = sorted({r.division_code for _, r in inputs.records})
    region = common_region(codes)
    return Scope(region=region) if region else None


def _import(ctx: Context, inputs: ImportLinks) -> link_store.ImportResult:
    with ctx.store.begin() as conn:
        return link_store.upsert_links(conn, [r for _, r in inputs.records], ctx.actor, source=inputs.path,
                                       lines=[n for n, _ in inputs.records])


IMPORT_LINKS = Action("links.import", ImportLinks, _import, scope=_import_scope)


# ---- add and retire -------------------------------------------------------------------------

class AddLink(Inputs):
    link_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
    division_code: DivisionCode
    link_type: LinkType
    bandwidth_mbps: float = Field(gt=0, le=1e7, allow_inf_nan=False)
    activated_on: IsoDate
    retired_on: IsoDate | None = None
    provider: Name | None = None

    @model_validator(mode="after")
    def _retired_after_activation(self) -> AddLink:
        if self.retired_on is not None and self.retired_on <= self.activated_on:
            raise ValueError(f"retired {self.retired_on} must be after activated {self.activated_on}")
        return self

    def record(self) -> link_store.LinkRecord:
        return link_store.LinkRecord(self.link_id, self.division_code, self.link_type, self.bandwidth_mbps,
                                     self.activated_on, self.retired_on, self.provider)


def _add_scope(conn: Connection, inputs: AddLink) -> Scope:
    _division_must_exist(conn, inputs.division_code, "division_code")
    if link_store.get_link(conn, inputs.link_id) is not None:
        raise ConflictError(f"link {inputs.link_id!r} already exists",
                            hint="use `cloudctl links import` to update links, or another link id")
    return Scope(region=inputs.division_code)


def _add(ctx: Context, inputs: AddLink) -> link_store.LinkRecord:
    return link_store.add_link(ctx.store, inputs.record(), ctx.actor)


ADD_LINK = Action("links.add", AddLink, _add, scope=_add_scope)


class RetireLink(Inputs):
    link_id: str = Field(min_length=1, max_length=64)
    retired_on: IsoDate | None = Field(None, description="default: today in the configured time zone")


def _retire_scope(conn: Connection, inputs: RetireLink) -> Scope:
    link = link_store.get_link(conn, inputs.link_id)
    if link is None:
        raise NotFoundError(f"no link with id {inputs.link_id!r}", field="link_id", hint="cloudctl links list")
    return Scope(region=link.division_code)


def _retire(ctx: Context, inputs: RetireLink) -> link_store.LinkRecord:
    return link_store.retire_link(ctx.store, inputs.link_id, inputs.retired_on or ctx.clock.today(), ctx.actor)


RETIRE_LINK = Action("links.retire", RetireLink, _retire, scope=_retire_scope,
                     confirm=lambda i: (f"retire link {i.link_id}? it stops covering its division", i.link_id))


# ---- targets --------------------------------------------------------------------------------

class SetTarget(Inputs):
    metric: Literal["coverage", "availability"] = Field("coverage", description="what the ratio measures")
    level: Literal[LEVEL_NAMES]  # type: ignore[valid-type]
    ratio: float = Field(allow_inf_nan=False, description="0 < R <= 1 (0.9 for 90 %)")
    by: IsoDate
    region: DivisionCode | None = None

    @field_validator("ratio")
    @classmethod
    def _a_ratio(cls, ratio: float) -> float:
        if not 0 < ratio <= 1:
            hint = f"write {ratio / 100:g} for {ratio:g} %" if 1 < ratio <= 100 else "above 0 and at most 1"
            raise problem(f"ratio must be above 0 and at most 1, got {ratio:g}", hint)
        return ratio

    def target(self) -> Target:
        return Target(self.level, self.ratio, self.by, self.region, self.metric)


def _target_scope(conn: Connection, inputs: SetTarget) -> Scope | None:
    if inputs.region is None:
        return None
    _division_must_exist(conn, inputs.region, "region")
    return Scope(region=inputs.region)


def _set_target(ctx: Context, inputs: SetTarget) -> Target:
    return target_store.set_target(ctx.store, inputs.target(), ctx.actor)


SET_TARGET = Action("coverage.target.set", SetTarget, _set_target, scope=_target_scope)

# ---- demo ---------------------------------------------------------------------------------

class Demo(Inputs):
    out: Path = Path("coverage_reports") / "demo"
    as_of: IsoDate | None = None
    seed: int | None = Field(None, ge=0, le=2**31)


def _demo(ctx: Context, inputs: Demo) -> Any:
    from cloudctl.coverage.demo import DEFAULT_SEED, run_demo

    return run_demo(ctx.store, ctx.actor, inputs.out, today=ctx.clock.today(), as_of=inputs.as_of,
                    seed=DEFAULT_SEED if inputs.seed is None else inputs.seed, progress=ctx.progress)


DEMO = Action("demo.load", Demo, _demo)

ACTIONS = (IMPORT_LINKS, ADD_LINK, RETIRE_LINK, SET_TARGET, DEMO)

