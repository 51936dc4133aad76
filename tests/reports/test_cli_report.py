"""`cloudctl coverage report`: files, output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cloudctl.store import Store


def run_report(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloudctl", "--db", url, "coverage", "report", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_report_writes_the_files_and_prints_json(small_sqlite_store: Store, tmp_path: Path) -> None:
    url = small_sqlite_store.url
    result = run_report(tmp_path, url, "--as-of", "2015-05-31", "--out", "coverage_reports/may2015",
                        "--format", "json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    out = tmp_path / "coverage_reports" / "may2015"
    assert printed["index"] == str(Path("coverage_reports") / "may2015" / "index.html")
    assert {Path(f).name for f in printed["files"]} >= {"index.html", "coverage.json", "coverage.csv", "coverage.md",
                                                        "33.html", "54.html"}
    data = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
    assert printed["levels"] == data["levels"]
    assert [(lv["level"], lv["covered"]) for lv in data["levels"]] == \
        [("province", 2), ("prefecture", 3), ("county", 3), ("township", 6)]


def test_report_default_out_and_table(small_sqlite_store: Store, tmp_path: Path) -> None:
    result = run_report(tmp_path, small_sqlite_store.url, "--as-of", "2016-01-01", "--region", "33",
                        "--every", "quarter", "--no-drilldown")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "coverage_reports" / "33-2016-01-01"
    assert (out / "index.html").exists() and not (out / "prefectures").exists()
    assert "township" in result.stdout and "90.0 % by 2018-12-31" in result.stdout
    assert "index.html" in result.stderr  # where the report went: a message, not data


def test_bad_input_exits_2_and_names_the_field(small_sqlite_store: Store, tmp_path: Path) -> None:
    unknown = run_report(tmp_path, small_sqlite_store.url, "--region", "99", "--out", "x")
    assert unknown.returncode == 2
    assert "--region" in unknown.stderr and "99" in unknown.stderr and "Traceback" not in unknown.stderr
    bad_date = run_report(tmp_path, small_sqlite_store.url, "--as-of", "2015-13-01")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    bad_kind = run_report(tmp_path, small_sqlite_store.url, "--exclude-kind", "castle", "--out", "x")
    assert bad_kind.returncode == 2 and "--exclude-kind" in bad_kind.stderr
    assert not (tmp_path / "x").exists()  # nothing written on bad input
