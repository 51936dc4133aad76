"""Department quotas and usage, gateway publications and drift, approval requests.

Each collector reads its capability's tables when they exist and emits nothing otherwise
(capabilities land one by one; a store without them is still scraped cleanly).
"""

from __future__ import annotations

from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family


def collect_quotas(ctx: CollectContext) -> list[Family]:
    return []


def collect_gateway(ctx: CollectContext) -> list[Family]:
    return []


def collect_approvals(ctx: CollectContext) -> list[Family]:
    return []
