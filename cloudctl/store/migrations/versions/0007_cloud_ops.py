"""Showback and idle reclaim: idle_resource (lifecycle state), idle_event (history),
cloud_ops_request_apply (quota targets of applied resource requests).

Revision ID: 0007ops
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007ops"
down_revision = "0001"
branch_labels = None
depends_on = None

S = sa.String


def upgrade() -> None:
    op.create_table(
        "idle_resource",
        sa.Column("resource_id", S(64), primary_key=True),
        sa.Column("kind", S(16), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("project_id", S(64)),
        sa.Column("dept", S(32)),
        sa.Column("idle_since", S(40), nullable=False),
        sa.Column("state", S(16), nullable=False),
        sa.Column("warned_at", S(40), nullable=False),
        sa.Column("grace_until", S(40), nullable=False),
        sa.Column("reclaimed_at", S(40)),
        sa.Column("action", S(16)),
        sa.Column("result", sa.Text),
    )
    op.create_index("ix_idle_resource_state", "idle_resource", ["state"])
    op.create_table(
        "idle_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_id", S(64), nullable=False),
        sa.Column("at", S(40), nullable=False),
        sa.Column("actor", S(200), nullable=False),
        sa.Column("kind", S(16), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_idle_event_resource_id", "idle_event", ["resource_id"])
    op.create_table(
        "cloud_ops_request_apply",
        sa.Column("request_id", sa.Integer, primary_key=True),
        sa.Column("dept", S(32), nullable=False),
        sa.Column("targets", sa.Text, nullable=False),
        sa.Column("at", S(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cloud_ops_request_apply")
    op.drop_index("ix_idle_event_resource_id", "idle_event")
    op.drop_table("idle_event")
    op.drop_index("ix_idle_resource_state", "idle_resource")
    op.drop_table("idle_resource")
