"""Agents: enrolment and credentials (hashes only), probe configuration, link status.

Revision ID: 0005agents
"""

import sqlalchemy as sa
from alembic import op

revision = "0005agents"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent",
        sa.Column("agent_id", sa.String(40), primary_key=True),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("enrol_token_hash", sa.String(64)),
        sa.Column("enrol_expires_at", sa.String(40)),
        sa.Column("credential_hash", sa.String(64)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("enrolled_at", sa.String(40)),
        sa.Column("hostname", sa.Text),
        sa.Column("metrics_address", sa.Text),
        sa.Column("agent_version", sa.String(64)),
        sa.Column("last_heartbeat_ts", sa.Float),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("heartbeats", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_agent_division_code", "agent", ["division_code"])
    op.create_index("ix_agent_last_heartbeat_ts", "agent", ["last_heartbeat_ts"])
    op.create_table(
        "link_status",
        sa.Column("link_id", sa.String(64), primary_key=True),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("agent_id", sa.String(40), nullable=False),
        sa.Column("up", sa.SmallInteger, nullable=False),
        sa.Column("checked_ts", sa.Float, nullable=False),
        sa.Column("changed_ts", sa.Float, nullable=False),
        sa.Column("loss_ratio", sa.Float),
        sa.Column("rtt_min_seconds", sa.Float),
        sa.Column("rtt_avg_seconds", sa.Float),
        sa.Column("rtt_max_seconds", sa.Float),
        sa.Column("rtt_stddev_seconds", sa.Float),
    )
    op.create_index("ix_link_status_checked_ts", "link_status", ["checked_ts"])
    op.create_table(
        "agent_probe",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("link_id", sa.String(64)),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("expect_status", sa.Integer, nullable=False, server_default="200"),
        sa.Column("count", sa.Integer, nullable=False, server_default="3"),
        sa.Column("timeout_s", sa.Float, nullable=False, server_default="2"),
    )
    op.create_index("ix_agent_probe_division_code", "agent_probe", ["division_code"])


def downgrade() -> None:
    for name in ("agent_probe", "link_status", "agent"):
        op.drop_table(name)
