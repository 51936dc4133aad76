"""Tables of data sharing (migration 0009share): the catalogue of shareable resources and the
shares asked for. A share's id is its approval request's id (approval_request.id, kind
`data-share`); its state is read with that request's status (docs/sharing.md)."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from cloudctl.store.tables.base import metadata

share_resource = Table(
    "share_resource",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner_dept", String(32), nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("service", String(64), nullable=False),
    Column("share_class", String(16), nullable=False),  # open | conditional | closed
    Column("approval_policy", String(100), nullable=False),
    Column("description", Text, nullable=True),  # for a closed resource: the basis of the refusal
    Column("status", String(16), nullable=False),  # active | retired
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("retired_at", String(40), nullable=True),
    Column("retired_by", String(200), nullable=True),
    Column("retire_reason", Text, nullable=True),
)

data_share = Table(
    "data_share",
    metadata,
    Column("id", Integer, ForeignKey("approval_request.id"), primary_key=True, autoincrement=False),
    Column("resource", String(64), ForeignKey("share_resource.name"), nullable=False),
    Column("consumer_dept", String(32), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("until", String(10), nullable=False),  # YYYY-MM-DD, the last day it is in effect
    Column("ports", Text, nullable=False),  # JSON list of port specs
    Column("created_at", String(40), nullable=False),
    Column("requester", String(200), nullable=False),
    Column("revoked_at", String(40), nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    Index("ix_data_share_resource", "resource"),
    Index("ix_data_share_consumer", "consumer_dept"),
)
