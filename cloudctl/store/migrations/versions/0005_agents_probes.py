"""Agents branch, third step: a probe's name is unique within its division (probes are on the power list now:
`cloudctl agent probe add|remove|import`, the API's /v1/probes).

Revision ID: 0005agents_probe
"""

from alembic import op

revision = "0005agents_probe"
down_revision = "0005agents_tok"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ux_agent_probe_division_name", "agent_probe", ["division_code", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_agent_probe_division_name", table_name="agent_probe")
