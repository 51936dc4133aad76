"""Tables of the cloud capability: departments, their desired quotas and members, what cloudctl
created in OpenStack, and cloud settings (created by migration 0003cloud)."""

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, Text, UniqueConstraint

from cloudctl.store.tables.base import metadata

department = Table(
    "cloud_department",
    metadata,
    Column("code", String(32), primary_key=True),  # a string: never parse as int
    Column("name", Text, nullable=False, unique=True),
    Column("division_code", String(12), nullable=False),
    Column("contact", Text, nullable=True),
    Column("status", String(16), nullable=False),  # active | retired
    Column("cidr", String(64), nullable=True),  # the department's subnet from the address plan
    Column("created_at", String(40), nullable=False),
    Column("retired_at", String(40), nullable=True),
)

# Desired quota per department and resource (vcpus, ram_mb, instances, volumes, gigabytes, networks,...).
department_quota = Table(
    "cloud_department_quota",
    metadata,
    Column("dept_code", String(32), ForeignKey("cloud_department.code", ondelete="CASCADE"), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# The department's people in OpenStack: a Keystone user "<code>.<username>" with a role on the project.
department_member = Table(
    "cloud_department_member",
    metadata,
    Column("dept_code", String(32), ForeignKey("cloud_department.code", ondelete="CASCADE"), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
)

# What cloudctl created in OpenStack (the record of the last apply), one row per resource.
cloud_resource = Table(
    "cloud_resource",
    metadata,
    Column("dept_code", String(32), nullable=False),
    Column("kind", String(32), nullable=False),  # project, user, network, subnet, router, security_group
    Column("name", Text, nullable=False),
    Column("os_id", String(64), nullable=False),
    Column("applied_at", String(40), nullable=False),
    UniqueConstraint("dept_code", "kind", "name", name="uq_cloud_resource_dept_kind_name"),
)

# Quota values last pushed to OpenStack. Cinder has no list-all quota API, so a plan compares
# volume quotas against these (constant API calls); `cloud plan --deep` reads them from Cinder.
applied_quota = Table(
    "cloud_applied_quota",
    metadata,
    Column("dept_code", String(32), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Settings of the cloud capability: external network name, address pool, overcommit ratios.
cloud_setting = Table(
    "cloud_setting",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

__all__ = ["applied_quota", "cloud_resource", "cloud_setting", "department", "department_member", "department_quota"]
