"""Managed hosts (gateways and agents reached by Ansible) and the history of gateway deploys.

`managed_host` feeds the dynamic inventory; `gateway_deploy` records every deploy, confirm,
rollback and verify, so operators (and the exporter's drift metric) see each gateway's state.
"""

from sqlalchemy import Column, Index, Integer, String, Table, Text

from cloudctl.store.tables.base import metadata

managed_host = Table(
    "managed_host",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # gateway | agent
    Column("address", String(255), nullable=False),  # management address (IP literal or DNS name)
    Column("port", Integer, nullable=False, server_default="22"),
    Column("ssh_user", String(64), nullable=False, server_default="root"),
    Column("division_code", String(12), nullable=True),  # a string: never parse as int
    Column("vars", Text, nullable=False, server_default="{}"),  # JSON object: extra Ansible host vars
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_managed_host_role", "role"),
    Index("ix_managed_host_division_code", "division_code"),
)

gateway_deploy = Table(
    "gateway_deploy",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("gateway", String(64), nullable=False),
    Column("host", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # deploy | confirm | verify
    Column("status", String(16), nullable=False),  # pending | confirmed | failed | in-sync | drift ...
    Column("ruleset_sha256", String(64), nullable=True),
    Column("confirm_by", String(40), nullable=True),  # ISO 8601 UTC deadline of a pending deploy
    Column("drift_items", Integer, nullable=True),  # verify: how many differences
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("detail", Text, nullable=True),  # JSON
    Index("ix_gateway_deploy_gateway", "gateway"),
)
