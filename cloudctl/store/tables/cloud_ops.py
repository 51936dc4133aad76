"""Tables of showback and idle reclaim: the lifecycle state of each idle resource
(warned -> grace -> reclaimed) and its event history. Migration branch 0007ops."""

from sqlalchemy import Column, Index, Integer, String, Table, Text

from cloudctl.store.tables.base import metadata

# One row per OpenStack resource that the idle lifecycle has warned about.
idle_resource = Table(
    "idle_resource",
    metadata,
    Column("resource_id", String(64), primary_key=True),  # OpenStack id
    Column("kind", String(16), nullable=False),  # server | volume | floating_ip
    Column("name", Text, nullable=True),
    Column("project_id", String(64), nullable=True),
    Column("dept", String(32), nullable=True),
    Column("idle_since", String(40), nullable=False),
    Column("state", String(16), nullable=False),  # warned | reclaimed | failed
    Column("warned_at", String(40), nullable=False),
    Column("grace_until", String(40), nullable=False),
    Column("reclaimed_at", String(40), nullable=True),
    Column("action", String(16), nullable=True),  # snapshot | delete
    Column("result", Text, nullable=True),  # JSON
)
Index("ix_idle_resource_state", idle_resource.c.state)

# Every lifecycle step (warn, extend, reclaim, clear), in order.
idle_event = Table(
    "idle_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String(64), nullable=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("data", Text, nullable=False),  # JSON
)
Index("ix_idle_event_resource_id", idle_event.c.resource_id)

# Resource requests: the quota targets fixed at the first apply, so a retried apply never adds twice.
request_apply = Table(
    "cloud_ops_request_apply",
    metadata,
    Column("request_id", Integer, primary_key=True),
    Column("dept", String(32), nullable=False),
    Column("targets", Text, nullable=False),  # JSON {quota: value}
    Column("at", String(40), nullable=False),
)
