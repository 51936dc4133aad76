"""The power list: registered permissions, explicit roles, scoped grants, audited decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from cloudctl.audit import Actor, list_entries
from cloudctl.cli.main import COMMANDS
from cloudctl.errors import ConflictError, InputError, PermissionDenied
from cloudctl.power import (
    POWER_LIST,
    Scope,
    authorize,
    authorized,
    bootstrap,
    create_role,
    decide,
    grant_role,
    os_user,
    revoke_role,
)
from cloudctl.store import Store
from cloudctl.store.tables.divisions import division

ADMIN = Actor("root-op", "pytest")


def _entries(store: Store) -> list[dict]:
    with store.connect() as conn:
        return list_entries(conn, limit=None)


@pytest.fixture
def st(store: Store) -> Store:
    with store.begin() as conn:
        bootstrap(conn, "root-op", ADMIN)
        create_role(conn, "quota-officer", ["quota.set", "request.*"], ADMIN)
        grant_role(conn, "quota-officer", "olga", ADMIN, Scope(region="110000"))
        grant_role(conn, "quota-officer", "dan", ADMIN, "dept:health")
        conn.execute(insert(division), [
            {"code": "110000", "name": "Province", "level": 1, "parent_code": None, "kind": "province"},
            {"code": "110100", "name": "City", "level": 2, "parent_code": "110000", "kind": "city"},
            {"code": "120000", "name": "Other", "level": 1, "parent_code": None, "kind": "province"},
        ])
    return store


def test_registry_names_every_group_and_is_unique() -> None:
    names = [p.name for p in POWER_LIST]
    assert len(names) == len(set(names))
    groups = {n.split(".")[0] for n in names}
    for group in ("divisions", "links", "coverage", "dept", "ipam", "cloud", "quota", "gateway", "agent",
                  "request", "role"):
        assert group in groups
        assert group in COMMANDS or group == "divisions"


def test_scoped_grants(st: Store) -> None:
    with st.connect() as conn:
        assert decide(conn, "olga", "quota.set", Scope(region="110100")).allowed  # a city inside the province
        assert not decide(conn, "olga", "quota.set", Scope(region="120000")).allowed
        assert not decide(conn, "olga", "quota.set").allowed  # unscoped action needs an unscoped grant
        assert decide(conn, "dan", "quota.set", Scope(dept="health")).allowed
        assert not decide(conn, "dan", "quota.set", Scope(dept="police")).allowed
        assert not decide(conn, "dan", "ipam.allocate").allowed
        assert decide(conn, "root-op", "gateway.deploy").allowed  # admin: the whole list
        unregistered = decide(conn, "root-op", "cloud.destroy-everything")
    assert not unregistered.allowed and "not on the power list" in unregistered.reason


def test_denied_action_changes_nothing_and_leaves_one_record(st: Store) -> None:
    before = _entries(st)
    with pytest.raises(PermissionDenied, match=r"'dan' may not role\.create"), \
            authorized(st, Actor("dan"), "role.create") as conn:
        create_role(conn, "sneaky", ["role.grant"], Actor("dan"))
    after = _entries(st)
    assert len(after) == len(before) + 1
    rec = after[0]
    assert (rec["action"], rec["actor"], rec["object_id"]) == ("power.deny", "dan", "role.create")
    with st.connect() as conn:
        assert not decide(conn, "dan", "role.grant").allowed  # no role 'sneaky' was made


def test_allowed_decisions_are_audited_too(st: Store) -> None:
    before = len(_entries(st))
    authorize(st, Actor("dan"), "quota.set", Scope(dept="health"))
    after = _entries(st)
    assert len(after) == before + 1 and after[0]["action"] == "power.allow"
    assert '"role": "quota-officer"' in after[0]["after"]


def test_bootstrap_rule(store: Store) -> None:
    # nobody holds a role: a stranger is denied, the OS user running cloudctl becomes admin
    with pytest.raises(PermissionDenied, match="holds no role"):
        authorize(store, Actor("stranger"), "ipam.allocate")
    authorize(store, Actor(os_user()), "ipam.allocate")
    actions = [e["action"] for e in _entries(store)]
    assert actions[:3] == ["power.allow", "role.bootstrap", "power.deny"]
    with store.begin() as conn, pytest.raises(ConflictError, match="already bootstrapped"):
        bootstrap(conn, "someone", Actor("someone"))


def test_roles_are_explicit_and_the_last_admin_stays(st: Store) -> None:
    with st.begin() as conn:
        with pytest.raises(InputError, match="not on the power list"):
            create_role(conn, "x", ["quota.sett"], ADMIN)
        with pytest.raises(ConflictError, match="last unscoped admin"):
            revoke_role(conn, "admin", "root-op", ADMIN)
        revoke_role(conn, "quota-officer", "dan", ADMIN, "dept:health")
    with st.connect() as conn:
        assert not decide(conn, "dan", "quota.set", Scope(dept="health")).allowed
