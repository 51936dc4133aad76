"""The one parallel-approval engine, pure: who may vote, what the votes decide, and replaying a
request's history. No database; cloudctl.approvals.requests stores what this decides.

Rules (docs/approvals.md):
- every group is asked at once; a vote counts in every group that lists the reviewer;
- any rejection by a reviewer rejects the request, with that reviewer's reason;
- the request is approved when every group's rule holds (all / any / quorum:K), counting the
  distinct PEOPLE who cast the approving votes (`cast_by`): one person holding two delegations,
  or voting for themselves and a delegator, counts once in a group (four eyes);
- the requester never votes on their own request, not even as a delegate; `all` means every
  member but the requester;
- once escalated (deadline passed), the escalation group joins: its rule holding approves
  the request on its own, and a rejection from it rejects;
- a delegate votes for each delegator with an active delegation who has not voted yet
  (one hop: delegations are not transitive), and for themselves if they are a reviewer. The
  delegator's vote is recorded (reviewer = delegator, cast_by = delegate), but it adds a person
  to a group only if the delegate has not already counted there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cloudctl.approvals.policy import Policy, policy_from_json

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
FINAL = (APPROVED, REJECTED, WITHDRAWN)


@dataclass(frozen=True)
class Vote:
    reviewer: str
    decision: str  # approve | reject
    reason: str | None
    at: str
    cast_by: str


@dataclass(frozen=True)
class GroupState:
    name: str
    rule: str
    approvals: tuple[str, ...]
    needed: int
    holds: bool
    waiting_for: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.name, "rule": self.rule, "approvals": list(self.approvals), "needed": self.needed,
                "holds": self.holds, "waiting_for": list(self.waiting_for)}


@dataclass(frozen=True)
class Outcome:
    status: str  # pending | approved | rejected
    reason: str | None
    groups: tuple[GroupState, ...]


def group_states(policy: Policy, votes: list[Vote], escalated: bool, requester: str | None = None
                 ) -> tuple[GroupState, ...]:
    approved = {v.reviewer: v.cast_by for v in votes if v.decision == "approve" and v.cast_by != requester}
    voted = {v.reviewer for v in votes}
    groups = list(policy.groups) + ([policy.escalation] if escalated and policy.escalation else [])
    states = []
    for g in groups:
        yes = tuple(m for m in g.eligible(requester) if m in approved)
        people = {approved[m] for m in yes}
        states.append(GroupState(g.name, g.rule, yes, g.needed(requester), len(people) >= g.needed(requester),
                                 tuple(m for m in g.eligible(requester) if m not in voted)))
    return tuple(states)


def evaluate(policy: Policy, votes: list[Vote], escalated: bool = False, requester: str | None = None) -> Outcome:
    """What the votes so far decide."""
    eligible = policy.reviewers(escalated) - {requester}
    rejects = sorted((v for v in votes if v.decision == "reject" and v.reviewer in eligible
                      and v.cast_by != requester), key=lambda v: v.at)
    states = group_states(policy, votes, escalated, requester)
    if rejects:
        r = rejects[0]
        by = r.reviewer if r.cast_by == r.reviewer else f"{r.reviewer} (cast by {r.cast_by})"
        return Outcome(REJECTED, f"rejected by {by}: {r.reason or 'no reason given'}", states)
    regular = states[: len(policy.groups)]
    if all(s.holds for s in regular):
        return Outcome(APPROVED, "every reviewer group's rule holds", states)
    if escalated and policy.escalation and states[-1].holds:
        return Outcome(APPROVED, f"approved by escalation group {policy.escalation.name}", states)
    return Outcome(PENDING, None, states)


def voters_for(policy: Policy, caster: str, delegators: list[str], already_voted: set[str],
               escalated: bool, requester: str | None = None) -> list[str]:
    """Whose votes `caster` casts now: themselves if a reviewer, and each active delegator (never the requester's,
    and nobody's when the caster is the requester)."""
    if caster == requester:
        return []
    eligible = policy.reviewers(escalated) - {requester}
    whose = [caster] if caster in eligible and caster not in already_voted else []
    whose += [d for d in sorted(set(delegators)) if d in eligible and d not in already_voted and d != caster]
    return whose


@dataclass
class Replay:
    """A request rebuilt from its events alone."""

    status: str = PENDING
    reason: str | None = None
    votes: list[Vote] = field(default_factory=list)
    escalated: bool = False
    decided_events: int = 0
    policy: Policy | None = None
    requester: str | None = None
    problems: list[str] = field(default_factory=list)


def replay(events: list[dict[str, Any]]) -> Replay:
    """Fold a request's events (oldest first) into its state, re-deciding at every step.

    `problems` lists any recorded decision that the rules would not have made.
    """
    state = Replay()
    for e in events:
        data = e["data"] if isinstance(e["data"], dict) else json.loads(e["data"])
        kind = e["kind"]
        if kind == "created":
            state.policy = policy_from_json(json.dumps(data["policy"]))
            state.requester = e.get("actor")
            if data.get("auto_approved"):
                state.status, state.reason = APPROVED, "auto-approved: inside the policy's size tier"
        elif kind == "vote":
            state.votes.append(Vote(data["reviewer"], data["decision"], data.get("reason"), e["at"],
                                    data.get("cast_by", data["reviewer"])))
        elif kind == "escalated":
            state.escalated = True
        elif kind == "withdrawn":
            state.status, state.reason = WITHDRAWN, data.get("reason")
        elif kind == "decided":
            state.decided_events += 1
            if data["status"] != state.status:
                state.problems.append(f"event {e.get('id')}: recorded {data['status']}, rules say {state.status}")
        if kind in ("vote", "escalated") and state.status == PENDING and state.policy is not None:
            outcome = evaluate(state.policy, state.votes, state.escalated, state.requester)
            state.status, state.reason = outcome.status, outcome.reason
    return state
