"""All tables, one module per capability, sharing one MetaData.

Importing this package registers every table; the migrations in store/migrations/versions
create them (one branch per capability, all rooted at 0001).
"""

from cloudctl.store.tables import (  # noqa: F401  (register tables)
    agents,
    approvals,
    cloud,
    cloud_ops,
    core,
    coverage,
    divisions,
    gateway,
    hosts,
    ipam,
    sharing,
)
from cloudctl.store.tables.base import metadata

__all__ = ["metadata"]
