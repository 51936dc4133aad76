"""Probe agents: enrolment and credentials (hashes only), probe configuration, link status.

Telemetry times (heartbeats, probes) are epoch seconds (floats): the exporter reads them as
whole columns and Prometheus wants them that way. Operator-facing times are ISO 8601 UTC.
"""

from sqlalchemy import BigInteger, Column, Float, Index, Integer, SmallInteger, String, Table, Text

from cloudctl.store.tables.base import metadata

# One row per agent. `enrol_token_hash` holds the SHA-256 of the one-time token until the
# agent exchanges it; `credential_hash` the SHA-256 of the agent's own credential after.
agent = Table(
    "agent",
    metadata,
    Column("agent_id", String(40), primary_key=True),
    Column("division_code", String(12), nullable=False),
    Column("role", String(16), nullable=False),  # access | gateway
    Column("state", String(16), nullable=False),  # pending | active | revoked
    Column("enrol_token_hash", String(64), nullable=True),
    Column("enrol_expires_at", String(40), nullable=True),
    Column("credential_hash", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("enrolled_at", String(40), nullable=True),
    Column("hostname", Text, nullable=True),
    Column("metrics_address", Text, nullable=True),  # host:port of the agent's own /metrics
    Column("agent_version", String(64), nullable=True),
    Column("last_heartbeat_ts", Float, nullable=True),
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    Column("heartbeats", BigInteger, nullable=False, server_default="0"),
    Index("ix_agent_division_code", "division_code"),
    Index("ix_agent_last_heartbeat_ts", "last_heartbeat_ts"),
)

# The latest probe result per link, written by heartbeats of the link's division's agent.
link_status = Table(
    "link_status",
    metadata,
    Column("link_id", String(64), primary_key=True),
    Column("division_code", String(12), nullable=False),
    Column("agent_id", String(40), nullable=False),
    Column("up", SmallInteger, nullable=False),
    Column("checked_ts", Float, nullable=False),
    Column("changed_ts", Float, nullable=False),  # when `up` last changed
    # checked_ts + the API's silence window: after it the link's state is unknown (0009avail)
    Column("known_until_ts", Float, nullable=True),
    Column("loss_ratio", Float, nullable=True),
    Column("rtt_min_seconds", Float, nullable=True),
    Column("rtt_avg_seconds", Float, nullable=True),
    Column("rtt_max_seconds", Float, nullable=True),
    Column("rtt_stddev_seconds", Float, nullable=True),
    Index("ix_link_status_checked_ts", "checked_ts"),
)

# Each link's state history: a row starts an interval lasting until the link's next row, the last
# one until link_status.known_until_ts (cloudctl/availability/intervals.py). Rows are written on
# state changes only; the running sums make a period's figures two look-ups per link.
link_interval = Table(
    "link_interval",
    metadata,
    Column("link_id", String(64), primary_key=True),
    Column("start_ms", BigInteger, primary_key=True),  # epoch milliseconds
    Column("up", SmallInteger, nullable=True),  # 1 up, 0 down, NULL unknown (the agent was silent)
    Column("cum_up_ms", BigInteger, nullable=False),  # up time of the link before start_ms
    Column("cum_down_ms", BigInteger, nullable=False),
    Column("cum_outages", Integer, nullable=False),  # down rows of the link before this one
    sqlite_with_rowid=False,
)

# What agents of a division probe (served to them by GET /v1/agents/{id}/config); the
# fields are those of cloudctl.agent.probes.ProbeTarget.
agent_probe = Table(
    "agent_probe",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("division_code", String(12), nullable=False),
    Column("name", String(200), nullable=False),
    Column("link_id", String(64), nullable=True),
    Column("kind", String(8), nullable=False),  # tcp | http | icmp
    Column("target", Text, nullable=False),  # host, host:port or URL
    Column("expect_status", Integer, nullable=False, server_default="200"),
    Column("count", Integer, nullable=False, server_default="3"),  # packets per round
    Column("timeout_s", Float, nullable=False, server_default="2"),
    Index("ix_agent_probe_division_code", "division_code"),
    Index("ux_agent_probe_division_name", "division_code", "name", unique=True),
)

# Operators' API tokens (approvers voting over HTTP): SHA-256 only, like agent credentials.
api_token = Table(
    "api_token",
    metadata,
    Column("token_id", String(40), primary_key=True),
    Column("operator", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
    Index("ix_api_token_operator", "operator"),
)
