"""The one parallel-approval engine (resource requests now, gateway publications later).

Pure rules in policy.py and engine.py; storage in requests.py; the hook that carries out
approved requests in appliers.py (one applier per request kind).
"""

from cloudctl.approvals.appliers import APPLIERS, apply_approved, apply_request, register_applier
from cloudctl.approvals.engine import APPROVED, PENDING, REJECTED, WITHDRAWN, evaluate, replay
from cloudctl.approvals.policy import Policy, parse_policy
from cloudctl.approvals.requests import (
    cast_vote,
    create_request,
    delegate_votes,
    events_of,
    get_policy,
    list_delegations,
    list_policies,
    list_requests,
    set_policy,
    show_request,
    sweep,
    withdraw,
)

__all__ = [
    "APPLIERS", "APPROVED", "PENDING", "REJECTED", "WITHDRAWN", "Policy", "apply_approved", "apply_request",
    "cast_vote", "create_request", "delegate_votes", "evaluate", "events_of", "get_policy", "list_delegations",
    "list_policies", "list_requests", "parse_policy", "register_applier", "replay", "set_policy", "show_request",
    "sweep", "withdraw",
]
