"""The roll-up against the definition (a plain-Python reference over the same rows)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from cloudctl.coverage.links import LinkRecord
from cloudctl.coverage.rollup import rollup_by_child, rollup_coverage
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store import Store
from cloudctl.store.tables.core import meta
from cloudctl.store.tables.divisions import division

from .conftest import Div, insert_divisions, insert_links, make_links, ref_levels

D = date(2020, 6, 30)


def township_row(summary, name="township"):  # type: ignore[no-untyped-def]
    lv = summary.level(name)
    return (lv.total, lv.covered) if lv else None


def test_activation_day_counts_retirement_day_does_not(loaded: Store) -> None:
    t = "110101001"
    insert_links(loaded, [LinkRecord("L1", t, "fiber", 100.0, D, D + timedelta(days=10))])
    base = rollup_coverage(loaded, D - timedelta(days=1), region="110101").level("township")
    assert base is not None and base.covered == 0
    assert rollup_coverage(loaded, D, region="110101").level("township").covered == 1  # activated on D
    assert rollup_coverage(loaded, D + timedelta(days=9), region="110101").level("township").covered == 1
    assert rollup_coverage(loaded, D + timedelta(days=10), region="110101").level("township").covered == 0


def test_a_parents_link_does_not_cover_its_children(loaded: Store, registry: list[Div]) -> None:
    insert_links(loaded, [LinkRecord("P", "11", "fiber", 1000.0, date(2015, 1, 1))])
    s = rollup_coverage(loaded, D, region="11")
    assert s.level("province").covered == 1
    for name in ("prefecture", "county", "township", "village"):
        assert s.level(name).covered == 0
        assert s.level(name).total == sum(1 for d in registry if d.code.startswith("11")
                                          and d.level == ("province", "prefecture", "county", "township",
                                                          "village").index(name) + 1)


def test_two_overlapping_links_count_once(loaded: Store) -> None:
    insert_links(loaded, [LinkRecord("A", "5101", "fiber", 10.0, date(2015, 1, 1)),
                          LinkRecord("B", "5101", "vpn", 10.0, date(2016, 1, 1), date(2017, 1, 1))])
    assert rollup_coverage(loaded, D, region="5101").level("prefecture").covered == 1


def test_rollup_matches_reference(loaded: Store, registry: list[Div]) -> None:
    links = make_links(registry, 300)
    insert_links(loaded, links)
    village = next(d.code for d in registry if d.level == 5)
    for region in (None, "51", "1502", "110101", "510101001", village):
        for exclude in ((), ("special_zone",), ("subdistrict", "residents_committee")):
            for d in (date(2009, 1, 1), date(2012, 3, 4), D, date(2030, 1, 1)):
                got = rollup_coverage(loaded, d, region=region, exclude_kinds=exclude).to_json()
                assert got == {"as_of": d.isoformat(), "region": region,
                               "levels": ref_levels(registry, links, d, region, exclude)}, (region, exclude, d)


@pytest.mark.parametrize("exclude", [(), ("town",)], ids=["index-ranges", "kind-masks"])
@pytest.mark.parametrize("region", [None, "1501", "510101", "510101001"])
def test_by_child_matches_reference_per_child(loaded: Store, registry: list[Div], region: str | None,
                                              exclude: tuple[str, ...]) -> None:
    """Without excluded kinds the counts come from index ranges, with them from masks: both match
    the reference, down to a township whose children are villages."""
    links = make_links(registry, 250, seed=3)
    insert_links(loaded, links)
    s = rollup_by_child(loaded, D, region=region, exclude_kinds=exclude)
    child_level = 1 if region is None else len(region) // 2 + 1
    expected_children = sorted(d.code for d in registry if d.level == child_level
                               and (region is None or d.code.startswith(region)))
    assert [c.code for c in s.children] == expected_children
    names = {d.code: d.name for d in registry}
    for c in s.children:
        assert c.name == names[c.code]
        assert [lv.to_json() for lv in c.levels] == ref_levels(registry, links, D, c.code, exclude)
    assert s.to_json()["levels"] == ref_levels(registry, links, D, region, exclude)


def test_a_village_region_has_itself_and_no_children(loaded: Store, registry: list[Div]) -> None:
    village = next(d.code for d in registry if d.level == 5)
    insert_links(loaded, [LinkRecord("V", village, "fiber", 10.0, date(2015, 1, 1))])
    for exclude in ((), ("special_zone",)):
        s = rollup_by_child(loaded, D, region=village, exclude_kinds=exclude)
        assert [lv.to_json() for lv in s.levels] == [{"level": "village", "total": 1, "covered": 1, "ratio": 1.0}]
        assert s.children == []


def test_level_without_divisions_is_omitted(store: Store) -> None:
    insert_divisions(store, [Div("51", "四川省", 1, None, "province"),
                             Div("5101", "成都市", 2, "51", "prefecture_city")])
    s = rollup_coverage(store, D)
    assert [lv.level for lv in s.levels] == ["province", "prefecture"]
    s = rollup_coverage(store, D, exclude_kinds=("prefecture_city",))
    assert [lv.level for lv in s.levels] == ["province"]


def test_unknown_region_and_kind_are_input_errors(loaded: Store) -> None:
    with pytest.raises(NotFoundError) as e:
        rollup_coverage(loaded, D, region="99")
    assert e.value.field == "--region"
    with pytest.raises(InputError) as e2:
        rollup_coverage(loaded, D, exclude_kinds=("no_such_kind",))
    assert e2.value.field == "--exclude-kind"


def test_cache_follows_divisions_generation(loaded: Store, registry: list[Div]) -> None:
    before = rollup_coverage(loaded, D).level("province").total
    with loaded.begin() as conn:
        conn.execute(insert(division).values(code="52", name="贵州省", level=1, parent_code=None, kind="province"))
        conn.execute(meta.update().where(meta.c.key == "divisions_generation").values(value="2"))
    assert rollup_coverage(loaded, D).level("province").total == before + 1


def test_npy_cache_round_trip_and_lazy_kinds(sqlite_store: Store, registry: list[Div]) -> None:
    import numpy as np

    from cloudctl.coverage import arrays as arrays_module

    insert_divisions(sqlite_store, registry, generation="7")
    cache_dir = sqlite_store.file.with_name(sqlite_store.file.name + ".cache")
    plain = arrays_module.load_division_arrays(sqlite_store)
    assert not plain.has_kinds
    assert sorted(f.name.split(".")[-2] for f in cache_dir.glob("division-arrays-7-*.npy")) == ["anc", "keys", "level"]
    arrays_module.clear_cache()  # as a new process would start
    with_kinds = arrays_module.load_division_arrays(sqlite_store, need_kinds=True)
    assert with_kinds.has_kinds and np.array_equal(with_kinds.keys, plain.keys)
    assert np.array_equal(with_kinds.anc, plain.anc) and np.array_equal(with_kinds.level, plain.level)
    by_code = {d.code: d for d in registry}
    assert [with_kinds.kinds[k] for k in with_kinds.kind] == [by_code[with_kinds.code(i)].kind
                                                               for i in range(with_kinds.size)]
    arrays_module.clear_cache()
    with sqlite_store.begin() as conn:  # behind the generation's back: only the cache can answer "province"
        conn.execute(division.update().values(kind="changed_behind_the_cache"))
    again = arrays_module.load_division_arrays(sqlite_store, need_kinds=True)  # from the .npy files
    assert again.has_kinds and np.array_equal(again.kind, with_kinds.kind) and again.kinds == with_kinds.kinds
    with sqlite_store.begin() as conn:
        conn.execute(meta.update().where(meta.c.key == "divisions_generation").values(value="8"))
    arrays_module.load_division_arrays(sqlite_store)
    assert {f.name.split("-")[2] for f in cache_dir.glob("division-arrays-*")} == {"8"}  # generation 7 removed
    fresh = arrays_module.load_division_arrays(sqlite_store, use_cache=False)
    assert np.array_equal(fresh.keys, plain.keys) and sorted(fresh.keys.tolist()) == fresh.keys.tolist()
    assert [fresh.code(i) for i in range(fresh.size)] == sorted(by_code)


def test_division_with_a_missing_ancestor_still_counts_by_code_prefix(sqlite_store: Store,
                                                                       registry: list[Div]) -> None:
    gone = next(d.code for d in registry if d.level == 4 and any(v.parent_code == d.code for v in registry))
    divs = [d for d in registry if d.code != gone]
    insert_divisions(sqlite_store, divs)
    links = make_links(divs, 200, seed=13)
    insert_links(sqlite_store, links)
    for region in (None, gone[:2], gone[:4], gone[:6]):
        assert rollup_coverage(sqlite_store, D, region).to_json()["levels"] == ref_levels(divs, links, D, region)
    from cloudctl.coverage.arrays import load_division_arrays

    arrays = load_division_arrays(sqlite_store)
    orphans = arrays.index_of([d.code for d in divs if d.parent_code == gone])
    assert len(orphans) and (arrays.anc[3][orphans] == -1).all() and (arrays.anc[2][orphans] >= 0).all()
