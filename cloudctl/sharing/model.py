"""Data sharing's rules, pure: the classes of the national catalogue rules, the reviewer roles an
approval policy must name, a share's state on a date, and ports given as "P,...".

Classes (政务信息资源共享管理暂行办法):
- open (无条件共享): any department may have it; an approval policy's fail-closed tier may approve
  the request without votes, and only if the tier names the kind `data-share`;
- conditional (有条件共享): always decided by votes, whatever the policy's tier says;
- closed (不予共享): never shared; a request is refused at once with the basis the catalogue records.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

CLASSES = ("open", "conditional", "closed")
CLASS_NAMES = {"open": "无条件共享", "conditional": "有条件共享", "closed": "不予共享"}
REVIEWER_ROLES = ("owner", "data-authority", "security")
REQUEST_KIND = "data-share"
STATES = ("pending", "active", "expired", "revoked", "rejected", "withdrawn")
RESOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
MAX_TERM = dt.timedelta(days=3650)  # a share ends within ten years: it is reviewed again, not forgotten
POLICY_EXAMPLE = ("name: share-finance\n"
                  "groups:\n"
                  "  - {name: owner, members: [fin-head], rule: any}            # the owner department's approvers\n"
                  "  - {name: data-authority, members: [data-office], rule: any}  # 政务数据主管部门\n"
                  "  - {name: security, members: [sec-a, sec-b], rule: any}")


def default_policy(owner: str) -> str:
    """The approval policy a resource uses unless it names one: share-<owner department>."""
    return f"share-{owner}"


def missing_roles(group_names: list[str] | tuple[str, ...]) -> list[str]:
    """The reviewer roles a policy for data shares lacks (every one must be a group of that name)."""
    return [role for role in REVIEWER_ROLES if role not in group_names]


def parse_ports(value: Any) -> list[int | str] | None:
    """'443,8443,9000-9010' or a list -> port specs (checked by the gateway's port parser); None: all."""
    from cloudctl.gateway.netspace import parse_port_spec

    if value is None:
        return None
    items = [p.strip() for p in value.split(",")] if isinstance(value, str) else list(value)
    if not items or any(item in ("", None) for item in items):
        raise ValueError("give ports as P,... e.g. 443,8443 or 9000-9010")
    if len(items) > 64:
        raise ValueError("at most 64 ports or ranges")
    out: list[int | str] = []
    for item in items:
        text = str(item)
        parse_port_spec(int(text) if text.isdigit() else text)  # ValueError names the bad one
        out.append(int(text) if text.isdigit() else text)
    return out


def local_date(stamp: str | None, zone: ZoneInfo) -> dt.date | None:
    """A stored UTC instant as a date in the configured zone."""
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp).astimezone(zone).date()


@dataclass(frozen=True)
class ShareFacts:
    """What a share's state is decided from."""

    request_status: str  # pending | approved | rejected | withdrawn
    until: dt.date
    revoked_on: dt.date | None


def share_state(facts: ShareFacts, at: dt.date) -> str:
    """pending | active | expired | revoked | rejected | withdrawn, on date AT."""
    if facts.revoked_on is not None and facts.revoked_on <= at:
        return "revoked"
    if facts.request_status != "approved":
        return facts.request_status
    return "expired" if facts.until < at else "active"


def approval_seconds(created_at: str, decided_at: str | None) -> float | None:
    """How long the decision took (None while pending)."""
    if not decided_at:
        return None
    return (dt.datetime.fromisoformat(decided_at) - dt.datetime.fromisoformat(created_at)).total_seconds()
