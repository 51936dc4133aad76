"""Lookups on the imported fixtures: path, counts below, search."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudctl.audit import Actor
from cloudctl.divisions.importer import import_division_files
from cloudctl.divisions.registry import (
    children_counts,
    direct_children,
    division_path,
    find_division,
    get_division,
    search_divisions,
)
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store import Store

from .conftest import fixture_path


@pytest.fixture
def loaded(store: Store, actor: Actor, fixture_paths: list[Path]) -> Store:
    import_division_files(store, fixture_paths, actor)
    return store


def _count_lines(name: str, prefix: str) -> int:
    lines = fixture_path(name).read_text(encoding="utf-8").splitlines()[1:]
    return sum(1 for line in lines if line.startswith(prefix))


def test_path_runs_from_the_province_down(loaded: Store) -> None:
    with loaded.connect() as conn:
        path = division_path(conn, "530824101001")
    assert [d.level_name for d in path] == ["province", "prefecture", "county", "township", "village"]
    assert [d.name for d in path[:3]] == ["云南省", "普洱市", "景谷傣族彝族自治县"]
    assert path[-1].code == "530824101001"


def test_counts_below_match_the_files(loaded: Store) -> None:
    with loaded.connect() as conn:
        beijing = children_counts(conn, "11")
        haidian = children_counts(conn, "110108")
        country = children_counts(conn, None)
        village = children_counts(conn, "110108001001")
    assert beijing == {"prefecture": 1, "county": _count_lines("areas", "11"),
                       "township": _count_lines("streets", "11"), "village": _count_lines("villages", "11")}
    assert haidian == {"township": _count_lines("streets", "110108"), "village": _count_lines("villages", "110108")}
    assert country["province"] == 3 and country["village"] == 942
    assert village == {}


def test_direct_children_are_one_level_down(loaded: Store) -> None:
    with loaded.connect() as conn:
        provinces = direct_children(conn, None)
        leagues = direct_children(conn, "15")
    assert [p.code for p in provinces] == ["11", "15", "53"]
    assert len(leagues) == 12 and all(d.level == 2 and d.parent_code == "15" for d in leagues)


def test_search_ranks_exact_then_prefix_then_anywhere(loaded: Store) -> None:
    with loaded.connect() as conn:
        found = search_divisions(conn, "海淀", 10)
        by_code = search_divisions(conn, "1101080", 5)
        wildcard = search_divisions(conn, "%", 5)
        townships = search_divisions(conn, "海淀", 10, level=4)
    assert [d.code for d in found][:2] == ["110108", "110108012"]  # 海淀区 (county) before 海淀街道
    assert found[0].path == ("北京市", "市辖区", "海淀区")
    assert all("海淀" in d.name for d in found)
    assert [d.code for d in by_code] == ["110108001", "110108002", "110108003", "110108004", "110108005"]
    assert wildcard == []  # LIKE wildcards are matched literally
    assert [d.level for d in townships] == [4]


def test_unknown_and_malformed_codes(loaded: Store) -> None:
    with loaded.connect() as conn:
        assert find_division(conn, "120101") is None
        with pytest.raises(NotFoundError) as e:
            get_division(conn, "120101")
        assert e.value.exit_code == 2 and "cloudctl divisions search" in (e.value.hint or "")
        with pytest.raises(InputError, match="7 digits"):
            division_path(conn, "1101081")
        with pytest.raises(InputError, match="empty"):
            search_divisions(conn, "  ", 5)
