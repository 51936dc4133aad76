"""Fixtures of the report tests: a small real store (two provinces, 14 townships, 19 links)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from cloudctl.audit import Actor
from cloudctl.store import Store, open_store

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
DIVISION_FILES = [FIXTURES / f"{name}.csv" for name in ("provinces", "cities", "areas", "streets")]
LINKS_FILE = FIXTURES / "links.csv"
AS_OF = date(2015, 5, 31)
LEVEL_BY_LENGTH = {2: "province", 4: "prefecture", 6: "county", 9: "township", 12: "village"}


def fill_small_store(store: Store, actor: Actor) -> None:
    from cloudctl.coverage.links import import_links_csv
    from cloudctl.coverage.model import Target
    from cloudctl.coverage.targets import set_target
    from cloudctl.divisions.importer import import_division_files

    import_division_files(store, DIVISION_FILES, actor)
    import_links_csv(store, LINKS_FILE, actor)
    set_target(store, Target("township", 0.8, date(2017, 12, 31)), actor)
    set_target(store, Target("county", 1.0, date(2016, 12, 31)), actor)
    set_target(store, Target("township", 0.9, date(2018, 12, 31), "33"), actor)


@pytest.fixture
def small_store(db_url: str, actor: Actor) -> Iterator[Store]:
    """The small fixture on SQLite and on PostgreSQL."""
    s = open_store(db_url)
    fill_small_store(s, actor)
    yield s
    s.dispose()


@pytest.fixture
def small_sqlite_store(sqlite_url: str, actor: Actor) -> Iterator[Store]:
    s = open_store(sqlite_url)
    fill_small_store(s, actor)
    yield s
    s.dispose()


def fixture_divisions() -> dict[str, str]:
    """code -> name of every fixture division."""
    out = {}
    for path in DIVISION_FILES:
        with path.open(encoding="utf-8") as f:
            out.update({row["code"]: row["name"] for row in csv.DictReader(f)})
    return out


def covered_on(d: date) -> set[str]:
    """The definition, straight from the fixture CSV: codes with a link active on d."""
    with LINKS_FILE.open(encoding="utf-8") as f:
        return {row["division_code"] for row in csv.DictReader(f)
                if date.fromisoformat(row["activated_on"]) <= d
                and (not row["retired_on"] or date.fromisoformat(row["retired_on"]) > d)}


def expected_levels(region: str | None, d: date) -> dict[str, tuple[int, int]]:
    """level -> (total, covered) under region (None = country), computed independently of cloudctl."""
    covered = covered_on(d)
    out: dict[str, list[int]] = {}
    for code in fixture_divisions():
        if region is None or code.startswith(region):
            counts = out.setdefault(LEVEL_BY_LENGTH[len(code)], [0, 0])
            counts[0] += 1
            counts[1] += code in covered
    return {k: (v[0], v[1]) for k, v in out.items()}
