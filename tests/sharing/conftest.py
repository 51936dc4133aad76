"""A store with the lab gateway imported (publications auto-approved), departments finance, tax and
health, the approval policy share-finance (owner, data-authority, security), reviewers holding
request.approve/reject, and the CLI run in-process as any operator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cloudctl.audit import Actor
from cloudctl.store import Store, open_store

REPO = Path(__file__).resolve().parents[2]
LAB_POLICY = REPO / "tests" / "gateway" / "policies" / "lab.yaml"
BOSS = Actor("boss", "pytest tests/sharing")
SHARE_POLICY = {"name": "share-finance", "deadline": "48h",
                "groups": [{"name": "owner", "members": ["fin-head", "fin-deputy"], "rule": "any"},
                           {"name": "data-authority", "members": ["data-office"], "rule": "any"},
                           {"name": "security", "members": ["sec-a", "sec-b"], "rule": "any"}]}
REVIEWERS = ("fin-head", "fin-deputy", "data-office", "sec-a", "sec-b")


@dataclass
class Result:
    code: int
    out: str
    err: str


def setup_sharing(store: Store, *, tier_kinds: list[str] | None = None) -> None:
    """What a share needs: departments, the stored gateway, the reviewers' policy and roles."""
    from cloudctl.approvals import set_policy
    from cloudctl.cloud.departments import create_department
    from cloudctl.gateway.policy import load_policy
    from cloudctl.gateway.stored import import_policy
    from cloudctl.ipam import create_pool
    from cloudctl.power import bootstrap, create_role, grant_role

    with store.begin() as conn:
        bootstrap(conn, BOSS.name, BOSS)
        create_pool(conn, "10.0.0.0/16", "departments", None, BOSS)
        set_policy(conn, {"name": "gateway", "groups": [{"name": "security", "members": ["sec-a"], "rule": "any"}],
                          "auto_approve": {"kinds": ["gateway-publication"]}}, BOSS)
        policy = dict(SHARE_POLICY)
        if tier_kinds:
            policy["auto_approve"] = {"kinds": tier_kinds}
        set_policy(conn, policy, BOSS)
        create_role(conn, "reviewer", ["request.approve", "request.reject"], BOSS)
        for who in REVIEWERS:
            grant_role(conn, "reviewer", who, BOSS)
    from cloudctl.divisions.importer import import_division_files

    import_division_files(store, [REPO / "tests" / "fixtures" / "divisions" / "provinces.csv"], BOSS)
    for code, name in (("finance", "财政厅"), ("tax", "税务局"), ("health", "卫健委")):
        create_department(store, BOSS, code=code, name=name, division="53")
    import_policy(store, BOSS, load_policy(LAB_POLICY), approval_policy="gateway")


@pytest.fixture
def shared(db_url: str) -> Iterator[tuple[Store, str]]:
    store = open_store(db_url)
    setup_sharing(store)
    yield store, db_url
    store.dispose()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], shared: tuple[Store, str]) -> Callable[..., Result]:
    """cloudctl --db URL --as OPERATOR ARGS..., in-process (stdin is not a terminal: --yes is needed)."""
    from cloudctl.cli.main import main

    def run(operator: str, *args: str) -> Result:
        capsys.readouterr()
        try:
            main(["--db", shared[1], "--as", operator, *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def as_json(result: Result) -> Any:
    import json

    assert result.code == 0, result.err
    return json.loads(result.out)
