"""Registering the hosts Ansible manages (gateways and agents), every change audited."""

from __future__ import annotations

import json
import re
from typing import Any

from cloudctl.audit import Actor, record_change
from cloudctl.automation.inventory import ManagedHost, host_from_row
from cloudctl.errors import InputError, NotFoundError

ROLES = ("gateway", "agent")
HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}$")
# Vars that cloudctl sets from columns; setting them as free vars would silently override.
RESERVED_VARS = ("ansible_host", "ansible_port", "ansible_user", "cloudctl_role", "cloudctl_division")


def validate_host(host: ManagedHost) -> None:
    """Names, roles, addresses, ports and division codes, each named in the error."""
    import netaddr

    if not HOST_NAME_RE.match(host.name):
        raise InputError(f"bad host name {host.name!r}", field="name",
                         hint="letters, digits, '.', '_' and '-', at most 63 characters")
    if host.role not in ROLES:
        raise InputError(f"unknown role {host.role!r}", field="role", hint=f"one of: {', '.join(ROLES)}")
    address = host.address.strip("[]")
    is_ip = netaddr.valid_ipv4(address, flags=netaddr.INET_PTON) or netaddr.valid_ipv6(address)
    if not is_ip and (not DNS_NAME_RE.match(address) or address.replace(".", "").isdigit()):
        raise InputError(f"bad management address {host.address!r}", field="address",
                         hint="an IPv4/IPv6 literal (e.g. 10.0.0.5) or a DNS name")
    if not 1 <= host.port <= 65535:
        raise InputError(f"port {host.port} is outside 1-65535", field="port")
    if host.division_code is not None and not re.fullmatch(r"\d{2}(\d{2}){0,2}(\d{3}){0,2}", host.division_code):
        raise InputError(f"bad division code {host.division_code!r}", field="division",
                         hint="2 (province), 4, 6, 9 or 12 digits, as in `cloudctl divisions`")
    clash = sorted(set(host.vars) & set(RESERVED_VARS))
    if clash:
        raise InputError(f"{', '.join(clash)} cannot be set as a var", field="var",
                         hint="use --address, --port, --user, --role and --division instead")


def _row_dict(host: ManagedHost) -> dict[str, Any]:
    return {"name": host.name, "role": host.role, "address": host.address, "port": host.port,
            "ssh_user": host.ssh_user, "division_code": host.division_code,
            "vars": json.dumps(dict(host.vars), sort_keys=True)}


def register_host(store: Any, actor: Actor, host: ManagedHost) -> str:
    """Add a host or update it; returns 'created', 'updated' or 'unchanged'."""
    from sqlalchemy import insert, select, update

    from cloudctl.audit.log import now_utc
    from cloudctl.store.tables.hosts import managed_host

    validate_host(host)
    values = _row_dict(host)
    with store.begin() as conn:
        old = conn.execute(select(managed_host).where(managed_host.c.name == host.name)).mappings().first()
        now = now_utc()
        if old is None:
            conn.execute(insert(managed_host).values(**values, created_at=now, updated_at=now))
            record_change(conn, actor, "host.register", "managed_host", host.name, None, values)
            return "created"
        before = {k: old[k] for k in values}
        if before == values:
            return "unchanged"
        conn.execute(update(managed_host).where(managed_host.c.name == host.name).values(**values, updated_at=now))
        record_change(conn, actor, "host.update", "managed_host", host.name, before, values)
        return "updated"


def remove_host(store: Any, actor: Actor, name: str) -> None:
    from sqlalchemy import delete, select

    from cloudctl.store.tables.hosts import managed_host

    with store.begin() as conn:
        old = conn.execute(select(managed_host).where(managed_host.c.name == name)).mappings().first()
        if old is None:
            raise NotFoundError(f"no managed host named {name!r}", field="NAME", hint="see `cloudctl inventory hosts`")
        conn.execute(delete(managed_host).where(managed_host.c.name == name))
        record_change(conn, actor, "host.remove", "managed_host", name, dict(old), None)


def get_host(conn: Any, name: str) -> ManagedHost | None:
    from sqlalchemy import select

    from cloudctl.store.tables.hosts import managed_host

    row = conn.execute(select(managed_host).where(managed_host.c.name == name)).mappings().first()
    return host_from_row(row) if row else None
