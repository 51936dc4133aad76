"""Policies in the store: publications take effect only once approved, in the approved version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cloudctl.approvals import cast_vote, set_policy
from cloudctl.audit import Actor
from cloudctl.gateway.compile import compile_ruleset
from cloudctl.gateway.stored import import_policy, list_publications, load_stored_policy
from cloudctl.store.tables.core import audit_log
from tests.gateway.conftest import AT

APPROVERS = {"name": "gateway", "deadline": "72h",
             "groups": [{"name": "security", "members": ["sec1", "sec2"], "rule": "any"},
                        {"name": "network", "members": ["net1"], "rule": "all"}]}


def _approve(store, request_id: int) -> None:
    with store.begin() as conn:
        cast_vote(conn, Actor("sec1"), request_id, "approve", None)
        cast_vote(conn, Actor("net1"), request_id, "approve", None)


def test_import_approve_compile(store, make_policy, lab_dict):
    operator = Actor("alice")
    with store.begin() as conn:
        set_policy(conn, APPROVERS, operator)
    policy = make_policy(lab_dict)
    result = import_policy(store, operator, policy)
    assert [r["name"] for r in result.requested] == [p.name for p in policy.publications]
    assert {r["status"] for r in result.requested} == {"pending"}

    # Nothing approved yet: the stored policy publishes nothing.
    assert load_stored_policy(store, "gw-lab").publications == []
    ids = {r["name"]: r["request_id"] for r in result.requested}
    _approve(store, ids["citizen-https"])
    stored = load_stored_policy(store, "gw-lab")
    assert [p.name for p in stored.publications] == ["citizen-https"]
    ruleset = compile_ruleset(stored, AT)
    assert "pub_citizen-https" in ruleset and "pub_fin-https" not in ruleset

    # Re-import unchanged: no new request. Change one: a new request, and it stops until approved.
    again = import_policy(store, operator, make_policy(lab_dict))
    assert again.requested == [] and len(again.unchanged) == len(policy.publications)
    lab_dict["publications"][0]["ports"] = [443, 8080]
    changed = import_policy(store, operator, make_policy(lab_dict))
    assert [r["name"] for r in changed.requested] == ["citizen-https"]
    assert load_stored_policy(store, "gw-lab").publications == []
    _approve(store, changed.requested[0]["request_id"])
    assert load_stored_policy(store, "gw-lab").publications[0].ports == [443, 8080]

    # Removing a publication from the file withdraws it at once.
    lab_dict["publications"].pop(0)
    removed = import_policy(store, operator, make_policy(lab_dict))
    assert removed.withdrawn == ["citizen-https"]
    assert [p["name"] for p in list_publications(store, "gw-lab")][:1] == ["citizen-dns"]
    assert load_stored_policy(store, "gw-lab").publications == []

    with store.connect() as conn:
        actions = conn.execute(select(audit_log.c.action).where(audit_log.c.action == "gateway.import")).all()
    assert len(actions) == 4  # one summarising record per import


def test_rejected_publication_never_takes_effect(store, make_policy, lab_dict):
    with store.begin() as conn:
        set_policy(conn, APPROVERS, Actor("alice"))
    result = import_policy(store, Actor("alice"), make_policy(lab_dict), now=dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    rid = result.requested[0]["request_id"]
    with store.begin() as conn:
        cast_vote(conn, Actor("sec2"), rid, "reject", "not justified")
    statuses = {p["name"]: p["status"] for p in list_publications(store, "gw-lab")}
    assert statuses["citizen-https"] == "rejected" and statuses["fin-https"] == "pending"
    assert load_stored_policy(store, "gw-lab").publications == []


def test_cli_import_and_compile_by_name(tmp_path, write_policy, lab_dict):
    import json
    import subprocess
    import sys

    from cloudctl.store import open_store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    from cloudctl.power import bootstrap

    with open_store(url).begin() as conn:
        set_policy(conn, APPROVERS, Actor("alice"))
        bootstrap(conn, "alice", Actor("alice"))  # alice is the store's admin (the power list guards the CLI)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cloudctl", "--db", url, "--as", "alice", "gateway", *args],
                              capture_output=True, text=True, timeout=120)

    r = cli("import", str(write_policy(lab_dict)), "--format", "json")
    assert r.returncode == 0, r.stderr
    rid = next(row["request"] for row in json.loads(r.stdout) if row["publication"] == "fin-https")
    _approve(open_store(url), rid)
    r = cli("compile", "gw-lab", "--at", "2026-11-28")
    assert r.returncode == 0, r.stderr
    assert "pub_fin-https" in r.stdout and "pub_citizen-https" not in r.stdout
    r = cli("publications", "gw-lab", "--format", "csv")
    assert "fin-https" in r.stdout and "approved" in r.stdout
    r = cli("compile", "gw-nowhere")
    assert r.returncode == 2 and "no stored gateway" in r.stderr
