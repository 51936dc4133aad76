"""A store with an admin (`boss`), a few divisions, one link and one managed host; helpers to run the CLI
in-process as an operator and to snapshot everything but the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, func, select

from cloudctl.audit import Actor
from cloudctl.store import Store, open_store
from cloudctl.store.tables.core import audit_log

REPO = Path(__file__).resolve().parents[2]
PROVINCES = REPO / "tests" / "fixtures" / "divisions" / "provinces.csv"
GATEWAY_POLICY = REPO / "tests" / "gateway" / "policies" / "lab.yaml"
BOSS = Actor("boss", "pytest tests/power_adoption")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def seeded(sqlite_url: str, tmp_path: Path) -> Iterator[Store]:
    from cloudctl.approvals import set_policy
    from cloudctl.automation.hosts import register_host
    from cloudctl.automation.inventory import ManagedHost
    from cloudctl.divisions.importer import import_division_files
    from cloudctl.power import bootstrap

    store = open_store(sqlite_url)
    with store.begin() as conn:
        bootstrap(conn, BOSS.name, BOSS)
        set_policy(conn, {"name": "gateway", "deadline": "72h",
                          "groups": [{"name": "security", "members": ["sec1"], "rule": "any"}]}, BOSS)
    import_division_files(store, [PROVINCES], BOSS)
    register_host(store, BOSS, ManagedHost(name="h0", role="agent", address="192.0.2.10", division_code="53"))
    yield store
    store.dispose()


@pytest.fixture
def run_as(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
           sqlite_url: str) -> Callable[..., Result]:
    """Run `cloudctl --db URL --as OPERATOR ARGS...` in-process (the real entry point, exit codes included)."""
    from cloudctl.cli.main import main

    monkeypatch.chdir(tmp_path)

    def run(operator: str, *args: str) -> Result:
        capsys.readouterr()
        try:
            main(["--db", sqlite_url, "--as", operator, *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table but the audit log and its chain head (sorted reprs)."""
    md = MetaData()
    md.reflect(store.engine)
    out: dict[str, list[str]] = {}
    with store.connect() as conn:
        for name, table in md.tables.items():
            if name not in (audit_log.name, "audit_head"):
                out[name] = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
    return out


def audit_rows(store: Store) -> list[Any]:
    with store.connect() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.seq)))


def audit_count(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
