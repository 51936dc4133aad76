"""Opening the store from the CLI: only init and demo create one; a read needs no Alembic.

- Every command but init/demo refuses a store that does not exist (exit 2) and creates
  nothing: walked over the whole command tree, so a new command is checked without a list
  to keep up to date (store-free commands are named below, with the reason).
- A SQLite file or a PostgreSQL database without a cloudctl schema is refused the same way.
- An existing store at an older revision is still upgraded by any command.
- Whether a migration is due is decided without Alembic (the heads are read from the
  version files); a read command then imports neither Alembic nor SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from cloudctl.cli.context import command_creates_store
from cloudctl.cli.main import cli, main
from cloudctl.store import open_store
from cloudctl.store.migrate import alembic_heads, current_revisions, heads, scan_heads

MISSING = "no cloudctl store at"
NO_SCHEMA = "has no cloudctl schema"
# Commands that never open the store, so a missing one cannot matter to them.
STORELESS = {
    ("power", "list"): "prints the power list compiled into cloudctl",
    ("agent", "run"): "runs on a township access point, talks to the API over HTTP",
    ("audit", "keygen"): "writes a signing key file (kept off the database host)",
    ("audit", "public-key"): "reads the signing key file",
}
# Commands whose input checks need an outside system before the store is opened.
CHECKED_ELSEWHERE_FIRST = {
    ("request", "server"): "resolves --cloud in clouds.yaml (then flavor and image) first",
    ("request", "policy", "set"): "the policy file is read and checked before anything else (issue 10's order)",
}
# Arguments that get a command past its own input checks to the point where it opens the store.
ARGS = {
    ("inventory",): ["--list"],
    ("ipam", "pool", "remove"): ["extranet", "--yes"],
    ("ipam", "release"): ["--for", "dept:finance"],
    ("quota", "set"): ["finance", "--vcpus", "4"],
    ("request", "create"): ["--kind", "quota-increase", "--payload", '{"vcpus": 4}', "--policy", "standard"],
    ("request", "quota"): ["--dept", "finance", "--policy", "standard", "--vcpus", "4"],
    ("usage", "report"): ["--from", "2026-01-01", "--to", "2026-02-01"],
}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every runnable command: the leaves, and groups that run without a subcommand."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command:
                yield (*path, name), cmd
            yield from commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


def placeholder(param: click.Parameter, tmp: Path) -> str:
    kind = param.type
    if isinstance(kind, click.Choice):
        return str(kind.choices[0])
    if isinstance(kind, click.Path):
        return str(tmp / "out-dir") if not kind.file_okay else str(tmp / "input.txt")
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return "1"
    if "YYYY" in kind.name:
        return "2026-01-01"
    return "51"


def arguments(path: tuple[str, ...], cmd: click.Command, tmp: Path) -> list[str]:
    if path in ARGS:
        return ARGS[path]
    args: list[str] = []
    for p in cmd.params:
        if not p.required:
            continue
        if isinstance(p, click.Argument):
            args.append(placeholder(p, tmp))
        elif isinstance(p, click.Option):
            args += [p.opts[0]] if p.is_flag else [p.opts[0], placeholder(p, tmp)]
    return args


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


def test_only_init_and_demo_may_create_the_store() -> None:
    creators = {path for path, cmd in commands(cli) if command_creates_store(cmd)}
    assert creators == {("init",), ("demo",)}


def test_every_other_command_refuses_a_missing_store_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "home"))  # commands that write a default file write it here
    (tmp_path / "input.txt").write_text("x\n")
    missing_dir = tmp_path / "missing"
    url = f"sqlite:///{missing_dir / 'store.sqlite3'}"
    walked = []
    for path, cmd in commands(cli):
        if command_creates_store(cmd):
            continue
        code, _, err = run(capsys, "--db", url, *path, *arguments(path, cmd, tmp_path))
        walked.append(path)
        assert not missing_dir.exists(), f"{' '.join(path)} created {missing_dir}"
        if path in STORELESS:
            assert MISSING not in err, f"{' '.join(path)} opened the store: {err}"
            continue
        assert code == 2, f"{' '.join(path)}: exit {code}: {err}"
        if path in CHECKED_ELSEWHERE_FIRST:
            continue
        assert MISSING in err and "cloudctl init" in err, f"{' '.join(path)} did not reach the store: {err}"
        assert "Traceback" not in err
    assert len(walked) > 80 and ("coverage", "summary") in walked and ("serve",) in walked
    assert set(STORELESS) | set(CHECKED_ELSEWHERE_FIRST) <= set(walked)


def test_empty_file_foreign_database_and_text_file_are_refused_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    code, _, err = run(capsys, "--db", str(empty), "coverage", "summary")
    assert code == 2 and NO_SCHEMA in err and "cloudctl init" in err
    assert empty.stat().st_size == 0
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = hashlib.sha256(foreign.read_bytes()).hexdigest()
    code, _, err = run(capsys, "--db", f"sqlite:///{foreign}", "links", "list")
    assert code == 2 and NO_SCHEMA in err
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == before
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    code, _, err = run(capsys, "--db", str(text), "divisions", "kinds")
    assert code == 2 and "is not a cloudctl store: file is not a database" in err and "Traceback" not in err
    assert text.read_text() == "not a database\n"
    assert not list(tmp_path.glob("*.cache"))


def test_missing_store_message_from_the_shell(tmp_path: Path) -> None:
    db = tmp_path / "nonexistent" / "x" / "y.db"
    r = subprocess.run([sys.executable, "-m", "cloudctl", "--db", f"sqlite:///{db}", "coverage", "summary"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: field '--db': no cloudctl store at {db}: the file does not exist")
    assert "run `cloudctl init`" in r.stderr and not (tmp_path / "nonexistent").exists()


def test_init_creates_the_store_then_reads_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "new" / "store.sqlite3"
    code, out, err = run(capsys, "--db", str(db), "init", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["stored"]["township"] == 41352
    code, out, err = run(capsys, "--db", str(db), "coverage", "summary", "--as-of", "2020-01-01", "--format", "json")
    assert code == 0, err
    assert {lv["level"]: lv["total"] for lv in json.loads(out)["levels"]}["county"] == 2978


@pytest.mark.postgres
def test_postgres_database_without_schema_is_refused(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", pg_url, "coverage", "summary")
    assert code == 2 and NO_SCHEMA in err and "run `cloudctl init`" in err
    code, _, err = run(capsys, "--db", pg_url, "dept", "list")
    assert code == 2 and NO_SCHEMA in err
    import psycopg

    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone() == (0,)  # nothing was migrated into existence
    store = open_store(pg_url)  # the library (and `cloudctl init`) create the schema
    assert current_revisions(store) == heads()
    store.dispose()
    code, out, err = run(capsys, "--db", pg_url, "coverage", "summary", "--format", "json")
    assert code == 0 and json.loads(out)["levels"] == [], err


def test_heads_read_from_the_version_files_are_alembics() -> None:
    assert scan_heads() == alembic_heads() and heads() == alembic_heads()


def test_scan_heads_reads_merges_and_annotations_and_gives_up_on_the_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    (tmp_path / "c.py").write_text("revision = 'c'\ndown_revision = 'a'  # a branch\n")
    assert scan_heads(tmp_path) == {"b", "c"}
    (tmp_path / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')
    assert scan_heads(tmp_path) == {"m"}
    (tmp_path / "x.py").write_text("revision = make_id()\ndown_revision = 'm'\n")
    assert scan_heads(tmp_path) is None


def _imports_after(args: list[str]) -> tuple[int, set[str], str]:
    code = ("import sys\nfrom cloudctl.cli.main import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    rc = e.code\n"
            "print('MODULES:' + ','.join(m for m in ('alembic', 'sqlalchemy') if m in sys.modules))\n"
            "sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    modules = r.stdout.strip().splitlines()[-1].removeprefix("MODULES:")
    return r.returncode, set(filter(None, modules.split(","))), r.stderr


def _downgrade_to_before_link_index(url: str) -> None:
    """The store as it was before revision 0008linkidx: later revisions of its branch undone with Alembic
    (however many have landed since), then 0008linkidx itself (an index)."""
    from alembic import command

    from cloudctl.store.migrate import _config

    store = open_store(url)
    try:
        with store.begin() as conn:
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008linkidx")
    finally:
        store.dispose()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP INDEX ix_link_active")
        conn.execute("DELETE FROM alembic_version WHERE version_num = '0008linkidx'")


def _small_store(url: str) -> None:
    from sqlalchemy import insert

    from cloudctl.store.tables.core import meta
    from cloudctl.store.tables.divisions import division

    store = open_store(url)
    with store.begin() as conn:
        conn.execute(insert(division), [
            {"code": "51", "name": "四川省", "level": 1, "parent_code": None, "kind": "province"},
            {"code": "5101", "name": "成都市", "level": 2, "parent_code": "51", "kind": "prefecture_city"},
            {"code": "510104", "name": "锦江区", "level": 3, "parent_code": "5101", "kind": "district"}])
        conn.execute(insert(meta).values(key="divisions_generation", value="1"))
        conn.exec_driver_sql("INSERT INTO link (link_id, division_code, link_type, bandwidth_mbps, activated_on) "
                             "VALUES ('L1', '5101', 'fiber', 100, '2019-01-01')")
    store.dispose()


@pytest.mark.parametrize("command", [
    ["coverage", "summary", "--as-of", "2020-01-01", "--by-child", "--format", "json"],
    ["coverage", "summary", "--as-of", "2020-01-01", "--region", "51"],  # table, with target gaps
    ["coverage", "trend", "--from", "2018-01-01", "--to", "2020-01-01", "--every", "year", "--format", "csv"],
    ["coverage", "plan", "--level", "county", "--as-of", "2018-01-01", "--format", "json"],
    ["coverage", "target", "list", "--format", "json"],
], ids=["summary-json", "summary-table", "trend", "plan", "target-list"])
def test_coverage_reads_import_neither_alembic_nor_sqlalchemy(sqlite_url: str, command: list[str]) -> None:
    _small_store(sqlite_url)
    code, modules, err = _imports_after(["--db", sqlite_url, *command])
    assert code == 0, err
    assert modules == set()


def test_an_older_store_is_still_upgraded_by_a_read(sqlite_url: str, tmp_path: Path) -> None:
    _small_store(sqlite_url)
    db = sqlite_url.removeprefix("sqlite:///")
    _downgrade_to_before_link_index(sqlite_url)
    args = ["--db", sqlite_url, "coverage", "summary", "--as-of", "2020-01-01", "--format", "json"]
    code, modules, err = _imports_after(args)
    assert code == 0, err
    assert "alembic" in modules  # the upgrade ran, through Alembic
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ix_link_active'").fetchone() == (1,)
        assert {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")} == heads()
