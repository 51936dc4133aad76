"""Agents branch, second step: operators' API tokens (approvers voting over HTTP).

Revision ID: 0005agents_tok
"""

import sqlalchemy as sa
from alembic import op

revision = "0005agents_tok"
down_revision = "0005agents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("token_id", sa.String(40), primary_key=True),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
    )
    op.create_index("ix_api_token_operator", "api_token", ["operator"])


def downgrade() -> None:
    op.drop_table("api_token")
