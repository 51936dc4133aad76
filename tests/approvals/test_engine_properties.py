"""Property tests of the approval rules: the decision is what the definition says, and replaying
the history that the engine would have written gives the same decision."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cloudctl.approvals.engine import APPROVED, PENDING, REJECTED, Vote, evaluate, replay
from cloudctl.approvals.policy import parse_policy

PEOPLE = [f"p{i}" for i in range(7)]


@st.composite
def policies(draw):  # type: ignore[no-untyped-def]
    groups = []
    for gi in range(draw(st.integers(1, 3))):
        members = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))
        rule = draw(st.sampled_from(["all", "any", *[f"quorum:{k}" for k in range(1, len(members) + 1)]]))
        groups.append({"name": f"g{gi}", "members": members, "rule": rule})
    return parse_policy({"name": "p", "groups": groups})


@settings(max_examples=300, deadline=None)
@given(policies(), st.sampled_from(PEOPLE),
       st.lists(st.tuples(st.sampled_from(PEOPLE), st.booleans()), unique_by=lambda t: t[0]))
def test_decision_matches_definition_and_replay(policy, requester, ballots) -> None:  # type: ignore[no-untyped-def]
    assume(not policy.unreachable_for(requester))  # the store refuses to file such a request
    eligible = policy.reviewers() - {requester}
    votes: list[Vote] = []
    events = [{"id": 0, "kind": "created", "at": "t000", "actor": requester, "data": {"policy": policy.as_dict()}}]
    status = PENDING
    for i, (who, yes) in enumerate(ballots):
        if who not in eligible or status != PENDING:
            continue  # the store refuses these votes (the requester's among them)
        votes.append(Vote(who, "approve" if yes else "reject", None if yes else "no", f"t{i + 1:03d}", who))
        events.append({"id": i + 1, "kind": "vote", "at": f"t{i + 1:03d}",
                       "data": {"reviewer": who, "decision": votes[-1].decision, "reason": votes[-1].reason}})
        status = evaluate(policy, votes, requester=requester).status
        if status != PENDING:
            events.append({"id": 100 + i, "kind": "decided", "at": f"t{i + 1:03d}", "data": {"status": status}})

    approvals = {v.reviewer for v in votes if v.decision == "approve"}
    if any(v.decision == "reject" for v in votes):
        expected = REJECTED
    elif all(len(approvals & (set(g.members) - {requester})) >= g.needed(requester) for g in policy.groups):
        expected = APPROVED
    else:
        expected = PENDING
    assert status == expected
    replayed = replay(events)
    assert replayed.status == status and replayed.problems == [] and replayed.decided_events == (status != PENDING)
    # a rejection is the last vote taken: nothing is counted after a decision
    if status == REJECTED:
        assert votes[-1].decision == "reject"
