"""Address plan: ipam_pool (hierarchy) and ipam_allocation (allocations and reservations).

Revision ID: 0002ipam
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002ipam"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ipam_pool",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("cidr", sa.String(64), nullable=False),
        sa.Column("version", sa.SmallInteger, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("ipam_pool.id", ondelete="RESTRICT",
                                                         name="fk_ipam_pool_parent_id_ipam_pool")),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("name", name="uq_ipam_pool_name"),
        sa.UniqueConstraint("cidr", name="uq_ipam_pool_cidr"),
    )
    op.create_index("ix_ipam_pool_parent_id", "ipam_pool", ["parent_id"])
    op.create_table(
        "ipam_allocation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pool_id", sa.Integer, sa.ForeignKey("ipam_pool.id", ondelete="RESTRICT",
                                                       name="fk_ipam_allocation_pool_id_ipam_pool"),
                  nullable=False),
        sa.Column("prefix", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("prefix", name="uq_ipam_allocation_prefix"),
        sa.UniqueConstraint("owner", name="uq_ipam_allocation_owner"),
    )
    op.create_index("ix_ipam_allocation_pool_id", "ipam_allocation", ["pool_id"])


def downgrade() -> None:
    op.drop_index("ix_ipam_allocation_pool_id", table_name="ipam_allocation")
    op.drop_table("ipam_allocation")
    op.drop_index("ix_ipam_pool_parent_id", table_name="ipam_pool")
    op.drop_table("ipam_pool")
