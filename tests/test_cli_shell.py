"""The CLI shell: light --help, exit codes, errors without tracebacks, audit commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import update

from cloudctl.audit import Actor, record_change
from cloudctl.store import open_store
from cloudctl.store.tables.core import audit_log

HEAVY = ("sqlalchemy", "openstack", "ansible_runner", "matplotlib", "numpy", "prometheus_client",
         "fastapi", "netaddr", "pydantic", "rich")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloudctl", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys; from cloudctl.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Commands:" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_usage_error_exits_2() -> None:
    r = run_cli("no-such-command")
    assert r.returncode == 2 and "No such command" in r.stderr


def test_bad_db_url_is_input_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", "nosuchdriver://x/y", "audit", "log")
    assert r.returncode == 2, r.stderr
    assert "--db" in r.stderr and "Traceback" not in r.stderr


def test_audit_log_and_verify_through_cli(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    with store.begin() as conn:
        for i in range(3):
            record_change(conn, Actor("bob", "cloudctl x"), "create", "thing", f"t{i}", after={"i": i})
    r = run_cli("--db", sqlite_url, "audit", "log", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["object_id"] for row in rows] == ["t2", "t1", "t0"]
    ok = run_cli("--db", sqlite_url, "audit", "verify", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    with store.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory"))
    bad = run_cli("--db", sqlite_url, "audit", "verify")
    assert bad.returncode == 1
    assert "row 2" in bad.stdout


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_audit_log_formats(sqlite_url: str, fmt: str) -> None:
    store = open_store(sqlite_url)
    with store.begin() as conn:
        record_change(conn, Actor("carol", "c"), "update", "division", "11", before={"n": "a"}, after={"n": "b"})
    r = run_cli("--db", sqlite_url, "audit", "log", "--format", fmt)
    assert r.returncode == 0, r.stderr
    assert "carol" in r.stdout and "division" in r.stdout
