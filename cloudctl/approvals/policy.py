"""Approval policies: reviewer groups with a rule each, a deadline, an escalation group and an
optional auto-approval size tier. Pure: parsing and validation only (docs/approvals.md).

The auto-approval tier fails closed: it names the kinds it applies to (required), and a request
is inside it only when every size field of its kind is within the tier's limit, a field the tier
does not name counting as a limit of 0. Gateway publications and data shares have no size
fields: a tier approves them only when it names their kind explicitly.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cloudctl import values
from cloudctl.errors import InputError

RULE_RE = re.compile(r"^(all|any|quorum:(\d{1,4}))$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MEMBER_MAX = 100  # characters in an operator name
MEMBERS_MAX = 500  # members in one group
GROUPS_MAX = 50
MAX_DEADLINE = timedelta(days=365)
LIMIT_MAX = 1e12


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]
    rule: str  # all | any | quorum:K

    def needed(self, requester: str | None = None) -> int:
        """How many distinct people must approve for the rule to hold (the requester never votes)."""
        if self.rule == "all":
            return len(self.eligible(requester))
        if self.rule == "any":
            return 1
        return int(self.rule.split(":")[1])

    def eligible(self, requester: str | None = None) -> tuple[str, ...]:
        return tuple(m for m in self.members if m != requester)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "members": list(self.members), "rule": self.rule}


@dataclass(frozen=True)
class Policy:
    name: str
    groups: tuple[Group, ...]
    deadline: timedelta
    escalation: Group | None
    auto_approve_max: dict[str, float] = field(default_factory=dict)
    auto_approve_kinds: tuple[str, ...] = ()

    def reviewers(self, escalated: bool = False) -> set[str]:
        people = {m for g in self.groups for m in g.members}
        if escalated and self.escalation:
            people |= set(self.escalation.members)
        return people

    def unreachable_for(self, requester: str) -> list[str]:
        """The groups whose rule can never hold because REQUESTER may not vote on their own request."""
        out = []
        for g in self.groups:
            eligible = g.eligible(requester)
            if not eligible or g.needed(requester) > len(eligible):
                out.append(f"{g.name} ({g.rule} of {', '.join(g.members)})")
        return out

    def auto_approves(self, kind: str, size_fields: tuple[str, ...], sizes: dict[str, Any]) -> bool:
        """Inside the tier: KIND is named, and every size field is present and within its limit (absent: 0)."""
        if kind not in self.auto_approve_kinds:
            return False
        for key in size_fields:
            value = sizes.get(key)
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                return False
            if value < 0 or value > self.auto_approve_max.get(key, 0):
                return False
        return True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "deadline": values.format_duration(self.deadline),
                               "groups": [g.as_dict() for g in self.groups]}
        if self.escalation:
            out["escalation"] = self.escalation.as_dict()
        if self.auto_approve_kinds:
            out["auto_approve"] = {"kinds": list(self.auto_approve_kinds), "max": dict(self.auto_approve_max)}
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)


def _err(msg: str, path: str, source: str | None, hint: str | None = None) -> InputError:
    return InputError(msg, file=source, field=path, hint=hint)


def _group(raw: Any, path: str, source: str | None) -> Group:
    if not isinstance(raw, dict):
        raise _err("a reviewer group must be a mapping with name, members, rule", path, source)
    unknown = set(raw) - {"name", "members", "rule"}
    if unknown:
        raise _err(f"unknown keys: {', '.join(sorted(map(str, unknown)))[:200]}", path, source,
                   hint="a group has name, members, rule")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _err(f"bad group name {str(name)[:60]!r}", f"{path}.name", source,
                   hint="letters, digits, '.', '_', '-'; at most 100 characters")
    members = raw.get("members")
    if not isinstance(members, list) or not members:
        raise _err("members must be a non-empty list of operator names", f"{path}.members", source)
    if len(members) > MEMBERS_MAX:
        raise _err(f"{len(members)} members", f"{path}.members", source, hint=f"at most {MEMBERS_MAX}")
    for i, m in enumerate(members):
        if not isinstance(m, str):
            raise _err("an operator name must be text", f"{path}.members[{i}]", source)
        try:
            values.check_name(m, f"{path}.members[{i}]", max_len=MEMBER_MAX)
        except InputError as e:
            raise _err(e.message, f"{path}.members[{i}]", source, e.hint) from None
    members = [m.strip() for m in members]
    if len(set(members)) != len(members):
        raise _err("a member is listed twice", f"{path}.members", source)
    rule = str(raw.get("rule", "all")).strip()
    m = RULE_RE.match(rule)
    if not m:
        raise _err(f"bad rule {rule[:40]!r}", f"{path}.rule", source, hint="all, any, or quorum:K")
    if m.group(2) is not None and not 1 <= int(m.group(2)) <= len(members):
        raise _err(f"quorum {m.group(2)} is not between 1 and the {len(members)} members", f"{path}.rule", source)
    return Group(name, tuple(members), rule)


def parse_duration(value: Any, path: str = "deadline", source: str | None = None) -> timedelta:
    try:
        return values.parse_duration(value, path, minimum=timedelta(hours=1), maximum=MAX_DEADLINE)
    except InputError as e:
        raise _err(e.message, path, source, e.hint) from None


def _auto_approve(raw: Any, source: str | None) -> tuple[dict[str, float], tuple[str, ...]]:
    """The size tier: `kinds` (required, registered kinds) and `max` (their size fields -> limits)."""
    from cloudctl.approvals.kinds import KINDS

    if raw is None:
        return {}, ()
    if not isinstance(raw, dict):
        raise _err("auto_approve must be a mapping with kinds and max", "auto_approve", source)
    unknown = set(raw) - {"kinds", "max"}
    if unknown:
        raise _err(f"unknown keys: {', '.join(sorted(map(str, unknown)))[:200]}", "auto_approve", source,
                   hint="auto_approve has kinds and max")
    kinds = raw.get("kinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise _err("auto_approve.kinds is required: the request kinds the tier applies to", "auto_approve.kinds",
                   source, hint="e.g. kinds: [quota-increase]; known kinds: " + ", ".join(KINDS))
    for i, k in enumerate(kinds):
        if k not in KINDS:
            raise _err(f"unknown request kind {k[:60]!r}", f"auto_approve.kinds[{i}]", source,
                       hint="known kinds: " + ", ".join(KINDS))
    limits = raw.get("max") or {}
    if not isinstance(limits, dict):
        raise _err("auto_approve.max maps size fields to limits", "auto_approve.max", source)
    fields = {f for k in kinds for f in KINDS[k].size_fields}
    for key, value in limits.items():
        path = f"auto_approve.max.{str(key)[:40]}"
        if key not in fields:
            raise _err(f"{str(key)[:40]!r} is not a size field of {', '.join(kinds)}", path, source,
                       hint="size fields: " + (", ".join(sorted(fields)) or "none (the tier approves every request "
                                                                             "of these kinds)"))
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or not 0 <= value <= LIMIT_MAX:
            raise _err(f"limit {str(value)[:40]!r} is not a number between 0 and {LIMIT_MAX:.0e}", path, source)
    return {str(k): float(v) for k, v in limits.items()}, tuple(dict.fromkeys(kinds))


def parse_policy(raw: Any, source: str | None = None) -> Policy:
    """A policy from its mapping (YAML or JSON); errors name the field and how to fix it."""
    if not isinstance(raw, dict):
        raise _err("a policy must be a mapping", "(top)", source)
    unknown = set(raw) - {"name", "deadline", "groups", "escalation", "auto_approve"}
    if unknown:
        raise _err(f"unknown keys: {', '.join(sorted(map(str, unknown)))[:200]}", sorted(map(str, unknown))[0], source,
                   hint="allowed: name, deadline, groups, escalation, auto_approve")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _err(f"bad policy name {str(name)[:60]!r}", "name", source,
                   hint="letters, digits, '.', '_', '-'; at most 100 characters")
    groups_raw = raw.get("groups")
    if not isinstance(groups_raw, list) or not groups_raw:
        raise _err("a policy needs at least one reviewer group", "groups", source)
    if len(groups_raw) > GROUPS_MAX:
        raise _err(f"{len(groups_raw)} groups", "groups", source, hint=f"at most {GROUPS_MAX}")
    groups = tuple(_group(g, f"groups[{i}]", source) for i, g in enumerate(groups_raw))
    if len({g.name for g in groups}) != len(groups):
        raise _err("two groups have the same name", "groups", source)
    escalation = _group(raw["escalation"], "escalation", source) if raw.get("escalation") else None
    limits, kinds = _auto_approve(raw.get("auto_approve"), source)
    return Policy(name, groups, parse_duration(raw.get("deadline", "72h"), "deadline", source), escalation,
                  limits, kinds)


def policy_from_json(text: str) -> Policy:
    """A policy as stored (approval_policy, or a request's copy of its policy).

    Copies stored before auto-approval tiers had to name their kinds have their tier dropped:
    such a tier would apply to every kind, and a tier fails closed.
    """
    raw = json.loads(text)
    tier = raw.get("auto_approve") if isinstance(raw, dict) else None
    if isinstance(tier, dict) and not tier.get("kinds"):
        raw = {k: v for k, v in raw.items() if k != "auto_approve"}
    return parse_policy(raw)
