"""The divisions commands and `cloudctl init` through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudctl.store import open_store

from .conftest import FIXTURE_ROWS, fixture_path, store_state
from .test_import import BAD_CASES


@pytest.fixture
def imported(db_url: str, run_cli, fixture_paths: list[Path]) -> str:  # type: ignore[no-untyped-def]
    open_store(db_url).dispose()  # only `cloudctl init` creates a store from the CLI
    r = run_cli("--db", db_url, "divisions", "import", *map(str, fixture_paths), "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["inserted"] == sum(FIXTURE_ROWS.values()) and data["generation"] == 1
    return db_url


def test_import_prints_counts_per_level(db_url: str, run_cli, fixture_paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    open_store(db_url).dispose()
    r = run_cli("--db", db_url, "divisions", "import", *map(str, fixture_paths[:3]), "--format", "csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(row["level"], row["inserted"]) for row in rows] == [("province", "3"), ("prefecture", "29"),
                                                                  ("county", "253")]
    again = run_cli("--db", db_url, "divisions", "import", *map(str, fixture_paths[:3]))
    assert again.code == 0 and "0 inserted" in again.err and "285 unchanged" in again.err


def _import_fixtures(url: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    open_store(url).dispose()
    r = run_cli("--db", url, "divisions", "import", *(str(fixture_path(n)) for n in FIXTURE_ROWS))
    assert r.code == 0, r.err


def _assert_bad_input_rejected(url: str, run_cli, write_variant, case: str) -> None:  # type: ignore[no-untyped-def]
    store = open_store(url)
    before = store_state(store)
    broken_file, replace, line, _field, words = BAD_CASES[case]
    broken = write_variant(broken_file, replace)
    r = run_cli("--db", url, "divisions", "import", str(broken))
    assert r.code == 2, (r.out, r.err)
    assert f"{broken}:{line}" in r.err and words in r.err and "hint:" in r.err
    assert "Traceback" not in r.err and r.out == ""
    assert store_state(store) == before
    store.dispose()


@pytest.mark.parametrize("case", ["unknown parent", "duplicate code", "bad code length", "non-digit code",
                                  "empty name", "wrong header"])
def test_bad_input_exits_2_with_file_and_line(sqlite_url: str, run_cli, write_variant, case: str) -> None:  # type: ignore[no-untyped-def]
    _import_fixtures(sqlite_url, run_cli)
    _assert_bad_input_rejected(sqlite_url, run_cli, write_variant, case)


@pytest.mark.postgres
@pytest.mark.parametrize("case", ["unknown parent", "duplicate code"])
def test_bad_input_leaves_postgres_unchanged(pg_url: str, run_cli, write_variant, case: str) -> None:  # type: ignore[no-untyped-def]
    _import_fixtures(pg_url, run_cli)
    _assert_bad_input_rejected(pg_url, run_cli, write_variant, case)


def test_show_gives_path_counts_and_json(imported: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", imported, "divisions", "show", "110108", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["division"] == {"code": "110108", "name": "海淀区", "level": "county", "parent_code": "1101",
                                "kind": "district"}
    assert [p["name"] for p in data["path"]] == ["北京市", "市辖区", "海淀区"]
    assert data["below"] == {"township": 29, "village": 678} and data["name_history"] == []
    table = run_cli("--db", imported, "divisions", "show", "110108")
    assert table.code == 0 and "北京市" in table.out and "海淀区" in table.out and "678" in table.out
    as_csv = run_cli("--db", imported, "divisions", "show", "110108", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [r["code"] for r in rows if r["record"] == "path"] == ["11", "1101", "110108"]
    assert {r["level"]: r["count"] for r in rows if r["record"] == "below"} == {"township": "29", "village": "678"}


def test_show_unknown_code_exits_2(imported: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", imported, "divisions", "show", "120101")
    assert r.code == 2 and "no division with code '120101'" in r.err
    bad = run_cli("--db", imported, "divisions", "show", "12O1")
    assert bad.code == 2 and "non-digit" in bad.err


def test_search_outputs(imported: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", imported, "divisions", "search", "锡林", "--format", "json")
    assert r.code == 0, r.err
    found = json.loads(r.out)
    assert found[0]["code"] == "1525" and found[0]["name"] == "锡林郭勒盟" and found[0]["kind"] == "league"
    assert any(d["code"] == "152502" for d in found)
    table = run_cli("--db", imported, "divisions", "search", "锡林浩特", "--limit", "1")
    assert table.code == 0 and "内蒙古自治区 / 锡林郭勒盟 / 锡林浩特市" in table.out
    nothing = run_cli("--db", imported, "divisions", "search", "不存在的地方")
    assert nothing.code == 0 and "no division matches" in nothing.err
    as_csv = run_cli("--db", imported, "divisions", "search", "1525", "--level", "county", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert rows and all(r["code"].startswith("1525") and r["level"] == "county" for r in rows)


def test_kinds_lists_counts(imported: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", imported, "divisions", "kinds", "--format", "json")
    counts = {row["kind"]: row["count"] for row in json.loads(r.out)}
    assert counts["municipality"] == 1 and counts["autonomous_region"] == 1 and counts["province"] == 1
    assert sum(counts.values()) == sum(FIXTURE_ROWS.values())


def test_cli_process_exits_2_without_traceback(sqlite_url: str, write_variant) -> None:  # type: ignore[no-untyped-def]
    broken = write_variant("cities", {3: '15O1,"呼和浩特市",15'})
    open_store(sqlite_url).dispose()
    r = subprocess.run([sys.executable, "-m", "cloudctl", "--db", sqlite_url, "divisions", "import",
                        str(fixture_path("provinces")), str(broken)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert f"{broken}:3:1: field 'code'" in r.stderr and "Traceback" not in r.stderr
