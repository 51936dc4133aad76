"""The demo: the generated history (a pure function) and `cloudctl demo` end to end on a temp SQLite store."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import subprocess
import sys
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

import pytest

from cloudctl import clock
from cloudctl.coverage.demo import EAST, PUBLISHED, SNAPSHOT, WEST, generate_link_history
from cloudctl.coverage.model import LINK_TYPES
from cloudctl.divisions.kinds import kind_of

TODAY = date(2026, 6, 30)
LEVEL_BY_LENGTH = {2: "province", 4: "prefecture", 6: "county", 9: "township"}


def expected_covered(level: str, total: int) -> int:
    """round(published ratio × total), half up, computed here independently."""
    return math.floor(PUBLISHED[level] * total + 0.5)


@pytest.fixture(scope="module")
def shipped() -> tuple[list[str], list[str]]:
    """Codes and kinds of the shipped divisions, read straight from the package's CSV files."""
    data = files("cloudctl.divisions") / "data"
    codes, kinds = [], []
    for level, name in enumerate(("provinces", "cities", "areas", "streets"), start=1):
        with gzip.open(io.BytesIO((data / f"{name}.csv.gz").read_bytes()), "rt", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                codes.append(row["code"])
                kinds.append(kind_of(row["name"], level))
    return codes, kinds


@pytest.fixture(scope="module")
def history(shipped: tuple[list[str], list[str]]) -> list:
    return generate_link_history(*shipped, today=TODAY)


def covered_codes(links: list, d: date) -> set[str]:
    return {lk.division_code for lk in links if lk.activated_on <= d and (lk.retired_on is None or lk.retired_on > d)}


def test_snapshot_reproduces_the_published_figures(shipped: tuple[list[str], list[str]], history: list) -> None:
    covered = covered_codes(history, SNAPSHOT)
    for length, level in LEVEL_BY_LENGTH.items():
        total = sum(1 for c in shipped[0] if len(c) == length)
        got = sum(1 for c in covered if len(c) == length)
        assert got == expected_covered(level, total), level
    assert sum(1 for c in covered if len(c) == 4) == 323  # 94.3 % of 342 is unreachable: 323/342 = 94.4 %


def test_history_is_realistic(shipped: tuple[list[str], list[str]], history: list) -> None:
    first: dict[str, date] = {}
    for lk in history:
        assert lk.link_type in LINK_TYPES and lk.bandwidth_mbps > 0 and lk.provider
        assert lk.activated_on <= TODAY and (lk.retired_on is None or lk.activated_on < lk.retired_on <= TODAY)
        assert date(2009, 1, 1) <= lk.activated_on
        first[lk.division_code] = min(first.get(lk.division_code, lk.activated_on), lk.activated_on)
    parent_len = {4: 2, 6: 4, 9: 6}
    for code, day in first.items():  # a division is connected only after its parent
        if len(code) > 2:
            assert first[code[:parent_len[len(code)]]] <= day, code
    # coverage only grows, and keeps growing after 2015
    counts = [len(covered_codes(history, date(y, 6, 30))) for y in range(2009, 2027)]
    assert counts == sorted(counts) and counts[-1] > counts[6] * 1.3
    # eastern townships were connected earlier than western ones
    east = sorted(d for c, d in first.items() if len(c) == 9 and c[:2] in EAST)
    west = sorted(d for c, d in first.items() if len(c) == 9 and c[:2] in WEST)
    assert east[len(east) // 2] < west[len(west) // 2]
    # replacements take over the day the old link retires: no gap
    by_id = {lk.link_id: lk for lk in history}
    replaced = [lk for lk in history if lk.link_id.endswith("-2")]
    assert len(replaced) > 1000
    for lk in replaced:
        assert by_id[lk.link_id[:-1] + "1"].retired_on == lk.activated_on
    assert {lk.link_type for lk in history} == set(LINK_TYPES)


def test_generation_is_deterministic(shipped: tuple[list[str], list[str]], history: list) -> None:
    codes, kinds = shipped
    assert generate_link_history(list(reversed(codes)), list(reversed(kinds)), today=TODAY) == history
    assert generate_link_history(codes, kinds, today=TODAY, seed=7) != history


def run_cloudctl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloudctl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900, check=False)


def link_digest(db: Path) -> str:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT * FROM link ORDER BY link_id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_demo_end_to_end_and_idempotent(tmp_path: Path) -> None:
    from cloudctl.coverage.rollup import rollup_coverage
    from cloudctl.store import open_store

    db = tmp_path / "demo.sqlite3"
    url = f"sqlite:///{db}"
    first = run_cloudctl(tmp_path, "--db", url, "demo")
    assert first.returncode == 0, first.stderr
    out = tmp_path / "coverage_reports" / "demo"
    assert f"report: {Path('coverage_reports') / 'demo' / 'index.html'}" in first.stdout
    assert "323/342 = 94.4 %" in first.stdout
    store = open_store(url)
    try:
        snap = rollup_coverage(store, SNAPSHOT)
        for lv in snap.levels:
            assert lv.covered == expected_covered(lv.level, lv.total), lv
        assert [lv.total for lv in snap.levels] == [31, 342, 2978, 41352]
        today = rollup_coverage(store, date.fromisoformat(json.loads(
            (tmp_path / "coverage_reports" / "demo" / "coverage.json").read_text(encoding="utf-8"))["as_of"]))
    finally:
        store.dispose()
    for lv in snap.levels:  # the table prints the figures
        assert f"{lv.covered}" in first.stdout and f"{lv.ratio * 100:.1f} %" in first.stdout

    data = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
    # "today" is the configured zone's date (Asia/Shanghai by default), not the test machine's: the report
    # was written within a second of this line, so one of the two sides of a midnight is its date
    assert data["as_of"] in {clock.today().isoformat(), (clock.now() - timedelta(seconds=5)).date().isoformat()}
    assert [(lv["level"], lv["total"], lv["covered"]) for lv in data["levels"]] == \
        [(lv.level, lv.total, lv.covered) for lv in today.levels]
    assert {p.stem for p in (out / "provinces").glob("*.html")} == {c["code"] for c in data["children"]}
    assert len(data["children"]) == 31
    township = next(lv for lv in data["levels"] if lv["level"] == "township")
    assert township["target"]["ratio"] == 0.6 and township["target"]["by"] == "2027-12-31"
    rows = list(csv.DictReader(io.StringIO((out / "coverage.csv").read_text(encoding="utf-8"))))
    region_rows = [(r["level"], int(r["total"]), int(r["covered"])) for r in rows if r["section"] == "region"]
    assert region_rows == [(lv["level"], lv["total"], lv["covered"]) for lv in data["levels"]]
    child_rows = {(r["code"], r["level"]): int(r["covered"]) for r in rows if r["section"] == "child"}
    assert child_rows == {(c["code"], lv["level"]): lv["covered"] for c in data["children"] for lv in c["levels"]}
    md = (out / "coverage.md").read_text(encoding="utf-8")
    for lv in data["levels"]:
        assert f"| {lv['level']} | {lv['covered']} | {lv['total']} |" in md
    html = (out / "index.html").read_text(encoding="utf-8")
    for lv in data["levels"]:
        assert f'data-level="{lv["level"]}" data-covered="{lv["covered"]}" data-total="{lv["total"]}"' in html

    digest, report_json = link_digest(db), (out / "coverage.json").read_bytes()
    second = run_cloudctl(tmp_path, "--db", url, "demo", "--format", "json")
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert (summary["inserted"], summary["updated"], summary["removed"]) == (0, 0, 0)
    assert summary["unchanged"] == summary["links"] > 30000
    assert link_digest(db) == digest
    assert (out / "coverage.json").read_bytes() == report_json
    verify = run_cloudctl(tmp_path, "--db", url, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
