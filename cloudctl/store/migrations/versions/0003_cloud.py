"""Shared cloud: departments, desired quotas and members, created resources, settings.

Revision ID: 0003cloud
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003cloud"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_department",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("contact", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cidr", sa.String(64)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("retired_at", sa.String(40)),
    )
    op.create_table(
        "cloud_department_quota",
        sa.Column("dept_code", sa.String(32), sa.ForeignKey("cloud_department.code", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("resource", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "cloud_department_member",
        sa.Column("dept_code", sa.String(32), sa.ForeignKey("cloud_department.code", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
    )
    op.create_table(
        "cloud_resource",
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("os_id", sa.String(64), nullable=False),
        sa.Column("applied_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("dept_code", "kind", "name", name="uq_cloud_resource_dept_kind_name"),
    )
    op.create_table(
        "cloud_applied_quota",
        sa.Column("dept_code", sa.String(32), primary_key=True),
        sa.Column("resource", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "cloud_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("cloud_setting", "cloud_applied_quota", "cloud_resource", "cloud_department_member",
                 "cloud_department_quota", "cloud_department"):
        op.drop_table(name)
