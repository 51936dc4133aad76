"""Every permission of the adopted command groups, end to end through the CLI: an operator without the grant is
denied (exit 1, nothing changed, exactly one new audit record: the denial) and, once granted a role allowing just
that permission, is let through (the allowed decision is audited and the command runs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudctl.power import POWER_LIST, create_role, grant_role
from cloudctl.store import Store
from tests.power_adoption.conftest import BOSS, GATEWAY_POLICY, audit_count, audit_rows, snapshot

ADOPTED_GROUPS = ("init", "demo", "divisions", "links", "coverage", "gateway", "inventory", "run", "agent", "serve")


def _write_links(tmp: Path) -> str:
    path = tmp / "links.csv"
    path.write_text("link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider\n"
                    "L-53-9,53,fiber,100,2015-01-01,,telecom\n", encoding="utf-8")
    return str(path)


def _stored(store: Store, sql: str) -> Any:
    from sqlalchemy import text

    with store.connect() as conn:
        return conn.execute(text(sql)).scalar()


# permission -> (CLI args built from tmp_path, what must hold afterwards when allowed: None = the command
# succeeded (exit 0); otherwise the expected exit code of a command that got past the guard and then failed
# on its own terms, e.g. deploying a gateway that has no stored policy; 1000 = succeeded without changing the
# store: a check-mode playbook run on an inventory with no hosts)
SCENARIOS: dict[str, tuple[Callable[[Path], list[str]], int]] = {
    "store.init": (lambda t: ["init", "--format", "json"], 0),
    "demo.load": (lambda t: ["demo", "--out", str(t / "demo"), "--format", "json"], 0),
    "divisions.import": (lambda t: ["divisions", "import", str(Path(__file__).parents[1] / "fixtures" / "divisions"
                                                                / "provinces.csv"), "--format", "json"], 0),
    "links.import": (lambda t: ["links", "import", _write_links(t), "--format", "json"], 0),
    "links.add": (lambda t: ["links", "add", "--id", "L-53-2", "--division", "53", "--type", "fiber",
                             "--bandwidth", "50", "--activated", "2016-03-01"], 0),
    "links.retire": (lambda t: ["links", "retire", "L-53-1", "--on", "2020-01-01"], 0),
    "coverage.target.set": (lambda t: ["coverage", "target", "set", "--level", "township", "--ratio", "0.9",
                                       "--by", "2027-12-31", "--region", "53"], 0),
    "gateway.import": (lambda t: ["gateway", "import", str(GATEWAY_POLICY), "--format", "json"], 0),
    "gateway.deploy": (lambda t: ["gateway", "deploy", "gw-none", "--check"], -1),
    "gateway.confirm": (lambda t: ["gateway", "confirm", "gw-none"], -1),
    "inventory.host.add": (lambda t: ["inventory", "add", "h1", "--role", "agent", "--address", "192.0.2.11"], 0),
    "inventory.host.remove": (lambda t: ["inventory", "remove", "h0"], 0),
    "run.playbook": (lambda t: ["run", "site", "-i", str(t / "no-hosts.ini"), "--check"], 1000),
    "agent.enroll": (lambda t: ["agent", "enroll", "--division", "53", "--role", "access", "--format", "json"], 0),
    "agent.revoke": (lambda t: ["agent", "revoke", "ag-none"], -1),
    "serve.token": (lambda t: ["serve", "token", "--format", "json"], 0),
}


def test_every_adopted_permission_has_a_scenario() -> None:
    adopted = {p.name for p in POWER_LIST if p.command.split()[1] in ADOPTED_GROUPS}
    assert adopted == set(SCENARIOS)


@pytest.mark.parametrize("permission", sorted(SCENARIOS))
def test_denied_without_the_grant_and_allowed_with_it(permission: str, seeded: Store, run_as, tmp_path: Path) -> None:
    assert run_as("boss", "links", "add", "--id", "L-53-1", "--division", "53", "--type", "fiber",
                  "--bandwidth", "10", "--activated", "2014-01-01").code == 0
    (tmp_path / "no-hosts.ini").write_text("[nobody]\n", encoding="utf-8")
    others = sorted(set(SCENARIOS) - {permission})
    with seeded.begin() as conn:  # op may do every other adopted thing, just not this one
        create_role(conn, "all-but-this", others, BOSS)
        grant_role(conn, "all-but-this", "op", BOSS)
    args = SCENARIOS[permission][0](tmp_path)

    before, n_audit = snapshot(seeded), audit_count(seeded)
    denied = run_as("op", *args)
    assert denied.code == 1, denied.err
    assert f"'op' may not {permission}" in denied.err and "Traceback" not in denied.err
    assert snapshot(seeded) == before
    new = audit_rows(seeded)[n_audit:]
    assert [(r.action, r.object_id, r.actor) for r in new] == [("power.deny", permission, "op")]
    assert not (tmp_path / "demo").exists()

    with seeded.begin() as conn:
        create_role(conn, "just-this", [permission], BOSS)
        grant_role(conn, "just-this", "op", BOSS)
    n_audit = audit_count(seeded)
    allowed = run_as("op", *args)
    decisions = [r for r in audit_rows(seeded)[n_audit:] if r.action.startswith("power.")]
    assert [(r.action, r.object_id) for r in decisions] == [("power.allow", permission)]
    assert "may not" not in allowed.err
    expected = SCENARIOS[permission][1]
    if expected == 1000:
        assert allowed.code == 0, allowed.err
    elif expected == 0:
        assert allowed.code == 0, allowed.err
        assert snapshot(seeded) != before or permission == "divisions.import"  # provinces were already there
    else:
        assert allowed.code in (1, 2), allowed.err  # past the guard, failed on its own terms


def test_links_add_is_scoped_by_the_division(seeded: Store, run_as) -> None:
    with seeded.begin() as conn:
        create_role(conn, "linker", ["links.add"], BOSS)
        grant_role(conn, "linker", "op", BOSS, "region:53")
    add = ["links", "add", "--type", "fiber", "--bandwidth", "10", "--activated", "2014-01-01"]
    assert run_as("op", *add, "--id", "L-53-1", "--division", "53").code == 0
    other = run_as("op", *add, "--id", "L-11-1", "--division", "11")
    assert other.code == 1 and "region 11" in other.err
    assert _stored(seeded, "SELECT count(*) FROM link") == 1
    last = audit_rows(seeded)[-1]
    assert last.action == "power.deny" and json.loads(last.after)["scope"] == {"region": "11"}


def test_agent_revoke_is_scoped_by_the_agents_division(seeded: Store, run_as) -> None:
    from cloudctl.api.registry import create_enrolment

    yunnan, beijing = (create_enrolment(seeded, BOSS, code, "access").agent_id for code in ("53", "11"))
    with seeded.begin() as conn:
        create_role(conn, "agent-keeper", ["agent.revoke"], BOSS)
        grant_role(conn, "agent-keeper", "op", BOSS, "region:53")
    assert run_as("op", "agent", "revoke", yunnan).code == 0
    other = run_as("op", "agent", "revoke", beijing)
    assert other.code == 1 and "region 11" in other.err
    states = dict(_stored_rows(seeded, "SELECT agent_id, state FROM agent"))
    assert states == {yunnan: "revoked", beijing: "pending"}


def _stored_rows(store: Store, sql: str) -> list[Any]:
    from sqlalchemy import text

    with store.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]
