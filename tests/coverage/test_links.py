"""Links: CSV import (errors name file:line:column, nothing imported), idempotent upsert,
add/retire/list, one audit record per bulk import."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.coverage.links import LinkRecord, add_link, import_links_csv, list_links, retire_link, upsert_links
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.store import Store
from cloudctl.store.tables.coverage import link as link_table

HEADER = "link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider"
GOOD = [
    "L1,110101001,fiber,100,2019-01-01,,电信",
    "L2,5101,vpn,10.5,2018-05-01,2022-01-01,",
    "L3,15,satellite,2,2015-03-01,,联通",
]


def write(tmp_path: Path, lines: list[str], name: str = "links.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def link_count(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(link_table)).scalar_one())


def test_import_then_reimport_is_idempotent(loaded: Store, actor: Actor, tmp_path: Path) -> None:
    f = write(tmp_path, [HEADER, *GOOD])
    first = import_links_csv(loaded, f, actor)
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (3, 3, 0, 0)
    again = import_links_csv(loaded, f, actor)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    changed = write(tmp_path, [HEADER, GOOD[0].replace(",100,", ",1000,"), *GOOD[1:], "L4,51,mstp,20,2020-01-01,,"])
    third = import_links_csv(loaded, changed, actor)
    assert (third.inserted, third.updated, third.unchanged) == (1, 1, 2)
    assert link_count(loaded) == 4
    with loaded.connect() as conn:
        assert {r.link_id: r.bandwidth_mbps for r in list_links(conn)}["L1"] == 1000.0
        entries = list_entries(conn, object_type="link")
        assert len(entries) == 3 and all(e["action"] == "import" for e in entries)
        assert verify_chain(conn).ok


@pytest.mark.parametrize(("lines", "line", "column", "field"), [
    ([HEADER, GOOD[0], "L2,999999,fiber,1,2019-01-01,,"], 3, 2, "division_code"),
    ([HEADER, GOOD[0], "L2,5101,fiber,1,2019-01-01,2019-01-01,"], 3, 6, "retired_on"),
    ([HEADER, GOOD[0], "L2,5101,fiber,1,2019-02-30,,"], 3, 5, "activated_on"),
    ([HEADER, "L2,5101,fiber,1,2019-01-01,yesterday,", GOOD[0]], 2, 6, "retired_on"),
    ([HEADER, GOOD[0], GOOD[1], "L9,5101,copper,1,2019-01-01,,"], 4, 3, "link_type"),
    ([HEADER, GOOD[0], "L9,5101,fiber,-5,2019-01-01,,"], 3, 4, "bandwidth_mbps"),
    ([HEADER, GOOD[0], "L9,51x1,fiber,5,2019-01-01,,"], 3, 2, "division_code"),
    ([HEADER, GOOD[0], GOOD[0].replace("fiber", "vpn")], 3, 1, "link_id"),
])
def test_bad_rows_name_the_place_and_import_nothing(loaded: Store, actor: Actor, tmp_path: Path,
                                                    lines: list[str], line: int, column: int, field: str) -> None:
    f = write(tmp_path, lines)
    with pytest.raises(InputError) as e:
        import_links_csv(loaded, f, actor)
    assert (e.value.file, e.value.line, e.value.column, e.value.field) == (str(f), line, column, field)
    assert link_count(loaded) == 0
    with loaded.connect() as conn:
        assert list_entries(conn, object_type="link") == []


@pytest.mark.parametrize("header", [HEADER + ",comment", HEADER.replace(",provider", ""),
                                    HEADER.replace("link_type", "type"), "division_code,link_id" + HEADER[23:]])
def test_header_must_be_exact(loaded: Store, actor: Actor, tmp_path: Path, header: str) -> None:
    f = write(tmp_path, [header, GOOD[0]])
    with pytest.raises(InputError) as e:
        import_links_csv(loaded, f, actor)
    assert e.value.line == 1 and HEADER in (e.value.hint or "")
    assert link_count(loaded) == 0


def test_upsert_links_bulk_checks_divisions(loaded: Store, actor: Actor) -> None:
    recs = [LinkRecord(f"B{i}", "110101001", "fiber", 1.0, date(2020, 1, 1)) for i in range(2000)]
    with loaded.begin() as conn:
        res = upsert_links(conn, recs, actor, source="demo")
    assert res.inserted == 2000 and link_count(loaded) == 2000
    with pytest.raises(InputError) as e, loaded.begin() as conn:
        upsert_links(conn, [*recs[:5], LinkRecord("X", "3701", "fiber", 1.0, date(2020, 1, 1))], actor)
    assert e.value.field == "division_code"
    with pytest.raises(InputError) as e, loaded.begin() as conn:
        upsert_links(conn, [*recs[:5], recs[2]], actor)
    assert e.value.field == "link_id" and "B2" in e.value.message
    with loaded.connect() as conn:
        assert len(list_entries(conn, object_type="link")) == 1


def test_add_retire_list(loaded: Store, actor: Actor) -> None:
    add_link(loaded, LinkRecord("A1", "5101", "fiber", 100.0, date(2016, 1, 1), None, "电信"), actor)
    add_link(loaded, LinkRecord("A2", "510101", "vpn", 10.0, date(2017, 1, 1)), actor)
    add_link(loaded, LinkRecord("A3", "11", "sdh", 10.0, date(2017, 1, 1)), actor)
    with pytest.raises(ConflictError):
        add_link(loaded, LinkRecord("A1", "5101", "fiber", 100.0, date(2016, 1, 1)), actor)
    with pytest.raises(NotFoundError):
        add_link(loaded, LinkRecord("A9", "5199", "fiber", 100.0, date(2016, 1, 1)), actor)
    with pytest.raises(InputError):
        retire_link(loaded, "A2", date(2016, 12, 31), actor)
    with pytest.raises(NotFoundError):
        retire_link(loaded, "nope", date(2020, 1, 1), actor)
    after = retire_link(loaded, "A2", date(2019, 1, 1), actor)
    assert after.retired_on == date(2019, 1, 1)
    with loaded.connect() as conn:
        assert [r.link_id for r in list_links(conn, region="51")] == ["A1", "A2"]
        assert [r.link_id for r in list_links(conn, active_on=date(2019, 1, 1))] == ["A3", "A1"]
        assert [r.link_id for r in list_links(conn, active_on=date(2018, 12, 31), region="51")] == ["A1", "A2"]
        assert [r.link_id for r in list_links(conn, provider="电信")] == ["A1"]
        assert [r.link_id for r in list_links(conn, link_type="sdh")] == ["A3"]
        assert [r.link_id for r in list_links(conn, division_code="5101")] == ["A1"]
        actions = [e["action"] for e in list_entries(conn, object_type="link")]
    assert actions == ["retire", "create", "create", "create"]
