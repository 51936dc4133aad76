"""Agents branch: link availability (issue 13). Each link's state history as interval rows with
running sums (link_interval), and until when its last report holds (link_status.known_until_ts).

Existing status rows get a known_until 45 s after their last check (three 15 s heartbeats, the
API's default) and one interval row: their current state since it last changed (the history
before that was not kept).

Revision ID: 0009avail
"""

import sqlalchemy as sa
from alembic import op

revision = "0009avail"
down_revision = "0005agents_probe"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_interval",
        sa.Column("link_id", sa.String(64), primary_key=True),
        sa.Column("start_ms", sa.BigInteger, primary_key=True),
        sa.Column("up", sa.SmallInteger),
        sa.Column("cum_up_ms", sa.BigInteger, nullable=False),
        sa.Column("cum_down_ms", sa.BigInteger, nullable=False),
        sa.Column("cum_outages", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.add_column("link_status", sa.Column("known_until_ts", sa.Float))
    op.execute("UPDATE link_status SET known_until_ts = checked_ts + 45")
    op.execute("INSERT INTO link_interval (link_id, start_ms, up, cum_up_ms, cum_down_ms, cum_outages) "
               "SELECT link_id, CAST(ROUND(changed_ts * 1000) AS BIGINT), up, 0, 0, 0 FROM link_status")


def downgrade() -> None:
    with op.batch_alter_table("link_status") as batch:
        batch.drop_column("known_until_ts")
    op.drop_table("link_interval")
