"""Extranet links and coverage targets."""

from sqlalchemy import Column, Date, Float, Index, Integer, String, Table, Text, UniqueConstraint

from cloudctl.store.tables.base import metadata

link = Table(
    "link",
    metadata,
    Column("link_id", String(64), primary_key=True),
    Column("division_code", String(12), nullable=False),
    Column("link_type", String(16), nullable=False),
    Column("bandwidth_mbps", Float, nullable=False),
    Column("activated_on", Date, nullable=False),
    Column("retired_on", Date, nullable=True),
    Column("provider", Text, nullable=True),
    Index("ix_link_division_code", "division_code"),
    Index("ix_link_active", "activated_on", "retired_on", "division_code"),  # links active on D (0008)
)

coverage_target = Table(
    "coverage_target",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("level", String(16), nullable=False),
    Column("region_code", String(12), nullable=False, server_default=""),  # "" = country
    Column("ratio", Float, nullable=False),
    Column("by_date", Date, nullable=False),
    Column("set_at", String(40), nullable=False),
    Column("metric", String(16), nullable=False, server_default="coverage"),  # coverage | availability (0009)
    UniqueConstraint("metric", "level", "region_code", name="uq_coverage_target_metric_level_region"),
)
