"""Approval policies: reviewer groups with a rule each, a deadline, an escalation group and an
optional auto-approval size tier. Pure: parsing and validation only (docs/approvals.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cloudctl.errors import InputError

RULE_RE = re.compile(r"^(all|any|quorum:(\d+))$")
DURATION_RE = re.compile(r"^(\d+)\s*([hd])$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]
    rule: str  # all | any | quorum:K

    @property
    def needed(self) -> int:
        """How many distinct approvals make the rule hold."""
        if self.rule == "all":
            return len(self.members)
        if self.rule == "any":
            return 1
        return int(self.rule.split(":")[1])

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

    def auto_approves(self, kind: str, payload: dict[str, Any]) -> bool:
        """Inside the size tier: every limited field present in the payload is within its limit."""
        if not self.auto_approve_max:
            return False
        if self.auto_approve_kinds and kind not in self.auto_approve_kinds:
            return False
        for key, limit in self.auto_approve_max.items():
            value = payload.get(key, 0)
            if not isinstance(value, int | float) or isinstance(value, bool) or value > limit:
                return False
        return True

    def as_dict(self) -> dict[str, Any]:
        hours = int(self.deadline.total_seconds() // 3600)
        out: dict[str, Any] = {"name": self.name, "deadline": f"{hours}h",
                               "groups": [g.as_dict() for g in self.groups]}
        if self.escalation:
            out["escalation"] = self.escalation.as_dict()
        if self.auto_approve_max:
            out["auto_approve"] = {"max": dict(self.auto_approve_max)}
            if self.auto_approve_kinds:
                out["auto_approve"]["kinds"] = list(self.auto_approve_kinds)
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)


def _err(msg: str, path: str, source: str | None, hint: str | None = None) -> InputError:
    return InputError(msg, file=source, field=path, hint=hint)


def _group(raw: Any, path: str, source: str | None) -> Group:
    if not isinstance(raw, dict):
        raise _err("a reviewer group must be a mapping with name, members, rule", path, source)
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _err(f"bad group name {name!r}", f"{path}.name", source)
    members = raw.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) and m.strip() for m in members):
        raise _err("members must be a non-empty list of operator names", f"{path}.members", source)
    if len(set(members)) != len(members):
        raise _err("a member is listed twice", f"{path}.members", source)
    rule = str(raw.get("rule", "all")).strip()
    m = RULE_RE.match(rule)
    if not m:
        raise _err(f"bad rule {rule!r}", f"{path}.rule", source, hint="all, any, or quorum:K")
    if m.group(2) is not None and not 1 <= int(m.group(2)) <= len(members):
        raise _err(f"quorum {m.group(2)} is not between 1 and the {len(members)} members", f"{path}.rule", source)
    return Group(name, tuple(members), rule)


def parse_duration(value: Any, path: str = "deadline", source: str | None = None) -> timedelta:
    m = DURATION_RE.match(str(value).strip())
    if not m or int(m.group(1)) == 0:
        raise _err(f"bad duration {value!r}", path, source, hint="hours or days, e.g. 72h or 3d")
    n = int(m.group(1))
    return timedelta(hours=n) if m.group(2) == "h" else timedelta(days=n)


def parse_policy(raw: Any, source: str | None = None) -> Policy:
    """A policy from its mapping (YAML or JSON); errors name the field and how to fix it."""
    if not isinstance(raw, dict):
        raise _err("a policy must be a mapping", "(top)", source)
    unknown = set(raw) - {"name", "deadline", "groups", "escalation", "auto_approve"}
    if unknown:
        raise _err(f"unknown keys: {', '.join(sorted(unknown))}", "(top)", source,
                   hint="allowed: name, deadline, groups, escalation, auto_approve")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _err(f"bad policy name {name!r}", "name", source)
    groups_raw = raw.get("groups")
    if not isinstance(groups_raw, list) or not groups_raw:
        raise _err("a policy needs at least one reviewer group", "groups", source)
    groups = tuple(_group(g, f"groups[{i}]", source) for i, g in enumerate(groups_raw))
    if len({g.name for g in groups}) != len(groups):
        raise _err("two groups have the same name", "groups", source)
    escalation = _group(raw["escalation"], "escalation", source) if raw.get("escalation") else None
    auto = raw.get("auto_approve") or {}
    if not isinstance(auto, dict):
        raise _err("auto_approve must be a mapping with max (and optional kinds)", "auto_approve", source)
    limits = auto.get("max") or {}
    if not isinstance(limits, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in limits.values()):
        raise _err("auto_approve.max maps payload fields to non-negative numbers", "auto_approve.max", source)
    kinds = auto.get("kinds") or []
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise _err("auto_approve.kinds must be a list of request kinds", "auto_approve.kinds", source)
    return Policy(name, groups, parse_duration(raw.get("deadline", "72h"), "deadline", source), escalation,
                  {str(k): float(v) for k, v in limits.items()}, tuple(kinds))


def policy_from_json(text: str) -> Policy:
    return parse_policy(json.loads(text))
