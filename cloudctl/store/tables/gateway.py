"""Tables of the gateway capability (migration branch 0004gw): stored policies and their
publications. A publication takes effect once its approval request is approved (the request's
status in approval_request, joined at read time) and only for the body that was approved."""

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from cloudctl.store.tables.base import metadata

gateway_policy = Table(
    "gateway_policy",
    metadata,
    Column("name", String(64), primary_key=True),  # the gateway's name
    Column("division_code", String(12), nullable=False),  # a string: never parse as int
    Column("body", Text, nullable=False),  # canonical JSON of the policy without its publications
    Column("source", Text, nullable=True),  # the file it was imported from
    Column("updated_at", String(40), nullable=False),
    Column("updated_by", String(200), nullable=False),
)

gateway_publication = Table(
    "gateway_publication",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("gateway", String(64), nullable=False),
    Column("position", Integer, nullable=False),  # order in the policy file (first match decides)
    Column("name", String(64), nullable=False),
    Column("body", Text, nullable=False),  # canonical JSON of the publication
    Column("request_id", Integer, nullable=False),  # its approval request (approval_request.id)
    Column("updated_at", String(40), nullable=False),
    UniqueConstraint("gateway", "name", name="uq_gateway_publication_name"),
    Index("ix_gateway_publication_gateway", "gateway"),
)
