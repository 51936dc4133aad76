"""Every command of the tree, walked from cloudctl's root group (not from a hand-kept list of names):

- each command is exactly one of: an action (mutating, on the power list), read-only, a service, the bootstrap;
- each action names a registered permission whose command is that very command, and every permission on the
  power list is used by some command;
- a denied call exits 1, leaves exactly one power.deny record, whose scope has the kinds the registry gives
  that permission, and changes nothing else;
- an operator granted the permission only for the sample's department or region gets past the power list;
- invalid input exits 2 before authorization: no decision is recorded, nothing changes;
- a destructive command without --yes, stdin not a terminal, exits 2 naming --yes, before authorization.

SAMPLES gives, per action command, arguments that reach the power list (valid, naming existing objects in the
seeded store) and arguments that must not (invalid). A command added to the tree without samples fails
`test_every_action_command_has_samples`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import click
import pytest

from cloudctl import clock
from cloudctl.cli.main import COMMANDS
from cloudctl.cli.perform import action_of, is_bootstrap, is_read_only, is_service
from cloudctl.power import POWER_LIST, create_role, grant_role, lookup
from tests.actions.conftest import (
    BOSS,
    DIVISIONS,
    GATEWAY_POLICY,
    REGION,
    TOWNSHIP,
    Seeded,
    audit_count,
    audit_rows,
    snapshot,
)

Args = Callable[[Seeded], list[str]]
REQ = lambda s: str(s.ids["request"])  # noqa: E731
SOON = (clock.current().today() + timedelta(days=400)).isoformat()  # a share's last day, ahead
PROBE = ["--name", "p9", "--kind", "tcp", "--target", "192.0.2.1:22", "--link", "L-11-1"]

# command -> (valid args: reach the power list, invalid args: refused before it)
SAMPLES: dict[str, tuple[Args, Args | None]] = {
    "cloudctl init": (lambda s: [], None),
    "cloudctl demo": (lambda s: ["--out", str(s.tmp / "demo")], lambda s: ["--as-of", "20190501"]),
    "cloudctl settings set": (lambda s: ["timezone", "Asia/Urumqi"], lambda s: ["timezone", "Mars/Olympus"]),
    "cloudctl divisions import": (lambda s: [str(DIVISIONS / "provinces.csv")],
                                  lambda s: [str(s.tmp / "bad-links.csv")]),
    "cloudctl links import": (lambda s: [str(s.tmp / "links.csv")], lambda s: [str(s.tmp / "bad-links.csv")]),
    "cloudctl links add": (lambda s: ["--id", "L-11-9", "--division", TOWNSHIP, "--type", "fiber", "--bandwidth", "10",
                                      "--activated", "2016-03-01"],
                           lambda s: ["--id", "L-11-9", "--division", "510104001", "--type", "fiber", "--bandwidth",
                                      "10", "--activated", "2016-03-01"]),
    "cloudctl links retire": (lambda s: ["L-11-1", "--yes"], lambda s: ["L-11-1", "--on", "2019-02-30", "--yes"]),
    "cloudctl coverage target set": (lambda s: ["--level", "township", "--ratio", "0.6", "--by", "2027-12-31",
                                                "--region", REGION],
                                     lambda s: ["--level", "township", "--ratio", "1.5", "--by", "2027-12-31"]),
    "cloudctl dept create": (lambda s: ["税务局", "--code", "tax", "--division", REGION],
                             lambda s: ["税务局", "--code", "Tax Office", "--division", REGION]),
    "cloudctl dept retire": (lambda s: ["finance", "--yes"], lambda s: ["nosuchdept", "--yes"]),
    "cloudctl dept member add": (lambda s: ["finance", "alice"], lambda s: ["finance", "Alice!"]),
    "cloudctl dept member remove": (lambda s: ["finance", "bob", "--yes"], lambda s: ["finance", "Bob!", "--yes"]),
    "cloudctl cloud apply": (lambda s: ["--dept", "finance"], lambda s: ["--dept", "finance", "--workers", "0"]),
    "cloudctl cloud set": (lambda s: ["subnet_length", "24"], lambda s: ["no_such_setting", "1"]),
    "cloudctl pool overcommit": (lambda s: ["--vcpu", "4"], lambda s: ["--vcpu", "-1"]),
    "cloudctl quota set": (lambda s: ["finance", "--vcpus", "40"], lambda s: ["finance"]),
    "cloudctl ipam pool add": (lambda s: ["10.1.0.0/16", "--name", "extra"],
                               lambda s: ["10.1.0.0/33", "--name", "extra"]),
    "cloudctl ipam pool remove": (lambda s: ["departments", "--yes"], lambda s: ["no-such-pool", "--yes"]),
    "cloudctl ipam allocate": (lambda s: ["--pool", "departments", "--length", "24", "--for", "dept:x"],
                               lambda s: ["--pool", "departments", "--length", "0", "--for", "dept:x"]),
    "cloudctl ipam reserve": (lambda s: ["10.0.200.0/24", "--reason", "gateway"],
                              lambda s: ["10.0.200.1", "--reason", "gateway"]),
    "cloudctl ipam release": (lambda s: ["--for", "dept:finance", "--yes"], lambda s: ["--yes"]),
    "cloudctl request create": (lambda s: ["--kind", "quota-increase", "--payload", '{"vcpus": 8}', "--policy",
                                           "standard", "--region", REGION],
                                lambda s: ["--kind", "quota-increase", "--payload", '{"vcpus": -100}', "--policy",
                                           "standard", "--region", REGION]),
    "cloudctl request quota": (lambda s: ["--dept", "finance", "--policy", "standard", "--vcpus", "8"],
                               lambda s: ["--dept", "nosuchdept", "--policy", "standard", "--vcpus", "8"]),
    "cloudctl request server": (lambda s: ["--dept", "finance", "--policy", "standard", "--flavor", "m1.tiny",
                                           "--image", "img"],
                                lambda s: ["--dept", "finance", "--policy", "standard", "--flavor", "m1.tiny",
                                           "--image", "img", "--count", "0"]),
    "cloudctl request volume": (lambda s: ["--dept", "finance", "--policy", "standard", "--size", "10"],
                                lambda s: ["--dept", "finance", "--policy", "standard", "--size", "0"]),
    "cloudctl request approve": (lambda s: [REQ(s)], lambda s: ["99999999999999999999"]),
    "cloudctl request reject": (lambda s: [REQ(s), "--reason", "no budget"], lambda s: ["0", "--reason", "x"]),
    "cloudctl request withdraw": (lambda s: [REQ(s), "--yes"], lambda s: ["-3", "--yes"]),
    "cloudctl request sweep": (lambda s: [], lambda s: ["--now", "yesterday"]),
    "cloudctl request apply": (lambda s: [REQ(s)], lambda s: ["12345678"]),
    "cloudctl request policy set": (lambda s: [str(s.tmp / "policy.yaml")],
                                    lambda s: [str(s.tmp / "bad-policy.yaml")]),
    "cloudctl request delegate": (lambda s: ["--to", "deputy", "--until", "2099-01-01"],
                                  lambda s: ["--to", "deputy", "--until", "soon"]),
    "cloudctl role create": (lambda s: ["linker", "--allow", "links.*"],
                             lambda s: ["linker", "--allow", "links.fly"]),
    "cloudctl role delete": (lambda s: ["viewer", "--yes"], lambda s: ["admin", "--yes"]),
    "cloudctl role grant": (lambda s: ["viewer", "dave", "--region", REGION],
                            lambda s: ["viewer", "dave", "--region", REGION, "--dept", "finance"]),
    "cloudctl role revoke": (lambda s: ["viewer", "carol", "--region", REGION, "--yes"],
                             lambda s: ["viewer", "carol", "--region", "52", "--yes"]),
    "cloudctl idle reclaim": (lambda s: ["--dept", "finance", "--yes"], lambda s: ["--dept", "finance", "--yes",
                                                                                    "--now", "noon"]),
    "cloudctl idle extend": (lambda s: ["srv-idle-1", "--days", "3"], lambda s: ["srv-idle-1", "--days", "0"]),
    "cloudctl gateway import": (lambda s: [str(GATEWAY_POLICY)], lambda s: [str(s.tmp / "bad-gateway.yaml")]),
    "cloudctl gateway deploy": (lambda s: [str(GATEWAY_POLICY), "--check"],
                                lambda s: [str(GATEWAY_POLICY), "--at", "20190501"]),
    "cloudctl gateway confirm": (lambda s: ["gw-lab"], lambda s: ["h0"]),
    "cloudctl inventory add": (lambda s: ["h1", "--role", "agent", "--address", "192.0.2.11", "--division", REGION],
                               lambda s: ["h1", "--role", "agent", "--address", "not an address"]),
    "cloudctl inventory remove": (lambda s: ["h0", "--yes"], lambda s: ["no-such-host", "--yes"]),
    "cloudctl run": (lambda s: ["site", "--check"], lambda s: ["no-such-playbook"]),
    "cloudctl agent enroll": (lambda s: ["--division", TOWNSHIP, "--role", "access"],
                              lambda s: ["--division", TOWNSHIP, "--role", "access", "--ttl", "9999999999d"]),
    "cloudctl agent revoke": (lambda s: [s.ids["agent"], "--yes"], lambda s: ["ag-none", "--yes"]),
    "cloudctl agent probe add": (lambda s: ["--division", TOWNSHIP, *PROBE],
                                 lambda s: ["--division", TOWNSHIP, *PROBE[:-2], "--link", "L-99"]),
    "cloudctl agent probe remove": (lambda s: ["--division", TOWNSHIP, "--name", "p1", "--yes"],
                                    lambda s: ["--division", TOWNSHIP, "--name", "p404", "--yes"]),
    "cloudctl agent probe import": (lambda s: [str(s.tmp / "probes.yaml")],
                                    lambda s: [str(s.tmp / "bad-probes.yaml")]),
    "cloudctl share resource add": (lambda s: ["fin-push-data", "--dept", "finance", "--gateway", "gw-share",
                                               "--service", "fin-push", "--class", "open", "--policy",
                                               "share-finance"],
                                    lambda s: ["tax-data", "--dept", "finance", "--gateway", "gw-share", "--service",
                                               "tax-api", "--class", "open", "--policy", "share-finance"]),
    "cloudctl share resource retire": (lambda s: ["fin-payments", "--yes"], lambda s: ["no-such-resource", "--yes"]),
    "cloudctl share request": (lambda s: ["fin-payments", "--dept", "health", "--purpose", "audit", "--until", SOON],
                               lambda s: ["fin-payments", "--dept", "health", "--purpose", "audit", "--until",
                                          "2001-01-01"]),
    "cloudctl share revoke": (lambda s: [str(s.ids["share"]), "--reason", "done", "--yes"],
                              lambda s: ["0", "--reason", "done", "--yes"]),
    "cloudctl serve token": (lambda s: [], lambda s: ["--ttl", "9999999999d"]),
    "cloudctl audit checkpoint": (lambda s: ["--key", str(s.tmp / "audit.key"), "--checkpoint-file",
                                             str(s.tmp / "checkpoints.jsonl")],
                                  lambda s: ["--key", str(s.tmp / "open.key"), "--checkpoint-file",
                                             str(s.tmp / "checkpoints.jsonl")]),
}


def _walk(path: str, command: click.Command) -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        if command.invoke_without_command:
            yield path, command
        for name, sub in command.commands.items():
            yield from _walk(f"{path} {name}", sub)
    else:
        yield path, command


def tree() -> dict[str, click.Command]:
    out: dict[str, click.Command] = {}
    for name, (target, _help) in COMMANDS.items():
        module, attr = target.split(":")
        out.update(_walk(f"cloudctl {name}", getattr(importlib.import_module(module), attr)))
    return out


TREE = tree()
ACTIONS = {path: action_of(cmd) for path, cmd in TREE.items() if action_of(cmd) is not None}


def test_every_command_is_exactly_one_kind() -> None:
    for path, cmd in TREE.items():
        kinds = [k for k, holds in (("action", action_of(cmd) is not None), ("read-only", is_read_only(cmd)),
                                    ("service", is_service(cmd)), ("bootstrap", is_bootstrap(cmd))) if holds]
        assert len(kinds) == 1, f"{path}: {kinds or 'unmarked'}"
    assert len(ACTIONS) >= 50


def test_actions_and_the_power_list_agree() -> None:
    used = set()
    for path, action in ACTIONS.items():
        registered = lookup(action.name)
        assert registered is not None, f"{path} performs {action.name}, which is not on the power list"
        assert path in registered.commands, f"{action.name} does not list {path} among its commands"
        used.add(action.name)
    assert {p.name for p in POWER_LIST} - used == set(), "permissions no command uses"


def test_every_action_command_has_samples() -> None:
    assert set(ACTIONS) == set(SAMPLES)


def _decisions(seeded: Seeded, since: int) -> list[Any]:
    return [r for r in audit_rows(seeded.store)[since:] if r.action.startswith("power.")]


@pytest.mark.parametrize("path", sorted(SAMPLES))
def test_denied_changes_nothing_but_one_audited_denial(path: str, seeded: Seeded, run_as) -> None:
    action = ACTIONS[path]
    args = [*path.split()[1:], *SAMPLES[path][0](seeded)]
    before, n = snapshot(seeded.store), audit_count(seeded.store)
    r = run_as("mallory", *args)
    assert r.code == 1, (r.code, r.err)
    assert f"'mallory' may not {action.name}" in r.err and "Traceback" not in r.err
    assert snapshot(seeded.store) == before
    new = audit_rows(seeded.store)[n:]
    assert [(x.action, x.object_id, x.actor) for x in new] == [("power.deny", action.name, "mallory")]
    scope = json.loads(new[0].after)["scope"]
    registered = lookup(action.name)
    assert set(scope) <= set(registered.scopes), (path, scope, registered.scopes)
    if registered.scopes:  # every sample names its department or region: the decision must be scoped
        assert scope, f"{path}: {action.name} is {registered.scopes}-scoped but was checked unscoped"


@pytest.mark.parametrize("path", sorted(p for p in SAMPLES if lookup(ACTIONS[p].name).scopes))
def test_a_grant_for_the_samples_scope_is_enough(path: str, seeded: Seeded, run_as) -> None:
    """The scopes defect: links.* for region 11 must cover a retire and an import in region 11."""
    action = ACTIONS[path]
    args = [*path.split()[1:], *SAMPLES[path][0](seeded)]
    n = audit_count(seeded.store)
    run_as("mallory", *args)
    scope = json.loads(audit_rows(seeded.store)[n].after)["scope"]
    kind = "dept" if "dept" in scope else "region"
    with seeded.store.begin() as conn:
        create_role(conn, "just-this", [action.name], BOSS)
        grant_role(conn, "just-this", "op", BOSS, f"{kind}:{scope[kind]}")
    n = audit_count(seeded.store)
    r = run_as("op", *args)
    assert [(x.action, x.object_id) for x in _decisions(seeded, n)][:1] == [("power.allow", action.name)], r.err


@pytest.mark.parametrize("path", sorted(p for p in SAMPLES if SAMPLES[p][1] is not None))
def test_invalid_input_is_refused_before_authorization(path: str, seeded: Seeded, run_as) -> None:
    bad = SAMPLES[path][1]
    assert bad is not None
    args = [*path.split()[1:], *bad(seeded)]
    before, n = snapshot(seeded.store), audit_count(seeded.store)
    for who in ("mallory", "boss"):  # the same answer whoever asks
        r = run_as(who, *args)
        assert r.code == 2, (who, r.code, r.err)
        assert "may not" not in r.err and "Traceback" not in r.err and "unexpected" not in r.err
    assert audit_count(seeded.store) == n and snapshot(seeded.store) == before


DESTRUCTIVE = sorted(p for p, a in ACTIONS.items() if a.destructive)


def test_the_destructive_commands_take_yes() -> None:
    for path in ("cloudctl role delete", "cloudctl role revoke", "cloudctl links retire", "cloudctl inventory remove",
                 "cloudctl agent revoke", "cloudctl dept member remove", "cloudctl request withdraw",
                 "cloudctl dept retire", "cloudctl agent probe remove", "cloudctl ipam pool remove",
                 "cloudctl ipam release", "cloudctl idle reclaim"):
        assert path in DESTRUCTIVE, path
        assert any(p.name == "yes" for p in TREE[path].params), f"{path} has no --yes"


@pytest.mark.parametrize("path", DESTRUCTIVE)
def test_destructive_needs_yes_in_a_pipe(path: str, seeded: Seeded, run_as) -> None:
    sample = SAMPLES[path][0](seeded)
    assert "--yes" in sample, f"{path}: the samples of a destructive command confirm with --yes"
    args = [*path.split()[1:], *(a for a in sample if a != "--yes")]
    before, n = snapshot(seeded.store), audit_count(seeded.store)
    r = run_as("boss", *args)
    assert r.code == 2 and "--yes" in r.err, r.err
    assert audit_count(seeded.store) == n and snapshot(seeded.store) == before
