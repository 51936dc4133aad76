"""On PostgreSQL the audit tables are append-only for the logins operators use (docs/approvals.md:
their own non-superuser, non-owner role): UPDATE, DELETE and TRUNCATE are refused, the head only
moves forward to the last row, and normal audited commands still work. The platform's owner role
(a plain, non-superuser database owner here, as in production) runs the migrations and keeps
what appending needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from cloudctl.audit import Actor, verify_chain
from cloudctl.cli.main import main as cli_main
from cloudctl.power import bootstrap, create_role, grant_role
from cloudctl.store import open_store
from tests.audit.conftest import Signer

pytestmark = pytest.mark.postgres


@dataclass
class Logins:
    admin: str  # superuser, libpq URL of the test database
    owner: str  # SQLAlchemy URLs
    operator: str
    operator_name: str


def _url(pg_url: str, name: str) -> str:
    return pg_url.replace("cloudctl_test:cloudctl_test@", f"{name}:{name}@")


@pytest.fixture
def logins(pg_url: str) -> Iterator[Logins]:
    tag = uuid.uuid4().hex[:8]
    owner, operator = f"ctl_owner_{tag}", f"ctl_op_{tag}"
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    database = admin.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER PASSWORD '{owner}'")
        c.execute(f'ALTER DATABASE "{database}" OWNER TO {owner}')
        c.execute(f"CREATE ROLE {operator} LOGIN NOSUPERUSER PASSWORD '{operator}'")
    try:
        yield Logins(admin, _url(pg_url, owner), _url(pg_url, operator), operator)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'ALTER DATABASE "{database}" OWNER TO cloudctl_test')
            c.execute(f"REASSIGN OWNED BY {owner}, {operator} TO cloudctl_test")
            c.execute(f"DROP OWNED BY {owner}, {operator}")
        with psycopg.connect(admin.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute(f"DROP ROLE {owner}")
            c.execute(f"DROP ROLE {operator}")


def _refused(url: str, sql: str, match: str, *before: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as c:
        for statement in before:
            c.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=match):
            c.execute(sql)


def _privileges(admin: str, login: str) -> dict[tuple[str, str], bool]:
    with psycopg.connect(admin) as c:
        tables = [t for t in ("audit_log", "audit_head", "audit_checkpoint")
                  if c.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0]]
        return {(t, p): c.execute("SELECT has_table_privilege(%s, %s, %s)", (login, t, p)).fetchone()[0]
                for t in tables for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}


def test_operator_login_cannot_rewrite_the_audit_log_but_audited_commands_work(
        logins: Logins, signer: Signer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    owner_store = open_store(logins.owner)  # the owner runs the migrations, as the platform's service role does
    op = logins.operator_name
    with owner_store.begin() as conn:
        bootstrap(conn, "root-op", Actor("root-op"))
        create_role(conn, "netops", ["ipam.pool.add", "audit.checkpoint"], Actor("root-op"))
        grant_role(conn, "netops", op, Actor("root-op"))
    with psycopg.connect(logins.admin, autocommit=True) as c:  # exactly what docs/approvals.md tells a DBA to run
        c.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {op}")
        c.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {op}")

    # Normal audited commands still work under the operator's own login.
    monkeypatch.setenv("CLOUDCTL_AUDIT_KEY", str(signer.key_path))
    monkeypatch.setenv("CLOUDCTL_AUDIT_CHECKPOINT_FILE", str(signer.file))
    for args in (["ipam", "pool", "add", "10.40.0.0/16", "--name", "gov"], ["audit", "checkpoint"]):
        with pytest.raises(SystemExit) as done:
            cli_main(["--db", logins.operator, "--as", op, *args])
        assert done.value.code == 0, capsys.readouterr().err

    # Whatever was granted, the triggers refuse rewriting history.
    _refused(logins.operator, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "append-only")
    _refused(logins.operator, "DELETE FROM audit_log WHERE seq = 2", "append-only")
    _refused(logins.operator, "TRUNCATE audit_log", "permission denied")
    _refused(logins.operator, "UPDATE audit_checkpoint SET seq = 1", "append-only")
    _refused(logins.operator, "DELETE FROM audit_checkpoint", "append-only")
    _refused(logins.operator, "DELETE FROM audit_head", "append-only")
    _refused(logins.operator, "UPDATE audit_head SET seq = seq - 1", "may only move forward")
    _refused(logins.operator, "UPDATE audit_head SET hash = repeat('a', 64)", "may only move forward")
    _refused(logins.operator, "INSERT INTO audit_log (seq, at, actor, command, action, object_type, object_id, "
             "prev_hash, hash) VALUES (1000, 'x', 'm', '', 'a', 'b', 'c', repeat('0', 64), repeat('0', 64))",
             "does not extend the chain")
    # The owner lost these privileges too, and granting them back to itself does not get past the
    # triggers: only switching them off does (what the signed checkpoints are there to catch).
    _refused(logins.owner, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", "permission denied")
    owner = logins.owner.split("//")[1].split(":")[0]
    regrant = f"GRANT UPDATE, DELETE, TRUNCATE ON audit_log, audit_checkpoint TO {owner}"
    _refused(logins.owner, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", "append-only", regrant)
    _refused(logins.owner, "TRUNCATE audit_checkpoint", "append-only", regrant)

    with owner_store.connect() as conn:
        assert verify_chain(conn).ok
    assert signer.verify(owner_store).ok and signer.verify(owner_store).chain.checkpoints_checked == 1
    owner_store.dispose()


def test_the_migration_revokes_what_was_granted_before_it(pg_url: str, logins: Logins) -> None:
    from alembic import command

    from cloudctl.store import Store
    from cloudctl.store.migrate import _config, upgrade

    early = Store(logins.owner)
    cfg = _config()
    with early.begin() as conn:  # a store from before this migration ...
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    op = logins.operator_name
    with psycopg.connect(logins.admin, autocommit=True) as c:  # ... whose operators were granted everything
        c.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {op}")
    assert _privileges(logins.admin, op)[("audit_log", "UPDATE")]
    upgrade(early)
    early.dispose()
    held = _privileges(logins.admin, op)
    assert {k for k, v in held.items() if v} == {
        ("audit_log", "SELECT"), ("audit_log", "INSERT"),
        ("audit_head", "SELECT"), ("audit_head", "UPDATE"),  # every append moves the head (forward only)
    }
    owner = logins.owner.split("//")[1].split(":")[0]
    owned = _privileges(logins.admin, owner)
    assert owned[("audit_log", "INSERT")] and owned[("audit_head", "UPDATE")] and owned[("audit_checkpoint", "INSERT")]
    assert not owned[("audit_log", "UPDATE")] and not owned[("audit_log", "DELETE")]
    assert not owned[("audit_checkpoint", "DELETE")] and not owned[("audit_head", "DELETE")]
