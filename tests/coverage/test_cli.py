"""The commands as a user runs them: exact JSON shape, exit codes, errors without tracebacks."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from cloudctl.store import Store, open_store

from .conftest import Div, insert_divisions, insert_links, make_links, make_registry, ref_levels, run_cli

AS_OF = "2016-06-30"


@pytest.fixture
def cli_db(sqlite_url: str) -> tuple[str, list[Div], list]:  # type: ignore[type-arg]
    store: Store = open_store(sqlite_url)
    registry = make_registry()
    insert_divisions(store, registry)
    links = make_links(registry, 200, seed=2)
    insert_links(store, links)
    store.dispose()
    return sqlite_url, registry, links


def test_summary_json_shape_is_exact(cli_db) -> None:  # type: ignore[no-untyped-def]
    url, registry, links = cli_db
    r = run_cli("--db", url, "coverage", "summary", "--as-of", AS_OF, "--region", "15", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert list(data) == ["as_of", "region", "levels"]
    assert data == {"as_of": AS_OF, "region": "15", "levels": ref_levels(registry, links, date(2016, 6, 30), "15")}
    assert [lv["level"] for lv in data["levels"]] == ["province", "prefecture", "county", "township", "village"]
    assert all(list(lv) == ["level", "total", "covered", "ratio"] for lv in data["levels"])
    assert all(isinstance(lv["total"], int) and isinstance(lv["ratio"], float) for lv in data["levels"])

    r = run_cli("--db", url, "coverage", "summary", "--as-of", AS_OF, "--by-child", "--exclude-kind", "town",
                "--exclude-kind", "special_zone", "--format", "json")
    data = json.loads(r.stdout)
    assert list(data) == ["as_of", "region", "levels", "children"] and data["region"] is None
    assert [c["code"] for c in data["children"]] == ["11", "15", "51"]
    assert all(list(c) == ["code", "name", "levels"] for c in data["children"])
    excl = ("town", "special_zone")
    assert data["children"][2]["levels"] == ref_levels(registry, links, date(2016, 6, 30), "51", excl)


def test_summary_table_shows_target_gap_and_pace(cli_db) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = cli_db
    r = run_cli("--db", url, "coverage", "target", "set", "--level", "township", "--ratio", "0.95",
                "--by", "2017-06-30")
    assert r.returncode == 0, r.stderr
    bad = run_cli("--db", url, "coverage", "target", "set", "--level", "township", "--ratio", "95", "--by",
                  "2017-06-30")
    assert bad.returncode == 2 and "0.95" in bad.stderr and "Traceback" not in bad.stderr
    r = run_cli("--db", url, "coverage", "summary", "--as-of", AS_OF)
    assert r.returncode == 0, r.stderr
    township = next(line for line in r.stdout.splitlines() if line.strip().startswith("township"))
    assert "95.0 %" in township and "2017-06-30" in township
    assert "gap" in r.stdout and "per month" in r.stdout


def test_trend_csv_and_plan_json(cli_db) -> None:  # type: ignore[no-untyped-def]
    url, registry, links = cli_db
    r = run_cli("--db", url, "coverage", "trend", "--from", "2014-01-01", "--to", "2016-01-01", "--every", "year",
                "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["as_of"] for row in rows} == {"2014-01-01", "2014-12-31", "2015-12-31", "2016-01-01"}
    for row in rows:
        ref = {lv["level"]: lv for lv in ref_levels(registry, links, date.fromisoformat(row["as_of"]))}
        assert int(row["covered"]) == ref[row["level"]]["covered"]
    r = run_cli("--db", url, "coverage", "plan", "--as-of", AS_OF, "--limit", "3", "--weight", "western=0",
                "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert [p["rank"] for p in plan] == [1, 2, 3] and all(p["reasons"] for p in plan)
    assert not any("western" in reason for p in plan for reason in p["reasons"])
    bad = run_cli("--db", url, "coverage", "plan", "--weight", "speed=3")
    assert bad.returncode == 2 and "speed" in bad.stderr and "Traceback" not in bad.stderr


def test_links_import_error_exits_2_and_imports_nothing(sqlite_url: str, tmp_path: Path) -> None:
    store = open_store(sqlite_url)
    insert_divisions(store, make_registry())
    store.dispose()
    f = tmp_path / "links.csv"
    f.write_text("link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider\n"
                 "A,5101,fiber,100,2019-01-01,,\n"
                 "B,5101,fiber,100,2019-01-01,2018-12-31,\n", encoding="utf-8")
    r = run_cli("--db", sqlite_url, "links", "import", str(f))
    assert r.returncode == 2
    assert f"{f}:3:6" in r.stderr and "retired_on" in r.stderr and "Traceback" not in r.stderr
    listed = run_cli("--db", sqlite_url, "links", "list", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    f.write_text("link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider,extra\n",
                 encoding="utf-8")
    r = run_cli("--db", sqlite_url, "links", "import", str(f))
    assert r.returncode == 2 and "extra" in r.stderr and f"{f}:1" in r.stderr
    f.write_text("link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider\n"
                 "A,5101,fiber,100,2019-01-01,,\n", encoding="utf-8")
    for _ in range(2):
        r = run_cli("--db", sqlite_url, "links", "import", str(f), "--format", "json")
        assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unchanged"] == 1
    r = run_cli("--db", sqlite_url, "links", "retire", "A", "--on", "2020-01-01", "--yes")
    assert r.returncode == 0, r.stderr
    listed = json.loads(run_cli("--db", sqlite_url, "links", "list", "--active-on", "2020-01-01",
                                "--format", "json").stdout)
    assert listed == []
