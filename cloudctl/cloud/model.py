"""Plain data for the shared cloud: desired departments, what OpenStack holds, planned actions.

Naming and tagging rules (how cloudctl recognises what it owns, and why a rerun after a crash
never duplicates anything):
- project ``dept-<code>`` tagged ``cloudctl-managed`` and ``cloudctl-dept-<code>``; only tagged
  projects are ever touched.
- users ``<code>.<username>`` whose description starts with ``cloudctl-managed``.
- inside an owned project: network ``dept-<code>-net``, subnet ``dept-<code>-subnet``, router
  ``dept-<code>-router``, security group ``dept-<code>-baseline``, each with the description
  ``cloudctl-managed dept=<code>`` (set in the create request itself: Neutron cannot tag at
  creation, so a tag would leave a window in which the object exists unmarked). Anything else in
  the project (another network, the ``default`` security group) is not cloudctl's and is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MANAGED_TAG = "cloudctl-managed"
USER_MARKER = "cloudctl-managed"

# CLI/store quota name -> (service, OpenStack quota key)
QUOTA_KEYS: dict[str, tuple[str, str]] = {
    "vcpus": ("compute", "cores"),
    "ram": ("compute", "ram"),
    "instances": ("compute", "instances"),
    "volumes": ("volume", "volumes"),
    "gigabytes": ("volume", "gigabytes"),
    "networks": ("network", "network"),
    "subnets": ("network", "subnet"),
    "routers": ("network", "router"),
    "ports": ("network", "port"),
    "floating_ips": ("network", "floatingip"),
    "security_groups": ("network", "security_group"),
}
DEFAULT_QUOTAS: dict[str, int] = {
    "vcpus": 20, "ram": 51200, "instances": 10, "volumes": 10, "gigabytes": 500,
    "networks": 5, "subnets": 10, "routers": 2, "ports": 100, "floating_ips": 5, "security_groups": 10,
}
ROLES = ("admin", "member", "reader")


def dept_tag(code: str) -> str:
    return f"cloudctl-dept-{code}"


def resource_marker(code: str) -> str:
    """The description cloudctl gives the network objects it creates for a department."""
    return f"{MANAGED_TAG} dept={code}"


def project_name(code: str) -> str:
    return f"dept-{code}"


def resource_name(code: str, kind: str) -> str:
    suffix = {"network": "net", "subnet": "subnet", "router": "router", "security_group": "baseline"}[kind]
    return f"dept-{code}-{suffix}"


def user_name(code: str, username: str) -> str:
    return f"{code}.{username}"


@dataclass(frozen=True)
class Rule:
    """A security group rule, in the fields that matter for comparing."""

    direction: str
    protocol: str | None
    port_min: int | None
    port_max: int | None
    remote_ip_prefix: str | None
    ethertype: str = "IPv4"


def baseline_rules(cidr: str | None) -> frozenset[Rule]:
    """The baseline: ping from anywhere, SSH from the department's own subnet."""
    rules = {Rule("ingress", "icmp", None, None, "0.0.0.0/0")}
    if cidr:
        rules.add(Rule("ingress", "tcp", 22, 22, cidr))
    return frozenset(rules)


@dataclass(frozen=True)
class DesiredDept:
    code: str
    name: str
    status: str  # active | retired
    cidr: str | None
    quotas: dict[str, int] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)  # username -> role


@dataclass
class ObservedProject:
    id: str
    name: str
    tags: list[str]
    description: str = ""


@dataclass
class ObservedDept:
    """What OpenStack holds for one department (None/empty = missing)."""

    project: ObservedProject | None = None
    network: dict[str, Any] | None = None  # id, name, description
    subnet: dict[str, Any] | None = None  # id, name, cidr, network_id, description
    router: dict[str, Any] | None = None  # id, name, external_network_id, subnet_ids, description
    security_group: dict[str, Any] | None = None  # id, name, rules: {Rule: rule_id}, description
    quotas: dict[str, int] = field(default_factory=dict)  # CLI names
    members: dict[str, str] = field(default_factory=dict)  # username -> role (assigned on the project)
    users: dict[str, str] = field(default_factory=dict)  # username -> user id (existing users)
    foreign: int = 0  # resources in the project that cloudctl did not create
    # extra objects carrying cloudctl's name in the project: (kind, id). A create that reached the
    # cloud only after its retry (a request delayed past the client's timeout) makes one.
    duplicates: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Observed:
    depts: dict[str, ObservedDept]
    external_network_id: str | None = None
    role_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """One change to OpenStack. `kind`: project, user, role, quota, network, subnet, router,
    router_interface, router_gateway, security_group, rule, <network kind>_description (the
    ownership mark put back), duplicate_<network kind>. `op`: create, update, delete."""

    dept: str
    op: str
    kind: str
    name: str
    before: Any = None
    after: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"dept": self.dept, "op": self.op, "kind": self.kind, "name": self.name,
                "before": _plain(self.before), "after": _plain(self.after)}


def _plain(value: Any) -> Any:
    if isinstance(value, Rule):
        return {k: getattr(value, k) for k in ("direction", "protocol", "port_min", "port_max",
                                                "remote_ip_prefix", "ethertype")}
    return value


@dataclass
class DeptResult:
    dept: str
    ok: bool
    done: int
    error: str | None = None
