"""Data sharing (docs/sharing.md): shares per state and class, and how long their approvals took.

Reads data_share joined to share_resource and approval_request when those tables exist. Labels are
bounded: state is one of six, class one of two (closed resources are never shared).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family, Histogram

# seconds: 1 h, 4 h, 1 d, 2 d (a policy's usual deadline), 1 week, 30 days
APPROVAL_BUCKETS = (3600.0, 14400.0, 86400.0, 172800.0, 604800.0, 2592000.0)


def collect_sharing(ctx: CollectContext) -> list[Family | Histogram]:
    from cloudctl import clock
    from cloudctl.sharing.model import CLASSES, STATES, ShareFacts, approval_seconds, local_date, share_state

    if not ctx.has("data_share", "share_resource", "approval_request"):
        return []
    zone = clock.current().zone
    today = dt.datetime.fromtimestamp(ctx.now, zone).date()
    shares = Family("cloudctl_data_shares", "gauge", "Data shares per state (on today's date) and resource class.",
                    ("state", "class"))
    durations = Histogram("cloudctl_data_share_approval_duration_seconds",
                          "Time from a data share's request to its decision (approved or rejected), per class.",
                          ("class",), APPROVAL_BUCKETS)
    counts = {(s, c): 0 for s in STATES for c in CLASSES if c != "closed"}
    for status, share_class, until, revoked_at, created_at, decided_at in ctx.conn.execute(text(
            "SELECT r.status, s.share_class, d.until, d.revoked_at, r.created_at, r.decided_at FROM data_share d "
            "JOIN share_resource s ON s.name = d.resource JOIN approval_request r ON r.id = d.id")):
        label = share_class if share_class in CLASSES else "open"
        state = share_state(ShareFacts(status, dt.date.fromisoformat(until), local_date(revoked_at, zone)), today)
        counts[(state, label)] = counts.get((state, label), 0) + 1
        took = approval_seconds(created_at, decided_at) if status in ("approved", "rejected") else None
        if took is not None:
            durations.observe(took, label)
    for (state, label), n in sorted(counts.items()):
        shares.add(n, state, label)
    return [shares, durations]
