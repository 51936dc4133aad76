"""The pure approval rules: all / any / quorum, rejection, escalation, delegation, replay."""

from __future__ import annotations

import pytest

from cloudctl.approvals.engine import APPROVED, PENDING, REJECTED, Vote, evaluate, replay, voters_for
from cloudctl.approvals.kinds import KINDS
from cloudctl.approvals.policy import parse_policy
from cloudctl.errors import InputError

from .conftest import POLICY


def v(who: str, decision: str = "approve", at: str = "t1", by: str | None = None, reason: str | None = None) -> Vote:
    return Vote(who, decision, reason, at, by or who)


def test_every_group_rule_must_hold() -> None:
    p = parse_policy(POLICY)
    assert evaluate(p, []).status == PENDING
    votes = [v("fin-a"), v("sec-b"), v("net-a")]
    out = evaluate(p, votes)
    assert out.status == PENDING  # finance needs 2 of 3
    assert [g.holds for g in out.groups] == [False, True, True]
    assert out.groups[0].waiting_for == ("fin-b", "fin-c")
    assert evaluate(p, [*votes, v("fin-c")]).status == APPROVED


def test_all_rule_needs_everyone() -> None:
    p = parse_policy({"name": "p", "groups": [{"name": "g", "members": ["a", "b"], "rule": "all"}]})
    assert evaluate(p, [v("a")]).status == PENDING
    assert evaluate(p, [v("a"), v("b")]).status == APPROVED


def test_any_rejection_rejects_with_the_reason_of_the_first() -> None:
    p = parse_policy(POLICY)
    out = evaluate(p, [v("fin-a"), v("sec-a", "reject", "t2", reason="no budget"),
                       v("net-a", "reject", "t3", reason="later")])
    assert out.status == REJECTED and out.reason == "rejected by sec-a: no budget"


def test_escalation_group_decides_once_escalated() -> None:
    p = parse_policy(POLICY)
    assert voters_for(p, "cio", [], set(), escalated=False) == []
    assert voters_for(p, "cio", [], set(), escalated=True) == ["cio"]
    assert evaluate(p, [v("cio")], escalated=True).status == APPROVED
    assert evaluate(p, [v("cio", "reject", reason="no")], escalated=True).status == REJECTED


def test_delegate_votes_for_active_delegators_once() -> None:
    p = parse_policy(POLICY)
    assert voters_for(p, "deputy", ["fin-a", "sec-a", "stranger"], set(), False) == ["fin-a", "sec-a"]
    assert voters_for(p, "fin-b", ["fin-a"], {"fin-a"}, False) == ["fin-b"]
    assert voters_for(p, "fin-b", ["fin-a"], {"fin-b"}, False) == ["fin-a"]


@pytest.mark.parametrize(("patch", "field"), [
    ({"groups": []}, "groups"),
    ({"groups": [{"name": "g", "members": ["a"], "rule": "quorum:2"}]}, "groups[0].rule"),
    ({"groups": [{"name": "g", "members": ["a"], "rule": "most"}]}, "groups[0].rule"),
    ({"groups": [{"name": "g", "members": []}]}, "groups[0].members"),
    ({"deadline": "soon"}, "deadline"),
    ({"colour": "red"}, "colour"),
    ({"deadline": "99999999999d"}, "deadline"),
    ({"groups": [{"name": "g", "members": ["x" * 10_000]}]}, "groups[0].members[0]"),
    ({"groups": [{"name": "g", "members": ["a\x1b[31m"]}]}, "groups[0].members[0]"),
    ({"auto_approve": {"max": {"vcpus": 4, "ram": 8192}}}, "auto_approve.kinds"),
    ({"auto_approve": {"kinds": ["quota-increase"], "max": {"vcpus": float("inf")}}}, "auto_approve.max.vcpus"),
    ({"auto_approve": {"kinds": ["quota-increase"], "max": {"vcpus": float("nan")}}}, "auto_approve.max.vcpus"),
    ({"auto_approve": {"kinds": ["quota-increase"], "max": {"vcpu": 4}}}, "auto_approve.max.vcpu"),
    ({"auto_approve": {"kinds": ["anything"], "max": {}}}, "auto_approve.kinds[0]"),
])
def test_bad_policies_name_the_field(patch: dict, field: str) -> None:
    with pytest.raises(InputError) as e:
        parse_policy({**POLICY, **patch}, "policy.yaml")
    assert e.value.field == field and e.value.file == "policy.yaml"


def test_auto_approve_tier_fails_closed() -> None:
    p = parse_policy(POLICY)
    quota = KINDS["quota-increase"]

    def sizes(**given: int) -> dict[str, int]:
        return quota.sizes(quota.parse(given), None)

    assert p.auto_approves("quota-increase", quota.size_fields, sizes(vcpus=4, ram=4096))
    assert not p.auto_approves("quota-increase", quota.size_fields, sizes(vcpus=5))
    # the README's own policy and `request quota --instances 500 --gigabytes 100000`: fields the tier does not name
    # must be absent or zero
    assert not p.auto_approves("quota-increase", quota.size_fields, sizes(instances=500, gigabytes=100000))
    # a size field missing from what is judged is not "0": the request is not inside the tier
    assert not p.auto_approves("quota-increase", quota.size_fields, {"vcpus": 1})
    assert not p.auto_approves("quota-increase", quota.size_fields, {**sizes(vcpus=1), "ram": -100})
    assert not p.auto_approves("server", KINDS["server"].size_fields, {"instances": 1, "vcpus": 1, "ram": 1})
    # gateway publications have no size fields: only a tier that names their kind approves them
    assert not p.auto_approves("gateway-publication", (), {})
    named = parse_policy({**POLICY, "auto_approve": {"kinds": ["gateway-publication"]}})
    assert named.auto_approves("gateway-publication", (), {})


def test_four_eyes_count_distinct_people() -> None:
    p = parse_policy(POLICY)
    base = [v("sec-a"), v("net-a")]
    # fin-b votes for themselves and for fin-a (a delegation): two reviewers, one person
    assert evaluate(p, [*base, v("fin-a", by="fin-b"), v("fin-b")]).status == PENDING
    # one person holding two delegations does not meet quorum:2 alone either
    assert evaluate(p, [*base, v("fin-a", by="deputy"), v("fin-c", by="deputy")]).status == PENDING
    assert evaluate(p, [*base, v("fin-a", by="deputy"), v("fin-c")]).status == APPROVED


def test_the_requester_never_votes_on_their_own_request() -> None:
    p = parse_policy(POLICY)
    assert voters_for(p, "fin-a", [], set(), False, requester="fin-a") == []
    assert voters_for(p, "deputy", ["fin-a", "sec-a"], set(), False, requester="fin-a") == ["sec-a"]
    votes = [v("fin-a"), v("fin-b"), v("sec-a"), v("net-a")]
    assert evaluate(p, votes).status == APPROVED
    assert evaluate(p, votes, requester="fin-a").status == PENDING  # fin-a's vote does not count
    assert evaluate(p, [*votes, v("fin-c")], requester="fin-a").status == APPROVED
    # `all` means every member but the requester; a group made only of the requester can never approve
    solo = parse_policy({"name": "p", "groups": [{"name": "g", "members": ["a", "b"], "rule": "all"}]})
    assert evaluate(solo, [v("b")], requester="a").status == APPROVED
    assert solo.unreachable_for("a") == []
    lone = parse_policy({"name": "p", "groups": [{"name": "g", "members": ["a"], "rule": "any"}]})
    assert lone.unreachable_for("a") == ["g (any of a)"]


def test_replay_rebuilds_and_checks_recorded_decisions() -> None:
    p = parse_policy(POLICY)
    events = [{"id": 1, "kind": "created", "at": "t0", "data": {"policy": p.as_dict(), "auto_approved": False}}]
    for i, who in enumerate(["fin-a", "fin-b", "sec-a", "net-a"]):
        events.append({"id": 2 + i, "kind": "vote", "at": f"t{i + 1}",
                       "data": {"reviewer": who, "decision": "approve", "cast_by": who}})
    events.append({"id": 9, "kind": "decided", "at": "t5", "data": {"status": "approved"}})
    state = replay(events)
    assert state.status == APPROVED and state.problems == [] and state.decided_events == 1
    events[-1] = {"id": 9, "kind": "decided", "at": "t5", "data": {"status": "rejected"}}
    assert replay(events).problems  # a forged decision shows up
