"""The Ansible dynamic inventory, built from the managed hosts in the store.

Groups: `gateways` and `agents` by role, and one group per administrative level of the
host's division code — `province_11`, `prefecture_1101`, `county_110101` — so a playbook can
be limited to a region (`--limit province_11`). Division codes are strings, cut by prefix
(2 / 4 / 6 digits), never parsed as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ROLE_GROUPS = {"gateway": "gateways", "agent": "agents"}
LEVEL_PREFIXES = (("province", 2), ("prefecture", 4), ("county", 6))


@dataclass(frozen=True)
class ManagedHost:
    name: str
    role: str
    address: str
    port: int = 22
    ssh_user: str = "root"
    division_code: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    division_name: str | None = None

    def hostvars(self) -> dict[str, Any]:
        hv: dict[str, Any] = {"ansible_host": self.address, "ansible_port": self.port,
                              "ansible_user": self.ssh_user, "cloudctl_role": self.role}
        if self.division_code:
            hv["cloudctl_division"] = self.division_code
        if self.division_name:
            hv["cloudctl_division_name"] = self.division_name
        hv.update(self.vars)
        return hv


def division_groups(code: str | None) -> list[str]:
    """The region groups of a division code: province, prefecture and county, as deep as it goes."""
    if not code:
        return []
    return [f"{level}_{code[:n]}" for level, n in LEVEL_PREFIXES if len(code) >= n]


def build_inventory(hosts: Iterable[ManagedHost]) -> dict[str, Any]:
    """Ansible's JSON inventory (the `--list` shape, with _meta.hostvars so --host is never called)."""
    groups: dict[str, list[str]] = {"gateways": [], "agents": []}
    hostvars: dict[str, dict[str, Any]] = {}
    for host in sorted(hosts, key=lambda h: h.name):
        hostvars[host.name] = host.hostvars()
        groups.setdefault(ROLE_GROUPS.get(host.role, f"{host.role}s"), []).append(host.name)
        for group in division_groups(host.division_code):
            groups.setdefault(group, []).append(host.name)
    inventory: dict[str, Any] = {"_meta": {"hostvars": hostvars},
                                 "all": {"children": ["ungrouped", *sorted(groups)]}}
    for name in sorted(groups):
        inventory[name] = {"hosts": groups[name]}
    return inventory


def as_yaml_inventory(inventory: dict[str, Any]) -> dict[str, Any]:
    """The `--list` shape turned into the YAML inventory shape (what ansible-runner writes to a file)."""
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    children = {name: {"hosts": {h: {} for h in group.get("hosts", [])}}
                for name, group in inventory.items() if name not in ("_meta", "all") and isinstance(group, dict)}
    return {"all": {"hosts": {h: dict(v) for h, v in hostvars.items()}, "children": children}}


def host_from_row(row: Mapping[str, Any], division_name: str | None = None) -> ManagedHost:
    return ManagedHost(name=row["name"], role=row["role"], address=row["address"], port=int(row["port"]),
                       ssh_user=row["ssh_user"], division_code=row["division_code"],
                       vars=json.loads(row["vars"] or "{}"), division_name=division_name)


def load_hosts(conn: Any, names: Iterable[str] | None = None) -> list[ManagedHost]:
    """Managed hosts from the store, with their division names when the registry has them."""
    from sqlalchemy import select

    from cloudctl.store.tables.divisions import division
    from cloudctl.store.tables.hosts import managed_host

    query = select(managed_host, division.c.name.label("division_name")).outerjoin(
        division, division.c.code == managed_host.c.division_code).order_by(managed_host.c.name)
    if names is not None:
        query = query.where(managed_host.c.name.in_(list(names)))
    return [host_from_row(row._mapping, row.division_name) for row in conn.execute(query)]


def inventory_from_store(conn: Any, names: Iterable[str] | None = None) -> dict[str, Any]:
    return build_inventory(load_hosts(conn, names))
