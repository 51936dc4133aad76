"""Approvals and the power list: policies, requests, votes, events, delegations; roles, grants.

Revision ID: 0006appr
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006appr"
down_revision = "0001"
branch_labels = None
depends_on = None

S = sa.String


def upgrade() -> None:
    op.create_table(
        "approval_policy",
        sa.Column("name", S(100), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", S(40), nullable=False),
        sa.Column("updated_by", S(200), nullable=False),
    )
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", S(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("requester", S(200), nullable=False),
        sa.Column("dept", S(64)),
        sa.Column("region", S(12)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("policy_name", S(100), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("status", S(16), nullable=False),
        sa.Column("created_at", S(40), nullable=False),
        sa.Column("deadline_at", S(40), nullable=False),
        sa.Column("escalated_at", S(40)),
        sa.Column("decided_at", S(40)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("applied_at", S(40)),
        sa.Column("apply_status", S(16)),
        sa.Column("apply_result", sa.Text),
    )
    op.create_index("ix_approval_request_status", "approval_request", ["status"])
    op.create_table(
        "approval_vote",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("approval_request.id",
                                                          name="fk_approval_vote_request_id_approval_request"),
                  nullable=False),
        sa.Column("reviewer", S(200), nullable=False),
        sa.Column("cast_by", S(200), nullable=False),
        sa.Column("decision", S(8), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", S(40), nullable=False),
        sa.UniqueConstraint("request_id", "reviewer", name="uq_approval_vote_request_reviewer"),
    )
    op.create_table(
        "approval_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("approval_request.id",
                                                          name="fk_approval_event_request_id_approval_request"),
                  nullable=False),
        sa.Column("at", S(40), nullable=False),
        sa.Column("actor", S(200), nullable=False),
        sa.Column("kind", S(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_approval_event_request_id", "approval_event", ["request_id"])
    op.create_table(
        "approval_delegation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delegator", S(200), nullable=False),
        sa.Column("delegate", S(200), nullable=False),
        sa.Column("starts_at", S(40), nullable=False),
        sa.Column("ends_at", S(40), nullable=False),
        sa.Column("created_at", S(40), nullable=False),
    )
    op.create_index("ix_approval_delegation_delegate", "approval_delegation", ["delegate"])
    op.create_table(
        "power_role",
        sa.Column("name", S(64), primary_key=True),
        sa.Column("description", sa.Text),
        sa.Column("created_at", S(40), nullable=False),
        sa.Column("created_by", S(200), nullable=False),
    )
    op.create_table(
        "power_role_permission",
        sa.Column("role", S(64), sa.ForeignKey("power_role.name", ondelete="CASCADE",
                                               name="fk_power_role_permission_role_power_role"), primary_key=True),
        sa.Column("permission", S(100), primary_key=True),
    )
    op.create_table(
        "power_grant",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("operator", S(200), nullable=False),
        sa.Column("role", S(64), sa.ForeignKey("power_role.name", name="fk_power_grant_role_power_role"),
                  nullable=False),
        sa.Column("scope_kind", S(8), nullable=False, server_default=""),
        sa.Column("scope_value", S(64), nullable=False, server_default=""),
        sa.Column("granted_at", S(40), nullable=False),
        sa.Column("granted_by", S(200), nullable=False),
        sa.UniqueConstraint("operator", "role", "scope_kind", "scope_value", name="uq_power_grant_operator"),
    )
    op.create_index("ix_power_grant_operator", "power_grant", ["operator"])


def downgrade() -> None:
    for name in ("power_grant", "power_role_permission", "power_role", "approval_delegation", "approval_event",
                 "approval_vote", "approval_request", "approval_policy"):
        op.drop_table(name)
