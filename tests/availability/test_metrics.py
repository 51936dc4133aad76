"""cloudctl_link_availability_* on /metrics: per province and level over the configured window,
from a known history written through the real ingest; bounded labels; the window setting; the
target that applies to each province (its own, else the national one)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert

from cloudctl.api.heartbeats import make_heartbeat
from cloudctl.api.ingest import apply_heartbeats
from cloudctl.api.registry import create_enrolment, exchange_token
from cloudctl.audit import Actor
from cloudctl.coverage.model import Target
from cloudctl.coverage.targets import set_target
from cloudctl.metrics import Exposition
from cloudctl.metrics.availability import _CACHE, collect_availability
from cloudctl.metrics.prom import parse_exposition
from cloudctl.store import Store
from cloudctl.store.tables.core import meta
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

NOW = 1_800_000_000.0  # 2027-01-15, in the past of nothing: the exposition's clock is injected
H = 3600.0


def test_ratio_unknown_and_outages_per_province_and_level(store: Store) -> None:
    with store.begin() as conn:
        conn.execute(insert(division), [
            {"code": "11", "name": "北京市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1101", "name": "市辖区", "level": 2, "parent_code": "11", "kind": "placeholder"},
            {"code": "110101", "name": "东城区", "level": 3, "parent_code": "1101", "kind": "district"},
            {"code": "110101001", "name": "东华门街道", "level": 4, "parent_code": "110101", "kind": "subdistrict"},
            {"code": "12", "name": "天津市", "level": 1, "parent_code": None, "kind": "municipality"},
            {"code": "1201", "name": "市辖区", "level": 2, "parent_code": "12", "kind": "placeholder"},
            {"code": "120101", "name": "和平区", "level": 3, "parent_code": "1201", "kind": "district"},
            {"code": "120101001", "name": "劝业场街道", "level": 4, "parent_code": "120101", "kind": "subdistrict"}])
        conn.execute(insert(link), [
            {"link_id": k, "division_code": d, "link_type": "fiber", "bandwidth_mbps": 100,
             "activated_on": date(2020, 1, 1)}
            for k, d in (("T11", "110101001"), ("C11", "110101"), ("T12", "120101001"))])
        conn.execute(insert(meta).values(key="setting.availability_window", value="2h"))
    who, credential = exchange_token(store, create_enrolment(store, Actor("op"), "110101001", "access").token)
    county, county_credential = exchange_token(store, create_enrolment(store, Actor("op"), "110101", "access").token)
    # T11: up from NOW-3h, down from NOW-1h (an outage), reported until NOW-10min; the county link C11
    # reported up once at NOW-100min; the report holds 1 h (then unknown); T12 never reports.
    plan = [(who.agent_id, credential, "T11", t, up) for t, up in
            ((NOW - 3 * H, True), (NOW - 2.5 * H, True), (NOW - 1.5 * H, True), (NOW - H, False),
             (NOW - 0.5 * H, False), (NOW - 600, False))]
    plan.append((county.agent_id, county_credential, "C11", NOW - 6000, True))
    seqs: dict[str, int] = {}
    for agent_id, cred, link_id, t, up in sorted(plan, key=lambda p: p[3]):
        seqs[agent_id] = seqs.get(agent_id, 0) + 1
        beat = make_heartbeat(agent_id, seqs[agent_id], [{"link_id": link_id, "up": up}], credential=cred,
                              sent_at=t, now=t + 1)
        with store.begin() as conn:
            apply_heartbeats(conn, [beat], silence_s=H)
    # availability targets: the country's for townships, 天津's own; a coverage target is not one of them
    set_target(store, Target("township", 0.99, date(2027, 12, 31), None, "availability"), Actor("op"))
    set_target(store, Target("township", 0.999, date(2027, 12, 31), "12", "availability"), Actor("op"))
    set_target(store, Target("county", 0.5, date(2027, 12, 31), "11", "coverage"), Actor("op"))
    _CACHE.clear()
    samples = parse_exposition(Exposition(store, clock=lambda: NOW).text())
    assert samples["cloudctl_link_availability_window_seconds"] == [({}, 7200.0)]

    def by_labels(name: str) -> dict[tuple[tuple[str, str], ...], float]:
        return {tuple(sorted(labels.items(), reverse=True)): value for labels, value in samples[name]}

    ratio = by_labels("cloudctl_link_availability_ratio")
    unknown = by_labels("cloudctl_link_availability_unknown_ratio")
    outages = by_labels("cloudctl_link_outages")
    t11, c11, t12 = ((("province", "11"), ("level", "township")), (("province", "11"), ("level", "county")),
                     (("province", "12"), ("level", "township")))
    assert ratio == {t11: 0.5, c11: 1.0}  # T12: nothing known, no ratio
    # C11: known from NOW-100min (20 min into the window) for 1 h: 3600 of 7200 s; the rest unknown
    assert unknown == {t11: 0.0, c11: 0.5, t12: 1.0}
    assert outages == {t11: 1.0, c11: 0.0, t12: 0.0}
    assert {name for name, _ in next(iter(ratio))} == {"province", "level"}  # bounded: never a link label
    # 北京 has no target of its own: the national one; 天津 its own; no county target anywhere
    assert by_labels("cloudctl_link_availability_target_ratio") == {t11: 0.99, t12: 0.999}


def test_the_figures_are_recomputed_once_a_minute_not_per_build(store: Store) -> None:
    _CACHE.clear()
    from sqlalchemy import inspect

    from cloudctl.metrics.context import CollectContext

    with store.connect() as conn:
        tables = frozenset(inspect(conn).get_table_names())
        first = collect_availability(CollectContext(conn, store, NOW, tables))
        again = collect_availability(CollectContext(conn, store, NOW + 30, tables))
        later = collect_availability(CollectContext(conn, store, NOW + 90, tables))
    assert again is first and later is not first
