"""The connection plan: order by an independently computed score, and reasons that say why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cloudctl.coverage.plan import DEFAULT_WEIGHTS, plan_connections, resolve_weights
from cloudctl.errors import InputError
from cloudctl.store import Store

from .conftest import Div, insert_links, make_links, ref_covered

AS_OF = date(2018, 1, 1)
WESTERN = {"15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
ETHNIC_AREA = {"autonomous_region", "autonomous_prefecture", "autonomous_county", "autonomous_banner", "banner"}


def ref_plan(registry: list[Div], cov: set[str], weights: dict[str, float], level: int = 4,
             region: str | None = None) -> list[tuple[str, float]]:
    by_code = {d.code: d for d in registry}
    lengths = (2, 4, 6, 9, 12)
    rows = []
    for d in registry:
        if d.level != level or d.code in cov or (region and not d.code.startswith(region)):
            continue
        ancestors = [by_code[d.code[:n]] for n in lengths[:level] if d.code[:n] in by_code]
        area_len = 6 if level >= 4 else lengths[level - 2]
        peers = [x for x in registry if x.level == level and x.code.startswith(d.code[:area_len])]
        ratio = sum(x.code in cov for x in peers) / len(peers)
        own_township = by_code.get(d.code[:9])
        score = (weights["parent_covered"] * (d.parent_code in cov)
                 + weights["western"] * (d.code[:2] in WESTERN)
                 + weights["ethnic_autonomous"] * any(a.kind in ETHNIC_AREA for a in ancestors)
                 + weights["ethnic_township"] * (own_township is not None and own_township.kind == "ethnic_township")
                 + weights["low_coverage"] * (1 - ratio))
        rows.append((d.code, score))
    return sorted(rows, key=lambda r: (-round(r[1], 9), r[0]))


@pytest.mark.parametrize("weights", [None, {"parent_covered": 0, "western": 0, "ethnic_autonomous": 0,
                                            "ethnic_township": 5, "low_coverage": 1}])
def test_plan_order_matches_reference(loaded: Store, registry: list[Div], weights: dict[str, float] | None) -> None:
    links = make_links(registry, 120, seed=21)
    insert_links(loaded, links)
    cov = ref_covered(links, AS_OF)
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    expected = ref_plan(registry, cov, w)
    plan = plan_connections(loaded, AS_OF, "township", limit=1000, weights=weights)
    assert [(e.code, e.score) for e in plan] == [(c, pytest.approx(s, abs=1e-3)) for c, s in expected]
    assert [e.rank for e in plan] == list(range(1, len(plan) + 1))
    assert all(e.code not in cov for e in plan)
    short = plan_connections(loaded, AS_OF, "township", limit=5, weights=weights)
    assert [e.code for e in short] == [c for c, _ in expected[:5]]


def test_plan_reasons_say_why(loaded: Store, registry: list[Div]) -> None:
    links = make_links(registry, 120, seed=21)
    insert_links(loaded, links)
    cov = ref_covered(links, AS_OF)
    by_code = {d.code: d for d in registry}
    for e in plan_connections(loaded, AS_OF, "township", limit=1000):
        d = by_code[e.code]
        text = " | ".join(e.reasons)
        assert ("parent" in text) == (d.parent_code in cov), text
        assert ("western region" in text) == (d.code[:2] in WESTERN), text
        assert ("ethnic township" in text) == (d.kind == "ethnic_township"), text
        assert ("ethnic-autonomous area" in text) == (d.code[:2] == "15" or d.code[:4] == "5102"
                                                      or by_code[d.code[:6]].kind == "banner"), text
        assert by_code[d.code[:6]].name in text  # the county's coverage
        assert e.name == d.name and e.county == by_code[d.code[:6]].name and e.province == by_code[d.code[:2]].name


def test_plan_region_and_village_level(loaded: Store, registry: list[Div]) -> None:
    links = make_links(registry, 150, seed=4)
    insert_links(loaded, links)
    cov = ref_covered(links, AS_OF)
    plan = plan_connections(loaded, AS_OF, "village", region="51", limit=1000)
    expected = ref_plan(registry, cov, DEFAULT_WEIGHTS, level=5, region="51")
    assert [e.code for e in plan] == [c for c, _ in expected]


def test_weights_from_yaml_and_overrides(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("western: 7\nlow_coverage: 0.5\n", encoding="utf-8")
    w = resolve_weights({"low_coverage": 3}, f)
    assert w == {**DEFAULT_WEIGHTS, "western": 7.0, "low_coverage": 3.0}
    with pytest.raises(InputError) as e:
        resolve_weights({"westen": 1})
    assert "parent_covered" in (e.value.hint or "")
    f.write_text("western: lots\n", encoding="utf-8")
    with pytest.raises(InputError) as e2:
        resolve_weights(None, f)
    assert e2.value.file == str(f)
