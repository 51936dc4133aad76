"""Importing the real fixture files into SQLite and PostgreSQL: counts, idempotence, renames,
all-or-nothing on every kind of bad input, the audit record and the generation counter."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.divisions.importer import divisions_generation, import_division_files
from cloudctl.divisions.registry import get_division, name_history
from cloudctl.errors import InputError
from cloudctl.store import Store
from cloudctl.store.tables.divisions import division

from .conftest import FIXTURE_ROWS, LEVEL_FILES, fixture_path, store_state


def _count(store: Store, level: int | None = None) -> int:
    q = select(func.count()).select_from(division)
    if level is not None:
        q = q.where(division.c.level == level)
    with store.connect() as conn:
        return int(conn.execute(q).scalar_one())


def test_import_of_the_fixtures(store: Store, actor: Actor, fixture_paths: list[Path]) -> None:
    result = import_division_files(store, fixture_paths, actor)
    expected = [FIXTURE_ROWS[n] for n in LEVEL_FILES]
    assert [result.levels[lv].inserted for lv in range(1, 6)] == expected
    assert [_count(store, lv) for lv in range(1, 6)] == expected
    assert result.inserted == sum(expected) and result.unchanged == 0 and result.renamed == 0
    with store.connect() as conn:
        village = get_division(conn, "110108001001")
        county = get_division(conn, "530824")
        banner = get_division(conn, "152522")
        assert (village.name, village.level, village.parent_code, village.kind) == (
            "翠微路社区居委会", 5, "110108001", "residents_committee")
        assert (county.name, county.kind, county.parent_code) == ("景谷傣族彝族自治县", "autonomous_county", "5308")
        assert (banner.name, banner.kind) == ("阿巴嘎旗", "banner")
        assert get_division(conn, "11").kind == "municipality"
        assert divisions_generation(conn) == 1


def test_reimport_is_idempotent(store: Store, actor: Actor, fixture_paths: list[Path]) -> None:
    import_division_files(store, fixture_paths, actor)
    before = store_state(store)
    again = import_division_files(store, list(reversed(fixture_paths)), actor)  # order does not matter
    after = store_state(store)
    assert again.inserted == 0 and again.updated == 0 and again.unchanged == sum(FIXTURE_ROWS.values())
    assert (after.divisions, after.history, after.checksum) == (before.divisions, before.history, before.checksum)
    assert after.generation == "2" and after.audit == before.audit + 1


def test_rename_keeps_history_and_renaming_back_too(store: Store, actor: Actor, write_variant) -> None:  # type: ignore[no-untyped-def]
    paths = [fixture_path(n) for n in ("provinces", "cities", "areas", "streets")]
    import_division_files(store, paths, actor)
    # line 2 of streets.csv is 110101001 东华门街道; rename it, and turn 110101002 into a 镇
    renamed = write_variant("streets", {2: '110101001,"东华门新街道",110101,11,1101',
                                        3: '110101002,"景山镇",110101,11,1101'})
    result = import_division_files(store, [renamed], actor)
    assert (result.renamed, result.inserted, result.unchanged) == (2, 0, FIXTURE_ROWS["streets"] - 2)
    with store.connect() as conn:
        assert get_division(conn, "110101001").name == "东华门新街道"
        assert get_division(conn, "110101002").kind == "town"  # the kind follows the new name
        history = name_history(conn, "110101001")
        assert [(h["old_name"], h["new_name"]) for h in history] == [("东华门街道", "东华门新街道")]
    import_division_files(store, [fixture_path("streets")], actor)
    with store.connect() as conn:
        assert get_division(conn, "110101001").name == "东华门街道"
        history = name_history(conn, "110101001")
        assert [(h["old_name"], h["new_name"]) for h in history] == [
            ("东华门街道", "东华门新街道"), ("东华门新街道", "东华门街道")]


def test_villages_alone_find_their_parents_in_the_store(store: Store, actor: Actor) -> None:
    import_division_files(store, [fixture_path(n) for n in ("provinces", "cities", "areas", "streets")], actor)
    result = import_division_files(store, [fixture_path("villages")], actor)
    assert result.inserted == FIXTURE_ROWS["villages"] and set(result.levels) == {5}


def test_gzip_and_plain_files_import_the_same(store: Store, actor: Actor, tmp_path: Path) -> None:
    gz = tmp_path / "cities.csv.gz"  # compressed and renamed: recognised by content and header
    gz.write_bytes(gzip.compress(fixture_path("cities").read_bytes()))
    odd_name = tmp_path / "export-2023.txt"
    odd_name.write_bytes(gzip.compress(fixture_path("provinces").read_bytes()))
    result = import_division_files(store, [gz, odd_name], actor)
    assert result.levels[2].inserted == FIXTURE_ROWS["cities"] and result.levels[1].inserted == 3


def test_one_summarising_audit_record_per_import(store: Store, actor: Actor, fixture_paths: list[Path]) -> None:
    import_division_files(store, fixture_paths, actor)
    with store.connect() as conn:
        entries = list_entries(conn, limit=None, object_type="division")
        assert verify_chain(conn).ok
    assert len(entries) == 1
    entry = entries[0]
    assert entry["action"] == "import" and entry["actor"] == "tester"
    after = json.loads(entry["after"])
    assert [lv["inserted"] for lv in after["levels"]] == [FIXTURE_ROWS[n] for n in LEVEL_FILES]
    assert after["generation"] == 1 and "villages.csv" in entry["object_id"]


# (file to break, {line: replacement}, expected line, field, words in the message)
BAD_CASES = {
    "unknown parent": ("streets", {5: '110199004,"东四街道",110199,11,1101'}, 5, "areaCode",
                       "unknown parent code '110199'"),
    "duplicate code": ("streets", {6: '110101001,"重复街道",110101,11,1101'}, 6, "code", "duplicate code '110101001'"),
    "bad code length": ("areas", {4: '1101031,"某区",1101,11'}, 4, "code", "7 digits"),
    "non-digit code": ("cities", {3: '15O1,"呼和浩特市",15'}, 3, "code", "non-digit character 'O'"),
    "empty name": ("areas", {2: '110101,"",1101,11'}, 2, "name", "empty name"),
    "blank name": ("areas", {2: '110101,"  ",1101,11'}, 2, "name", "empty name"),
    "wrong header": ("cities", {1: "code,name,province"}, 1, None, "unrecognised header"),
    "parent not the prefix": ("areas", {3: '110105,"朝阳区",1501,11'}, 3, "cityCode", "not the parent"),
    "province column wrong": ("areas", {3: '110105,"朝阳区",1101,15'}, 3, "provinceCode", "not the parent"),
    "too many fields": ("streets", {4: '110101003,"交道口,街道",110101,11,1101,extra'}, 4, None, "6 fields"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_and_line_and_imports_nothing(store: Store, actor: Actor, write_variant,  # type: ignore[no-untyped-def]
                                                           case: str) -> None:
    import_division_files(store, [fixture_path("provinces")], actor)
    before = store_state(store)
    broken_file, replace, line, field, words = BAD_CASES[case]
    broken = write_variant(broken_file, replace)
    paths = [fixture_path(n) if n != broken_file else broken for n in ("cities", "areas", "streets", "villages")]
    with pytest.raises(InputError) as e:
        import_division_files(store, paths, actor)
    err = e.value
    assert err.file == str(broken) and err.line == line and err.field == field, err.render()
    assert words in err.message, err.render()
    assert err.exit_code == 2 and err.hint
    assert store_state(store) == before  # nothing imported, no audit record, generation kept


def test_duplicate_across_files_names_both_places(store: Store, actor: Actor, write_variant) -> None:  # type: ignore[no-untyped-def]
    extra = write_variant("provinces", file_name="more-provinces.csv")
    with pytest.raises(InputError) as e:
        import_division_files(store, [fixture_path("provinces"), extra], actor)
    assert e.value.file == str(extra) and e.value.line == 2
    assert f"{fixture_path('provinces')}:2" in e.value.message
    assert _count(store) == 0


def test_unknown_parent_when_parents_are_neither_stored_nor_imported(store: Store, actor: Actor) -> None:
    with pytest.raises(InputError) as e:
        import_division_files(store, [fixture_path("villages")], actor)
    assert e.value.line == 2 and e.value.field == "streetCode" and "no such township" in e.value.message
    assert _count(store) == 0


def test_line_numbers_count_physical_lines(sqlite_store: Store, actor: Actor, tmp_path: Path) -> None:
    store = sqlite_store  # reading and checking happen before the store is touched
    path = tmp_path / "provinces.csv"  # a blank line, and a quoted name spanning two lines, before the bad row
    path.write_text('code,name\n11,"北京市"\n\n12,"天津\n市"\n1x,"河北省"\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        import_division_files(store, [path], actor)
    assert e.value.line == 6 and e.value.field == "code"


def test_not_utf8_and_missing_file_are_input_errors(sqlite_store: Store, actor: Actor, tmp_path: Path) -> None:
    store = sqlite_store
    gbk = tmp_path / "provinces.csv"
    gbk.write_bytes('code,name\n11,"北京市"\n'.encode("gbk"))
    with pytest.raises(InputError) as e:
        import_division_files(store, [gbk], actor)
    assert "UTF-8" in e.value.message and e.value.line == 2
    with pytest.raises(InputError, match="no such CSV file"):
        import_division_files(store, [tmp_path / "nope.csv"], actor)
    assert _count(store) == 0


def test_bulk_path_rebuilds_the_indexes(store: Store, actor: Actor, fixture_paths: list[Path],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Large imports drop and rebuild the secondary indexes inside the transaction (forced here)."""
    from sqlalchemy import inspect

    from cloudctl.divisions import bulk

    monkeypatch.setattr(bulk, "BULK_ROWS", 10)
    import_division_files(store, fixture_paths, actor)
    with store.connect() as conn:
        names = {ix["name"] for ix in inspect(conn).get_indexes("division")}
        children = conn.execute(select(func.count()).select_from(division)
                                .where(division.c.parent_code == "110108")).scalar_one()
    assert {"ix_division_parent_code", "ix_division_level"} <= names
    assert children == 29 and _count(store) == sum(FIXTURE_ROWS.values())


def test_failure_after_the_bulk_insert_rolls_everything_back(store: Store, actor: Actor, fixture_paths: list[Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault injected after the rows went in and the indexes were dropped: the rows, the dropped
    indexes, the generation and the audit record all roll back (DDL is transactional on both)."""
    from sqlalchemy import inspect

    from cloudctl.divisions import bulk

    monkeypatch.setattr(bulk, "BULK_ROWS", 10)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(bulk, "insert_name_history", fail)
    before = store_state(store)
    with pytest.raises(RuntimeError, match="injected"):
        import_division_files(store, fixture_paths, actor)
    with store.connect() as conn:
        names = {ix["name"] for ix in inspect(conn).get_indexes("division")}
    assert {"ix_division_parent_code", "ix_division_level"} <= names
    assert store_state(store) == before


def test_names_that_need_escaping_survive_the_bulk_path(store: Store, actor: Actor, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Backslashes, commas and quotes in names: COPY's text fast path must fall back, not corrupt them.
    (Tabs and other control characters never get this far: names are one line of printable text.)"""
    from cloudctl.divisions import bulk

    monkeypatch.setattr(bulk, "BULK_ROWS", 1)
    path = tmp_path / "provinces.csv"
    path.write_text('code,name\n11,"北京\\N市"\n12,"天津,市"\n13,"河北""省"""\n14,"\\N"\n', encoding="utf-8")
    import_division_files(store, [path], actor)
    with store.connect() as conn:
        names = dict(conn.execute(select(division.c.code, division.c.name)).all())
    assert names == {"11": "北京\\N市", "12": "天津,市", "13": '河北"省"', "14": "\\N"}
    path.write_text('code,name\n11,"天津\t市"\n', encoding="utf-8")
    with pytest.raises(InputError, match="control character U\\+0009"):
        import_division_files(store, [path], actor)


def test_bom_crlf_spaces_and_column_order_are_accepted(sqlite_store: Store, actor: Actor, tmp_path: Path) -> None:
    """What a spreadsheet export looks like: BOM, CRLF, padded cells, columns in another order."""
    path = tmp_path / "cities-from-excel.csv"
    path.write_bytes("\ufeffprovinceCode,code,name\r\n11, 1101 ,\"市辖区 \"\r\n\r\n".encode())
    provinces = tmp_path / "p.csv"
    provinces.write_text("code,name\n11,北京市\n", encoding="utf-8")
    result = import_division_files(sqlite_store, [path, provinces], actor)
    assert result.levels[2].inserted == 1
    with sqlite_store.connect() as conn:
        city = get_division(conn, "1101")
    assert (city.name, city.parent_code, city.kind) == ("市辖区", "11", "placeholder")
