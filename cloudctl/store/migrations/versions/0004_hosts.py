"""Managed hosts for the Ansible inventory, and the gateway deploy history.

Revision ID: 0004hosts
"""

import sqlalchemy as sa
from alembic import op

revision = "0004hosts"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "managed_host",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer, nullable=False, server_default="22"),
        sa.Column("ssh_user", sa.String(64), nullable=False, server_default="root"),
        sa.Column("division_code", sa.String(12)),
        sa.Column("vars", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_managed_host_role", "managed_host", ["role"])
    op.create_index("ix_managed_host_division_code", "managed_host", ["division_code"])
    op.create_table(
        "gateway_deploy",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("host", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ruleset_sha256", sa.String(64)),
        sa.Column("confirm_by", sa.String(40)),
        sa.Column("drift_items", sa.Integer),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_gateway_deploy_gateway", "gateway_deploy", ["gateway"])


def downgrade() -> None:
    op.drop_table("gateway_deploy")
    op.drop_table("managed_host")
