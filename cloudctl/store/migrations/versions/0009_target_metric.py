"""Coverage branch: a target measures coverage or availability (issue 13). One target per metric,
level and region; existing targets are coverage targets.

Revision ID: 0009tgtmetric
Revises: 0008linkidx
"""

import sqlalchemy as sa
from alembic import op

revision = "0009tgtmetric"
down_revision = "0008linkidx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coverage_target") as batch:
        batch.add_column(sa.Column("metric", sa.String(16), nullable=False, server_default="coverage"))
        batch.drop_constraint("uq_coverage_target_level_region", type_="unique")
        batch.create_unique_constraint("uq_coverage_target_metric_level_region", ["metric", "level", "region_code"])


def downgrade() -> None:
    op.execute("DELETE FROM coverage_target WHERE metric <> 'coverage'")
    with op.batch_alter_table("coverage_target") as batch:
        batch.drop_constraint("uq_coverage_target_metric_level_region", type_="unique")
        batch.create_unique_constraint("uq_coverage_target_level_region", ["level", "region_code"])
        batch.drop_column("metric")
