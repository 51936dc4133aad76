"""`cloudctl init` loads the shipped provinces → townships, idempotently (SQLite only: 44.7k rows)."""

from __future__ import annotations

import json

from cloudctl.audit import verify_chain
from cloudctl.divisions.registry import get_division, level_counts
from cloudctl.store import open_store

SHIPPED = {"province": 31, "prefecture": 342, "county": 2978, "township": 41352}


def test_init_loads_the_shipped_divisions_once(sqlite_url: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    first = run_cli("--db", sqlite_url, "init", "--format", "json")
    assert first.code == 0, first.err
    data = json.loads(first.out)
    assert {lv["level"]: lv["inserted"] for lv in data["import"]["levels"]} == SHIPPED
    assert data["stored"] == {**SHIPPED, "village": 0}
    second = run_cli("--db", sqlite_url, "init")
    assert second.code == 0, second.err
    assert "44703 rows: 0 inserted, 0 renamed, 44703 unchanged" in second.err
    store = open_store(sqlite_url)
    with store.connect() as conn:
        assert level_counts(conn) == {**SHIPPED, "village": 0}
        assert get_division(conn, "54").kind == "autonomous_region"  # 西藏自治区
        assert get_division(conn, "152502001").parent_code == "152502"
        # 2 import records + the installer's bootstrap + one audited store.init decision per run
        assert verify_chain(conn).ok and verify_chain(conn).rows_checked == 2 + 1 + 2
    store.dispose()
