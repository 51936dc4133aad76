"""On PostgreSQL an operator's own database login may act only under its own name."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from cloudctl.audit import Actor, list_entries
from cloudctl.errors import PermissionDenied
from cloudctl.power import authorize, bootstrap, create_role, grant_role
from cloudctl.store import open_store


@pytest.mark.postgres
def test_own_login_acts_only_as_itself(pg_url: str) -> None:
    login = f"ctl_op_{uuid.uuid4().hex[:8]}"
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    owner_store = open_store(pg_url)  # the test role is a superuser: may act as anyone
    with owner_store.begin() as conn:
        bootstrap(conn, "root-op", Actor("root-op"))
        create_role(conn, "requester", ["request.create"], Actor("root-op"))
        grant_role(conn, "requester", login, Actor("root-op"))
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f"CREATE ROLE {login} LOGIN PASSWORD '{login}'")
        c.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {login}")
        c.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {login}")
    user_url = pg_url.replace("cloudctl_test:cloudctl_test@", f"{login}:{login}@")
    user_store = open_store(user_url, migrate=False)
    try:
        assert authorize(user_store, Actor(login), "request.create").allowed
        with pytest.raises(PermissionDenied, match=f"database login '{login}' may act only as '{login}'"):
            authorize(user_store, Actor("root-op"), "request.create")
        with owner_store.connect() as conn:
            last = list_entries(conn, limit=1)[0]
        assert (last["action"], last["actor"]) == ("power.deny", "root-op")
    finally:
        user_store.dispose()
        owner_store.dispose()
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f"DROP OWNED BY {login}")
            c.execute(f"DROP ROLE {login}")
