"""Gateway policies and their publications (approved through the approval engine).

Revision ID: 0004gw
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004gw"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_policy",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "gateway_publication",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("gateway", "name", name="uq_gateway_publication_name"),
    )
    op.create_index("ix_gateway_publication_gateway", "gateway_publication", ["gateway"])


def downgrade() -> None:
    op.drop_index("ix_gateway_publication_gateway", table_name="gateway_publication")
    op.drop_table("gateway_publication")
    op.drop_table("gateway_policy")
