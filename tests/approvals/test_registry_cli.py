"""The power list and the CLI agree: every changing command of the groups this capability owns is
on the list, and every listed command of those groups exists."""

from __future__ import annotations

import importlib

import click

from cloudctl.cli.main import COMMANDS
from cloudctl.power import POWER_LIST

OWN_GROUPS = ("ipam", "request", "role", "power")
READ_ONLY = {
    "ipam show", "ipam free", "ipam list", "request list", "request show", "request policy list",
    "request delegations", "role list", "power list", "power check",
}
NOT_GUARDED = {"role bootstrap"}  # allowed only while nobody holds a role (docs/approvals.md)


def _walk(cmd: click.Command, path: str) -> list[str]:
    if isinstance(cmd, click.Group):
        return [p for name, sub in cmd.commands.items() for p in _walk(sub, f"{path} {name}")]
    return [path]


def test_every_changing_command_of_ours_is_on_the_power_list() -> None:
    listed = {c.removeprefix("cloudctl ") for p in POWER_LIST for c in p.commands}
    seen = []
    for group in OWN_GROUPS:
        module, attr = COMMANDS[group][0].split(":")
        seen += _walk(getattr(importlib.import_module(module), attr), group)
    changing = [c for c in seen if c not in READ_ONLY | NOT_GUARDED]
    assert changing, "no commands found"
    assert [c for c in changing if c not in listed] == []
    ours = {c for c in listed if c.split()[0] in OWN_GROUPS}
    assert sorted(ours - set(seen)) == []
