"""Data sharing: the catalogue of resources and the shares asked for (ids of approval requests).

Revision ID: 0009share
Revises: 0006appr
"""

import sqlalchemy as sa
from alembic import op

revision = "0009share"
down_revision = "0006appr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_resource",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner_dept", sa.String(32), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("share_class", sa.String(16), nullable=False),
        sa.Column("approval_policy", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("retired_at", sa.String(40), nullable=True),
        sa.Column("retired_by", sa.String(200), nullable=True),
        sa.Column("retire_reason", sa.Text, nullable=True),
    )
    op.create_table(
        "data_share",
        sa.Column("id", sa.Integer, sa.ForeignKey("approval_request.id", name="fk_data_share_id_approval_request"),
                  primary_key=True, autoincrement=False),
        sa.Column("resource", sa.String(64), sa.ForeignKey("share_resource.name",
                                                             name="fk_data_share_resource_share_resource"),
                  nullable=False),
        sa.Column("consumer_dept", sa.String(32), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("until", sa.String(10), nullable=False),
        sa.Column("ports", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.String(40), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("revoke_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_data_share_resource", "data_share", ["resource"])
    op.create_index("ix_data_share_consumer", "data_share", ["consumer_dept"])


def downgrade() -> None:
    op.drop_index("ix_data_share_consumer", table_name="data_share")
    op.drop_index("ix_data_share_resource", table_name="data_share")
    op.drop_table("data_share")
    op.drop_table("share_resource")
