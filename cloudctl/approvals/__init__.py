"""The one parallel-approval engine (resource requests now, gateway publications later).

Pure rules in policy.py, engine.py and kinds.py (payload schemas); storage in requests.py; the
actions every channel runs in actions.py; carrying out approved requests in appliers.py (the
appliers themselves are wired in cloudctl/wiring.py).
"""

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
    "APPROVED", "PENDING", "REJECTED", "WITHDRAWN", "Policy", "cast_vote", "create_request", "delegate_votes",
    "evaluate", "events_of", "get_policy", "list_delegations", "list_policies", "list_requests", "parse_policy",
    "replay", "set_policy", "show_request", "sweep", "withdraw",
]
