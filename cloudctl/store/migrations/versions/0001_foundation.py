"""Foundation: meta, audit log, divisions, extranet links, coverage targets.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.Text, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    # The genesis head: the chain starts from 64 zeros.
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash")),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )
    op.create_table(
        "division",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("parent_code", sa.String(12)),
        sa.Column("kind", sa.String(32), nullable=False),
    )
    op.create_index("ix_division_parent_code", "division", ["parent_code"])
    op.create_index("ix_division_level", "division", ["level"])
    op.create_table(
        "division_name_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("old_name", sa.Text, nullable=False),
        sa.Column("new_name", sa.Text, nullable=False),
        sa.Column("changed_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_division_name_history_code", "division_name_history", ["code"])
    op.create_table(
        "link",
        sa.Column("link_id", sa.String(64), primary_key=True),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("link_type", sa.String(16), nullable=False),
        sa.Column("bandwidth_mbps", sa.Float, nullable=False),
        sa.Column("activated_on", sa.Date, nullable=False),
        sa.Column("retired_on", sa.Date),
        sa.Column("provider", sa.Text),
    )
    op.create_index("ix_link_division_code", "link", ["division_code"])
    op.create_table(
        "coverage_target",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False, server_default=""),
        sa.Column("ratio", sa.Float, nullable=False),
        sa.Column("by_date", sa.Date, nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("level", "region_code", name="uq_coverage_target_level_region"),
    )


def downgrade() -> None:
    for name in ("coverage_target", "link", "division_name_history", "division",
                 "audit_head", "audit_log", "meta"):
        op.drop_table(name)
