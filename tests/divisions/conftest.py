"""Fixtures for the division tests: the real fixture files, bad variants of them, an in-process CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloudctl.store import Store
from cloudctl.store.tables.core import audit_log, meta
from cloudctl.store.tables.divisions import division, division_name_history

DIVISION_FIXTURES = Path(__file__).parents[1] / "fixtures" / "divisions"
LEVEL_FILES = ("provinces", "cities", "areas", "streets", "villages")
# rows in each fixture file (tests/fixtures/divisions/cut_fixtures.py)
FIXTURE_ROWS = {"provinces": 3, "cities": 29, "areas": 253, "streets": 3035, "villages": 942}


def fixture_path(name: str) -> Path:
    return DIVISION_FIXTURES / f"{name}.csv"


@pytest.fixture
def fixture_paths() -> list[Path]:
    """All five fixture files, provinces first."""
    return [fixture_path(n) for n in LEVEL_FILES]


@dataclass(frozen=True)
class StoreState:
    divisions: int
    history: int
    audit: int
    generation: str | None
    checksum: tuple[tuple[str, str, str], ...]  # a sample of rows, to see changes


def store_state(store: Store) -> StoreState:
    """What an aborted import must leave exactly as it was."""
    with store.connect() as conn:
        count = conn.execute(select(func.count()).select_from(division)).scalar_one()
        history = conn.execute(select(func.count()).select_from(division_name_history)).scalar_one()
        # the power list's own records (the audited decision that let the import run) are not the import's
        audit = conn.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.action.notlike("power.%"), audit_log.c.action != "role.bootstrap")).scalar_one()
        generation = conn.execute(select(meta.c.value).where(meta.c.key == "divisions_generation")).scalar()
        sample = conn.execute(select(division.c.code, division.c.name, division.c.kind)
                              .order_by(division.c.code).limit(50)).all()
    return StoreState(count, history, audit, generation, tuple(tuple(r) for r in sample))


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `cloudctl ARGS...` in-process through the real entry point (exit codes included)."""
    from cloudctl.cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def write_variant(tmp_path: Path) -> Callable[..., Path]:
    """A copy of a fixture file with some lines replaced: write_variant('streets', {3: 'new line'})."""

    def write(name: str, replace: dict[int, str] | None = None, *, append: list[str] | None = None,
              file_name: str | None = None) -> Path:
        lines = fixture_path(name).read_text(encoding="utf-8").splitlines()
        for line_no, text in (replace or {}).items():
            lines[line_no - 1] = text
        lines += append or []
        path = tmp_path / (file_name or f"{name}.csv")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
