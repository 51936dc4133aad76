"""The power list: every mutating command of cloudctl and the one permission that allows it.

This module is the ONE place where permissions are declared ("no power outside the list").
A command checks its permission with cloudctl.power.authorize(...); a permission that is
not in this list is denied whatever the roles say. `cloudctl power list` publishes it.

Scopes: a permission marked with scopes ("dept", "region") can be granted for one
department or one region (division code) only; an unscoped grant covers every scope.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Permission:
    name: str
    command: str  # the CLI command(s) it guards, as typed
    description: str
    scopes: tuple[str, ...] = ()  # which grant scopes make sense: "dept", "region"
    also: tuple[str, ...] = ()  # further commands that need exactly this power (shortcuts of `command`)

    @property
    def commands(self) -> tuple[str, ...]:
        return (self.command, *self.also)

    def as_row(self) -> dict[str, str]:
        return {"permission": self.name, "command": ", ".join(self.commands), "scopes": ",".join(self.scopes) or "-",
                "description": self.description}


D, R, DR = ("dept",), ("region",), ("dept", "region")

POWER_LIST: tuple[Permission, ...] = (
    # store and divisions
    Permission("store.init", "cloudctl init", "create or upgrade the store and load the shipped divisions"),
    Permission("settings.set", "cloudctl settings set", "change a store-wide setting (the time zone of 'today')"),
    Permission("demo.load", "cloudctl demo", "load divisions and generate a demonstration link history"),
    Permission("divisions.import", "cloudctl divisions import", "import an official division code file"),
    Permission("audit.checkpoint", "cloudctl audit checkpoint", "sign the audit chain's head (store + external file)"),
    # extranet links and coverage
    Permission("links.import", "cloudctl links import", "import extranet link records (bulk)", R),
    Permission("links.add", "cloudctl links add", "record a new extranet link", R),
    Permission("links.retire", "cloudctl links retire", "retire an extranet link", R),
    Permission("coverage.target.set", "cloudctl coverage target set", "set a coverage target", R),
    # departments and the shared cloud
    Permission("dept.create", "cloudctl dept create", "create a department on the shared cloud", DR),
    Permission("dept.retire", "cloudctl dept retire", "retire a department", DR),
    Permission("dept.member.add", "cloudctl dept member add", "add a user to a department", DR),
    Permission("dept.member.remove", "cloudctl dept member remove", "remove a user from a department", DR),
    Permission("cloud.apply", "cloudctl cloud apply", "make OpenStack match the store", DR),
    Permission("cloud.settings.set", "cloudctl cloud set", "change a cloud setting"),
    Permission("pool.overcommit.set", "cloudctl pool overcommit", "change the shared pool's overcommit ratios"),
    Permission("quota.set", "cloudctl quota set", "change a department's quotas", DR),
    # address plan
    Permission("ipam.pool.add", "cloudctl ipam pool add", "add an address pool"),
    Permission("ipam.pool.remove", "cloudctl ipam pool remove", "remove an empty address pool"),
    Permission("ipam.allocate", "cloudctl ipam allocate", "allocate a prefix from a pool"),
    Permission("ipam.reserve", "cloudctl ipam reserve", "reserve an address range"),
    Permission("ipam.release", "cloudctl ipam release", "release an allocation or a reservation"),
    # approvals and resource requests
    Permission("request.create", "cloudctl request create", "file a request for parallel approval", DR,
               also=("cloudctl request quota", "cloudctl request server", "cloudctl request volume")),
    Permission("request.approve", "cloudctl request approve", "vote to approve a request (as a listed reviewer)", DR),
    Permission("request.reject", "cloudctl request reject", "vote to reject a request (as a listed reviewer)", DR),
    Permission("request.withdraw", "cloudctl request withdraw", "withdraw one's own pending request", DR),
    Permission("request.sweep", "cloudctl request sweep", "escalate overdue requests, apply approved ones"),
    Permission("request.apply", "cloudctl request apply", "apply an approved request now", DR),
    Permission("request.policy.set", "cloudctl request policy set", "add or replace an approval policy"),
    Permission("request.delegate", "cloudctl request delegate", "hand one's own votes to another for a period"),
    # the power list itself
    Permission("role.create", "cloudctl role create", "create a role (an allow-list of permissions)"),
    Permission("role.delete", "cloudctl role delete", "delete a role that nobody holds"),
    Permission("role.grant", "cloudctl role grant", "grant a role to an operator (optionally scoped)"),
    Permission("role.revoke", "cloudctl role revoke", "revoke a role from an operator"),
    # showback and idle resources
    Permission("idle.reclaim", "cloudctl idle reclaim", "warn about, then reclaim idle resources", DR),
    Permission("idle.extend", "cloudctl idle extend", "extend the grace period of an idle resource", DR),
    # gateways and automation
    Permission("gateway.deploy", "cloudctl gateway deploy", "deploy an isolation gateway policy"),
    Permission("gateway.confirm", "cloudctl gateway confirm", "confirm a deployed gateway policy"),
    Permission("gateway.import", "cloudctl gateway import",
               "store a gateway policy (new publications go through approval)"),
    Permission("inventory.host.add", "cloudctl inventory add", "add a managed host"),
    Permission("inventory.host.remove", "cloudctl inventory remove", "remove a managed host"),
    Permission("run.playbook", "cloudctl run", "run an Ansible playbook against managed hosts"),
    # agents
    Permission("agent.enroll", "cloudctl agent enroll", "enrol a probe agent", R),
    Permission("agent.revoke", "cloudctl agent revoke", "revoke a probe agent's credentials", R),
    Permission("agent.probe.add", "cloudctl agent probe add", "add a probe the agents of a division run", R),
    Permission("agent.probe.remove", "cloudctl agent probe remove", "remove a probe", R),
    Permission("agent.probe.import", "cloudctl agent probe import", "add or update probes from a file (bulk)", R),
    # data sharing between departments (数据共享交换)
    Permission("share.resource.add", "cloudctl share resource add",
               "put one of the department's gateway services in the data catalogue", DR),
    Permission("share.resource.retire", "cloudctl share resource retire",
               "retire a catalogue resource (its shares close)", DR),
    Permission("share.request", "cloudctl share request",
               "ask for another department's catalogued data (parallel approval)", DR),
    Permission("share.revoke", "cloudctl share revoke", "close a data share of the department's resource", DR),
    # the central API
    Permission("serve.token", "cloudctl serve token", "issue or revoke one's own API token (votes over HTTP)"),
)

BY_NAME: dict[str, Permission] = {p.name: p for p in POWER_LIST}
assert len(BY_NAME) == len(POWER_LIST), "a permission is declared twice"


def lookup(name: str) -> Permission | None:
    return BY_NAME.get(name)


def expand(patterns: list[str]) -> list[str]:
    """Exact names, or 'group.*' patterns expanded to the registered names they match.

    Raises KeyError naming the first pattern that matches nothing (an allow-list is explicit).
    """
    out: list[str] = []
    for pat in patterns:
        if pat.endswith(".*") or pat == "*":
            prefix = pat[:-1]
            names = [p.name for p in POWER_LIST if p.name.startswith(prefix)]
        else:
            names = [pat] if pat in BY_NAME else []
        if not names:
            raise KeyError(pat)
        out.extend(n for n in names if n not in out)
    return out
