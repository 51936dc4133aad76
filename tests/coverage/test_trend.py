"""The trend: one pass over the links equals one roll-up (and the reference) per date."""

from __future__ import annotations

from datetime import date

import pytest

from cloudctl.coverage.links import LinkRecord
from cloudctl.coverage.rollup import rollup_coverage
from cloudctl.coverage.trend import coverage_trend, trend_dates
from cloudctl.errors import InputError
from cloudctl.store import Store

from .conftest import Div, insert_links, make_links, ref_levels


def test_trend_dates_are_period_ends_between_from_and_to() -> None:
    assert trend_dates(date(2020, 1, 15), date(2020, 4, 10), "month") == [
        date(2020, 1, 15), date(2020, 1, 31), date(2020, 2, 29), date(2020, 3, 31), date(2020, 4, 10)]
    assert trend_dates(date(2019, 12, 31), date(2021, 1, 1), "year") == [
        date(2019, 12, 31), date(2020, 12, 31), date(2021, 1, 1)]
    assert trend_dates(date(2020, 2, 1), date(2020, 9, 30), "quarter") == [
        date(2020, 2, 1), date(2020, 3, 31), date(2020, 6, 30), date(2020, 9, 30)]
    assert trend_dates(date(2020, 5, 5), date(2020, 5, 5), "year") == [date(2020, 5, 5)]
    with pytest.raises(InputError):
        trend_dates(date(2021, 1, 1), date(2020, 1, 1), "month")
    with pytest.raises(InputError):
        trend_dates(date(2020, 1, 1), date(2021, 1, 1), "week")


@pytest.mark.parametrize("every", ["month", "quarter", "year"])
def test_trend_equals_independent_rollups(loaded: Store, registry: list[Div], every: str) -> None:
    links = make_links(registry, 400, seed=5)
    # Back-to-back and overlapping links on one division, and an edge on a period end.
    links += [LinkRecord("E1", "5101", "fiber", 1.0, date(2012, 1, 1), date(2012, 6, 30)),
              LinkRecord("E2", "5101", "fiber", 1.0, date(2012, 6, 30), date(2013, 3, 31)),
              LinkRecord("E3", "5101", "vpn", 1.0, date(2012, 2, 1), date(2012, 12, 31))]
    insert_links(loaded, links)
    for region, exclude in ((None, ()), ("51", ("town",))):
        series = coverage_trend(loaded, date(2011, 6, 15), date(2016, 2, 10), every, region, exclude)
        assert [s.as_of for s in series] == trend_dates(date(2011, 6, 15), date(2016, 2, 10), every)
        for s in series:
            assert s.to_json() == rollup_coverage(loaded, s.as_of, region, exclude).to_json()
            assert s.to_json()["levels"] == ref_levels(registry, links, s.as_of, region, exclude)


def test_trend_without_links_is_all_zero(loaded: Store) -> None:
    series = coverage_trend(loaded, date(2020, 1, 1), date(2020, 3, 1), "month")
    assert len(series) == 4 and all(lv.covered == 0 and lv.total > 0 for s in series for lv in s.levels)


def test_rows_written_behind_cloudctls_back_are_read_row_by_row(sqlite_store: Store, registry: list[Div]) -> None:
    """A code that names no division is skipped and a date not stored as YYYY-MM-DD is still read:
    the trend then equals the roll-ups of the links cloudctl itself wrote."""
    from .conftest import insert_divisions

    insert_divisions(sqlite_store, registry)
    links = make_links(registry, 120, seed=8)
    insert_links(sqlite_store, links)
    dates = trend_dates(date(2011, 1, 1), date(2019, 12, 31), "year")
    clean = [[lv.to_json() for lv in s.levels] for s in coverage_trend(sqlite_store, dates[0], dates[-1], "year")]
    assert clean == [ref_levels(registry, links, d) for d in dates]
    with sqlite_store.begin() as conn:
        conn.exec_driver_sql("INSERT INTO link (link_id, division_code, link_type, bandwidth_mbps, activated_on) "
                             "VALUES ('X1', '51ab', 'fiber', 1, '2012-01-01')")
    assert [[lv.to_json() for lv in s.levels]
            for s in coverage_trend(sqlite_store, dates[0], dates[-1], "year")] == clean
    with sqlite_store.begin() as conn:  # a date with a time part: not a fixed-width YYYY-MM-DD run
        conn.exec_driver_sql("UPDATE link SET activated_on = activated_on || 'T00:00:00' WHERE link_id = 'T00001'")
    assert [[lv.to_json() for lv in s.levels]
            for s in coverage_trend(sqlite_store, dates[0], dates[-1], "year")] == clean
