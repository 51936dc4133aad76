"""Tables of the approval engine (requests, votes, events, delegations, policies) and of the
power list (roles, their allow-lists, grants to operators). Migration branch 0006appr."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from cloudctl.store.tables.base import metadata

approval_policy = Table(
    "approval_policy",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("body", Text, nullable=False),  # canonical JSON of the policy
    Column("updated_at", String(40), nullable=False),
    Column("updated_by", String(200), nullable=False),
)

approval_request = Table(
    "approval_request",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("requester", String(200), nullable=False),
    Column("dept", String(64), nullable=True),
    Column("region", String(12), nullable=True),
    Column("payload", Text, nullable=False),  # JSON
    Column("policy_name", String(100), nullable=False),
    Column("policy", Text, nullable=False),  # the policy as it was when the request was made
    Column("status", String(16), nullable=False),  # pending|approved|rejected|withdrawn
    Column("created_at", String(40), nullable=False),
    Column("deadline_at", String(40), nullable=False),
    Column("escalated_at", String(40), nullable=True),
    Column("decided_at", String(40), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("applied_at", String(40), nullable=True),
    Column("apply_status", String(16), nullable=True),  # ok|failed
    Column("apply_result", Text, nullable=True),  # JSON
    Index("ix_approval_request_status", "status"),
)

approval_vote = Table(
    "approval_vote",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("approval_request.id"), nullable=False),
    Column("reviewer", String(200), nullable=False),  # whose vote this is
    Column("cast_by", String(200), nullable=False),  # who cast it (a delegate, or the reviewer)
    Column("decision", String(8), nullable=False),  # approve|reject
    Column("reason", Text, nullable=True),
    Column("at", String(40), nullable=False),
    UniqueConstraint("request_id", "reviewer", name="uq_approval_vote_request_reviewer"),
)

approval_event = Table(
    "approval_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("approval_request.id"), nullable=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(32), nullable=False),  # created|vote|escalated|withdrawn|decided|applied
    Column("data", Text, nullable=False),  # JSON
    Index("ix_approval_event_request_id", "request_id"),
)

approval_delegation = Table(
    "approval_delegation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delegator", String(200), nullable=False),
    Column("delegate", String(200), nullable=False),
    Column("starts_at", String(40), nullable=False),
    Column("ends_at", String(40), nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_approval_delegation_delegate", "delegate"),
)

power_role = Table(
    "power_role",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
)

power_role_permission = Table(
    "power_role_permission",
    metadata,
    Column("role", String(64), ForeignKey("power_role.name", ondelete="CASCADE"), primary_key=True),
    Column("permission", String(100), primary_key=True),
)

power_grant = Table(
    "power_grant",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operator", String(200), nullable=False),
    Column("role", String(64), ForeignKey("power_role.name"), nullable=False),
    Column("scope_kind", String(8), nullable=False, server_default=""),  # "" | dept | region
    Column("scope_value", String(64), nullable=False, server_default=""),
    Column("granted_at", String(40), nullable=False),
    Column("granted_by", String(200), nullable=False),
    UniqueConstraint("operator", "role", "scope_kind", "scope_value", name="uq_power_grant_operator"),
    Index("ix_power_grant_operator", "operator"),
)
