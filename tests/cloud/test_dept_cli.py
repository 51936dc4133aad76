"""Departments through the CLI, on SQLite and PostgreSQL (no cloud needed)."""

from __future__ import annotations

import json
from pathlib import Path

import netaddr

from cloudctl.audit import list_entries
from cloudctl.store import open_store
from tests.cloud.helpers import run_cli

PROVINCES = Path(__file__).parents[1] / "fixtures" / "divisions" / "provinces.csv"


def test_dept_lifecycle_allocates_subnets_and_audits(db_url: str) -> None:
    open_store(db_url).dispose()  # only `cloudctl init` creates a store from the CLI
    assert run_cli(["divisions", "import", str(PROVINCES)], db_url).returncode == 0  # a department's division exists
    r = run_cli(["ipam", "pool", "add", "10.40.0.0/22", "--name", "departments"], db_url)
    assert r.returncode == 0, r.stderr
    r = run_cli(["dept", "create", "Finance Bureau", "--code", "finance", "--division", "11",
                 "--contact", "ops@finance", "--format", "json"], db_url)
    assert r.returncode == 0, r.stderr
    finance = json.loads(r.stdout)
    r = run_cli(["dept", "create", "Health Commission", "--code", "health", "--division", "11",
                 "--format", "json"], db_url)
    health = json.loads(r.stdout)
    a, b = netaddr.IPNetwork(finance["cidr"]), netaddr.IPNetwork(health["cidr"])
    assert a.prefixlen == b.prefixlen == 24 and a in netaddr.IPNetwork("10.40.0.0/22")
    assert a != b and a not in b and b not in a
    assert finance["quotas"]["vcpus"] == 20

    r = run_cli(["dept", "create", "Finance again", "--code", "finance", "--division", "11"], db_url)
    assert r.returncode == 1 and "already exists" in r.stderr
    r = run_cli(["dept", "create", "Bad", "--code", "Bad Code!", "--division", "11"], db_url)
    assert r.returncode == 2 and "--code" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(["dept", "member", "add", "finance", "alice", "--role", "admin"], db_url)
    assert r.returncode == 0, r.stderr

    r = run_cli(["dept", "show", "finance", "--format", "json"], db_url)
    shown = json.loads(r.stdout)
    assert shown["members"] == {"alice": "admin"} and shown["cidr"] == finance["cidr"]
    r = run_cli(["dept", "retire", "health", "--yes"], db_url)
    assert r.returncode == 0, r.stderr
    r = run_cli(["dept", "list", "--format", "json"], db_url)
    assert [d["code"] for d in json.loads(r.stdout)] == ["finance"]
    r = run_cli(["dept", "list", "--all", "--format", "csv"], db_url)
    assert r.stdout.splitlines()[0].startswith("code,name") and len(r.stdout.splitlines()) == 3
    r = run_cli(["dept", "show", "nope"], db_url)
    assert r.returncode == 2 and "nope" in r.stderr

    store = open_store(db_url)
    with store.connect() as conn:
        actions = [e["action"] for e in list_entries(conn, limit=None, object_type="department")]
    store.dispose()
    assert sorted(actions) == sorted(["dept.create", "dept.create", "dept.member", "dept.retire"])


def test_quota_set_needs_a_known_department_and_a_value(sqlite_url: str) -> None:
    open_store(sqlite_url).dispose()
    r = run_cli(["quota", "set", "ghost"], sqlite_url)
    assert r.returncode == 2 and "no quota given" in r.stderr
