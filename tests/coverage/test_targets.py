"""Targets: set/replace with audit, list, gap and pace arithmetic."""

from __future__ import annotations

import math
from datetime import date

import pytest

from cloudctl.audit import Actor, list_entries
from cloudctl.coverage.model import Target
from cloudctl.coverage.rollup import rollup_coverage
from cloudctl.coverage.targets import list_targets, read_targets, set_target, target_gaps
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store import Store

from .conftest import Div, insert_links, make_links, ref_covered

AS_OF = date(2020, 6, 30)


def test_set_replace_and_list_targets(loaded: Store, actor: Actor) -> None:
    set_target(loaded, Target("township", 0.5, date(2025, 12, 31)), actor)
    set_target(loaded, Target("township", 0.8, date(2026, 12, 31)), actor)  # replaces
    set_target(loaded, Target("county", 0.9, date(2024, 1, 1), "51"), actor)
    with loaded.connect() as conn:
        everything = list_targets(conn)
        sichuan = list_targets(conn, "51")
        entries = list_entries(conn, object_type="coverage_target")
    assert Target("township", 0.8, date(2026, 12, 31), None) in everything and len(everything) == 2
    assert sichuan == [Target("county", 0.9, date(2024, 1, 1), "51")]
    assert len(entries) == 3 and '"ratio": 0.5' in entries[1]["before"]
    # the read commands' DB-API path gives the same targets
    assert read_targets(loaded) == everything and read_targets(loaded, "51") == sichuan
    assert read_targets(loaded, "") == [Target("township", 0.8, date(2026, 12, 31), None)]


def test_one_target_per_metric_level_and_region(loaded: Store, actor: Actor) -> None:
    set_target(loaded, Target("township", 0.6, date(2027, 12, 31)), actor)
    set_target(loaded, Target("township", 0.995, date(2027, 12, 31), None, "availability"), actor)
    set_target(loaded, Target("township", 0.999, date(2028, 12, 31), None, "availability"), actor)  # replaces
    with loaded.connect() as conn:
        coverage = list_targets(conn)
        both = list_targets(conn, metric=None)
        entries = list_entries(conn, object_type="coverage_target")
    assert coverage == [Target("township", 0.6, date(2027, 12, 31))]
    assert both == [Target("township", 0.6, date(2027, 12, 31)),
                    Target("township", 0.999, date(2028, 12, 31), None, "availability")]
    assert read_targets(loaded, "", metric="availability") == both[1:]
    assert [e["object_id"] for e in entries][::-1] == ["country/township", "country/township/availability",
                                                      "country/township/availability"]
    assert '"metric": "availability"' in entries[0]["after"]
    summary = rollup_coverage(loaded, AS_OF)
    assert [g.target.metric for g in target_gaps(summary, both, AS_OF)] == ["coverage"]
    with pytest.raises(InputError):
        set_target(loaded, Target("township", 0.9, date(2027, 1, 1), None, "latency"), actor)


@pytest.mark.parametrize("bad", [Target("hamlet", 0.5, date(2025, 1, 1)), Target("county", 0.0, date(2025, 1, 1)),
                                 Target("county", 90.0, date(2025, 1, 1))])
def test_bad_targets_are_input_errors(loaded: Store, actor: Actor, bad: Target) -> None:
    with pytest.raises(InputError):
        set_target(loaded, bad, actor)


def test_unknown_region_target(loaded: Store, actor: Actor) -> None:
    with pytest.raises(NotFoundError):
        set_target(loaded, Target("county", 0.5, date(2025, 1, 1), "99"), actor)


def test_gap_and_pace_arithmetic(loaded: Store, registry: list[Div], actor: Actor) -> None:
    links = make_links(registry, 200, seed=9)
    insert_links(loaded, links)
    targets = [Target("township", 0.9, date(2021, 6, 30)), Target("county", 0.01, date(2022, 1, 1)),
               Target("village", 0.7, date(2019, 1, 1)), Target("province", 1.0, date(2030, 1, 1), "51")]
    summary = rollup_coverage(loaded, AS_OF)
    gaps = {g.target.level: g for g in target_gaps(summary, targets, AS_OF)}
    assert set(gaps) == {"county", "township", "village"}  # the 51 target is another region's
    cov = ref_covered(links, AS_OF)
    for level, lv_no in (("township", 4), ("county", 3), ("village", 5)):
        members = [d for d in registry if d.level == lv_no]
        covered = sum(d.code in cov for d in members)
        ratio = {"township": 0.9, "county": 0.01, "village": 0.7}[level]
        needed = max(0, math.ceil(ratio * len(members)) - covered)
        assert gaps[level].needed == needed, level
    months = (date(2021, 6, 30) - AS_OF).days / (365.2425 / 12)
    assert gaps["township"].months_left == pytest.approx(months)
    assert gaps["township"].per_month == pytest.approx(gaps["township"].needed / months)
    assert gaps["county"].met and gaps["county"].per_month == 0.0
    village = gaps["village"]  # deadline passed
    assert village.months_left == 0 and (village.per_month is None) == (village.needed > 0)
    sichuan = rollup_coverage(loaded, AS_OF, region="51")
    assert [g.target.level for g in target_gaps(sichuan, targets, AS_OF)] == ["province"]
