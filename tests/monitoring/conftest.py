"""Fixtures for exporter, API and monitoring tests: a small division tree with links."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert

from cloudctl.audit import Actor, record_change
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"

# Two provinces; province 11 has 3 townships (2 connected), province 12 has 2 (none connected).
DIVISIONS = [
    ("11", "North", 1, None, "province"),
    ("1101", "North City", 2, "11", "city"),
    ("110101", "Old Town", 3, "1101", "district"),
    ("110101001", "Ash", 4, "110101", "town"),
    ("110101002", "Birch", 4, "110101", "town"),
    ("110101003", "Cedar \"Quoted\"", 4, "110101", "town"),
    ("12", "South", 1, None, "province"),
    ("1201", "South City", 2, "12", "city"),
    ("120101", "Harbour", 3, "1201", "district"),
    ("120101001", "Dune", 4, "120101", "town"),
    ("120101002", "Elm", 4, "120101", "town"),
]
LINKS = [
    ("L-ASH", "110101001", "fiber", 100.0, date(2024, 1, 1), None),
    ("L-BIRCH", "110101002", "mstp", 10.0, date(2024, 6, 1), None),
    ("L-OLD", "110101003", "sdh", 2.0, date(2020, 1, 1), date(2023, 1, 1)),  # retired
    ("L-CITY", "1101", "fiber", 1000.0, date(2020, 1, 1), None),
]


def seed(store, divisions=DIVISIONS, links=LINKS) -> None:  # type: ignore[no-untyped-def]
    actor = Actor("tester", "pytest seed")
    with store.begin() as conn:
        conn.execute(insert(division), [dict(zip(("code", "name", "level", "parent_code", "kind"), d, strict=True))
                                        for d in divisions])
        if links:
            conn.execute(insert(link), [dict(zip(("link_id", "division_code", "link_type", "bandwidth_mbps",
                                                  "activated_on", "retired_on"), r, strict=True)) for r in links])
        record_change(conn, actor, "import", "division", "*", None, {"divisions": len(divisions),
                                                                      "links": len(links)})


@pytest.fixture
def seeded(store):  # type: ignore[no-untyped-def]
    seed(store)
    return store


@pytest.fixture
def seeded_sqlite(sqlite_store):  # type: ignore[no-untyped-def]
    seed(sqlite_store)
    return sqlite_store


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: run scripts/install-deps (scripts/deps.d/60-monitoring.sh)")
    return path
