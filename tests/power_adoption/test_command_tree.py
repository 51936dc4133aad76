"""The adopted command groups and the power list agree: every command guarded with @requires names a registered
permission whose `command` is that very command, and every power-list entry of those groups names a command that
exists and is guarded with that permission."""

from __future__ import annotations

import importlib

import click

from cloudctl.cli.guard import permission_of
from cloudctl.cli.main import COMMANDS
from cloudctl.power import POWER_LIST, lookup
from tests.power_adoption.test_guarded_commands import ADOPTED_GROUPS


def _walk(name: str, command: click.Command) -> dict[str, click.Command]:
    out = {name: command}
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            out.update(_walk(f"{name} {sub_name}", sub))
    return out


def _tree() -> dict[str, click.Command]:
    tree: dict[str, click.Command] = {}
    for group in ADOPTED_GROUPS:
        module, attr = COMMANDS[group][0].split(":")
        tree.update(_walk(f"cloudctl {group}", getattr(importlib.import_module(module), attr)))
    return tree


def test_every_guarded_command_is_on_the_power_list_under_its_own_name() -> None:
    guarded = {path: permission_of(cmd) for path, cmd in _tree().items() if permission_of(cmd)}
    assert len(guarded) == 16
    for path, permission in guarded.items():
        registered = lookup(permission)
        assert registered is not None, f"{path} is guarded by {permission}, which is not on the power list"
        assert registered.command == path, (path, registered)


def test_every_power_list_entry_of_the_adopted_groups_guards_an_existing_command() -> None:
    tree = _tree()
    entries = [p for p in POWER_LIST if p.command.split()[1] in ADOPTED_GROUPS]
    assert entries
    for p in entries:
        assert p.command in tree, f"{p.name}: no command {p.command!r}"
        assert permission_of(tree[p.command]) == p.name, f"{p.command} is not guarded by {p.name}"


def test_read_only_commands_stay_unguarded() -> None:
    tree = _tree()
    for path in ("cloudctl links list", "cloudctl divisions show", "cloudctl coverage summary",
                 "cloudctl inventory hosts", "cloudctl gateway check", "cloudctl gateway history"):
        assert permission_of(tree[path]) is None, path
