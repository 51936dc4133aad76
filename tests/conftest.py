"""Shared fixtures: a fresh store on SQLite and on a real PostgreSQL server.

PostgreSQL: CLOUDCTL_TEST_PG (a server URL) if set; otherwise the local Debian cluster,
installed by scripts/test and started here if it is not running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudctl.audit import Actor
from cloudctl.store import Store, open_store

FIXTURES = Path(__file__).parent / "fixtures"
# The namespace lab (session fixtures `lab`, `packet_lab`), shared by every test directory.
pytest_plugins = ["tests.lab.fixtures"]
PG_ROLE = "cloudctl_test"


@pytest.fixture(scope="session", autouse=True)
def _isolated_default_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never touch the operator's real store: the default store and data dir are temporary."""
    home = tmp_path_factory.mktemp("xdg")
    saved = {k: os.environ.get(k) for k in ("CLOUDCTL_DB", "XDG_DATA_HOME")}
    os.environ["XDG_DATA_HOME"] = str(home)
    os.environ["CLOUDCTL_DB"] = f"sqlite:///{home / 'cloudctl-default.sqlite3'}"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _pg_cluster_version() -> str | None:
    root = Path("/etc/postgresql")
    if not root.is_dir():
        return None
    versions = sorted(p.name for p in root.iterdir() if (p / "main").is_dir())
    return versions[-1] if versions else None


def _psql(sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["su", "postgres", "-c", f"psql -v ON_ERROR_STOP=1 -qAt -c \"{sql}\""],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """A URL (without database) of a PostgreSQL server the tests may create databases on."""
    if url := os.environ.get("CLOUDCTL_TEST_PG"):
        return url.rstrip("/")
    version = _pg_cluster_version()
    if version is None or shutil.which("pg_ctlcluster") is None:
        pytest.fail("PostgreSQL is not installed: run scripts/test (it installs Debian postgresql)")
    status = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, timeout=30)
    if "online" not in status.stdout:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       check=True, timeout=120)
    exists = _psql(f"SELECT 1 FROM pg_roles WHERE rolname='{PG_ROLE}'")
    if exists.stdout.strip() != "1":
        r = _psql(f"CREATE ROLE {PG_ROLE} LOGIN SUPERUSER PASSWORD '{PG_ROLE}'")
        assert r.returncode == 0, r.stderr
    return f"postgresql+psycopg://{PG_ROLE}:{PG_ROLE}@127.0.0.1:5432"


def _create_pg_database(server_url: str) -> tuple[str, str]:
    import psycopg

    name = f"cloudctl_t_{uuid.uuid4().hex[:12]}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}", name


def _drop_pg_database(server_url: str, name: str) -> None:
    import psycopg

    admin = server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url, name = _create_pg_database(pg_server_url)
    yield url
    _drop_pg_database(pg_server_url, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cloudctl.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on the embedded SQLite default and on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloudctl.sqlite3'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    s = open_store(sqlite_url)
    yield s
    s.dispose()


@pytest.fixture
def actor() -> Actor:
    return Actor("tester", "pytest")
