"""`cloudctl ipam ...` through the real entry point: output formats and exit codes."""

from __future__ import annotations

import json

import pytest

from cloudctl.store import open_store


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    open_store(sqlite_url).dispose()  # only `cloudctl init` creates a store from the CLI
    monkeypatch.setenv("CLOUDCTL_DB", sqlite_url)
    monkeypatch.setenv("CLOUDCTL_AS", "ops-alice")
    return sqlite_url


def test_pool_tree_allocate_free_release(db: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("role", "bootstrap", "--operator", "ops-alice").code == 0
    assert run_cli("ipam", "pool", "add", "10.0.0.0/8", "--name", "national").code == 0
    assert run_cli("ipam", "pool", "add", "10.11.0.0/16", "--name", "prov-11", "--parent", "national").code == 0
    r = run_cli("ipam", "allocate", "--pool", "prov-11", "--length", "24", "--for", "dept:health", "--format", "json")
    assert r.code == 0, r.err
    alloc = json.loads(r.out)
    assert (alloc["prefix"], alloc["owner"], alloc["created_by"]) == ("10.11.0.0/24", "dept:health", "ops-alice")
    again = run_cli("ipam", "allocate", "--pool", "prov-11", "--length", "24", "--for", "dept:health",
                    "--format", "json")
    assert json.loads(again.out)["prefix"] == "10.11.0.0/24"

    tree = json.loads(run_cli("ipam", "show", "--format", "json").out)
    assert [(t["name"], t["depth"], t["allocations"]) for t in tree] == [("national", 0, 0), ("prov-11", 1, 1)]
    assert tree[1]["utilisation"] == pytest.approx(256 / 65536)
    table = run_cli("ipam", "show").out
    assert "prov-11" in table and "0.4%" in table

    free = run_cli("ipam", "free", "prov-11", "--format", "csv").out.splitlines()
    assert free[0] == "prefix,length,addresses"
    assert free[1] == "10.11.1.0/24,24,256"

    r = run_cli("ipam", "release", "--for", "dept:health")  # not a terminal: needs --yes
    assert r.code == 2 and "--yes" in r.err
    assert run_cli("ipam", "release", "--for", "dept:health", "--dry-run").code == 0
    assert run_cli("ipam", "release", "--for", "dept:health", "--yes").code == 0
    assert json.loads(run_cli("ipam", "list", "--format", "json").out) == []


def test_errors_map_to_exit_codes(db: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("role", "bootstrap", "--operator", "ops-alice").code == 0
    r = run_cli("ipam", "pool", "add", "10.1.2.3/16", "--name", "x")
    assert r.code == 2 and "host bits" in r.err and "10.1.0.0/16" in r.err and "Traceback" not in r.err
    assert run_cli("ipam", "pool", "add", "192.0.2.0/30", "--name", "tiny").code == 0
    assert run_cli("ipam", "allocate", "--pool", "nope", "--length", "24", "--for", "x").code == 2
    assert run_cli("ipam", "allocate", "--pool", "tiny", "--length", "24", "--for", "x").code == 2
    assert run_cli("ipam", "allocate", "--pool", "tiny", "--length", "31", "--for", "a").code == 0
    r = run_cli("ipam", "allocate", "--pool", "tiny", "--length", "30", "--for", "b")
    assert r.code == 1 and "'tiny' (192.0.2.0/30) has no free /30" in r.err and "192.0.2.2/31" in r.err
    r = run_cli("ipam", "reserve", "192.0.2.2/31", "--reason", "gateway", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["kind"] == "reserved"
    assert run_cli("ipam", "release", "--prefix", "192.0.2.2/31", "--yes").code == 0
    assert run_cli("ipam", "release", "--prefix", "192.0.2.2/31", "--yes").code == 2


def test_ungranted_operator_is_denied_and_nothing_changes(db: str, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.audit import list_entries
    from cloudctl.store import open_store

    assert run_cli("role", "bootstrap", "--operator", "ops-alice").code == 0
    assert run_cli("ipam", "pool", "add", "10.0.0.0/8", "--name", "national").code == 0
    store = open_store(db)
    with store.connect() as conn:
        before = list_entries(conn, limit=None)
    r = run_cli("--as", "mallory", "ipam", "allocate", "--pool", "national", "--length", "16", "--for", "x")
    assert r.code == 1 and "'mallory' may not ipam.allocate" in r.err
    with store.connect() as conn:
        after = list_entries(conn, limit=None)
        from cloudctl.ipam import list_allocations

        assert list_allocations(conn) == []
    store.dispose()
    assert len(after) == len(before) + 1
    assert (after[0]["action"], after[0]["actor"], after[0]["object_id"]) == ("power.deny", "mallory", "ipam.allocate")
