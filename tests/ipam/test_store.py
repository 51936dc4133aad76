"""The address plan on a real store: SQLite and PostgreSQL (the `store` fixture runs both)."""

from __future__ import annotations

import pytest
from netaddr import IPNetwork

from cloudctl.audit import Actor, list_entries, verify_chain
from cloudctl.audit.log import count_entries
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.ipam import (
    PoolExhausted,
    allocate_prefix,
    create_pool,
    delete_pool,
    get_allocation,
    list_allocations,
    pool_free,
    pool_tree,
    release_by_prefix,
    release_prefix,
    reserve_prefix,
)
from cloudctl.store import Store


@pytest.fixture
def plan(store: Store, actor: Actor) -> Store:
    """national 10.0.0.0/8 -> province 10.11.0.0/16 -> department pool 10.11.8.0/22."""
    with store.begin() as conn:
        create_pool(conn, "10.0.0.0/8", "national", None, actor)
        create_pool(conn, "10.11.0.0/16", "prov-11", "national", actor)
        create_pool(conn, "10.11.8.0/22", "dept-11-health", "prov-11", actor)
    return store


def test_hierarchy_rules(plan: Store, actor: Actor) -> None:
    with plan.begin() as conn:
        with pytest.raises(InputError, match="does not lie inside"):
            create_pool(conn, "10.12.0.0/16", "bad", "prov-11", actor)
        with pytest.raises(InputError, match="does not lie inside"):
            create_pool(conn, "2001:db8::/32", "bad6", "national", actor)
        with pytest.raises(ConflictError, match="overlaps pool 'dept-11-health'"):
            create_pool(conn, "10.11.8.0/23", "bad", "prov-11", actor)
        with pytest.raises(ConflictError, match="overlaps pool 'national'"):
            create_pool(conn, "10.0.0.0/7", "bad", None, actor)
        with pytest.raises(NotFoundError):
            create_pool(conn, "10.13.0.0/16", "x", "no-such-pool", actor)
        with pytest.raises(ConflictError, match="already exists"):
            create_pool(conn, "10.13.0.0/16", "prov-11", "national", actor)
    before = _audit_count(plan)
    with plan.begin() as conn:  # the same pool again: no change, no audit record
        again = create_pool(conn, "10.11.0.0/16", "prov-11", "national", actor)
    assert again.cidr == "10.11.0.0/16"
    assert _audit_count(plan) == before


def test_allocation_is_idempotent_and_audited(plan: Store, actor: Actor) -> None:
    before = _audit_count(plan)
    with plan.begin() as conn:
        first = allocate_prefix(conn, "prov-11", 24, "dept:health", actor)
    with plan.begin() as conn:
        again = allocate_prefix(conn, "prov-11", 24, "dept:health", actor)
        assert get_allocation(conn, "dept:health") == first
    assert isinstance(first, IPNetwork) and first == again
    assert _audit_count(plan) == before + 1
    with plan.connect() as conn:
        entry = list_entries(conn, limit=1)[0]
        assert verify_chain(conn).ok
    assert (entry["action"], entry["object_id"], entry["actor"]) == ("ipam.allocate", str(first), "tester")
    with plan.begin() as conn, pytest.raises(ConflictError, match="already holds"):
        allocate_prefix(conn, "prov-11", 25, "dept:health", actor)


def test_child_pool_space_is_never_allocated_from_the_parent(plan: Store, actor: Actor) -> None:
    with plan.begin() as conn:
        got = [allocate_prefix(conn, "prov-11", 22, f"o{i}", actor) for i in range(63)]
        child = IPNetwork("10.11.8.0/22")
        assert all(not (g.first <= child.last and child.first <= g.last) for g in got)
        with pytest.raises(PoolExhausted) as e:
            allocate_prefix(conn, "prov-11", 22, "one-too-many", actor)
    assert "prov-11" in e.value.message and "10.11.0.0/16" in e.value.message
    assert "no free space" in e.value.message


def test_best_fit_fills_the_smallest_hole(store: Store, actor: Actor) -> None:
    with store.begin() as conn:
        create_pool(conn, "10.0.0.0/24", "p", None, actor)
        assert str(allocate_prefix(conn, "p", 26, "o1", actor)) == "10.0.0.0/26"
        assert str(allocate_prefix(conn, "p", 25, "o2", actor)) == "10.0.0.128/25"
        assert str(allocate_prefix(conn, "p", 27, "o3", actor)) == "10.0.0.64/27"
        release_prefix(conn, "o1", actor)
        # free: 10.0.0.0/26 and 10.0.0.96/27; lowest-first would split the /26
        assert str(allocate_prefix(conn, "p", 27, "o4", actor)) == "10.0.0.96/27"
        assert str(allocate_prefix(conn, "p", 26, "o5", actor)) == "10.0.0.0/26"


def test_exhaustion_names_the_pool_and_its_free_space(store: Store, actor: Actor) -> None:
    with store.begin() as conn:
        create_pool(conn, "192.0.2.0/24", "small", None, actor)
        allocate_prefix(conn, "small", 25, "a", actor)
        allocate_prefix(conn, "small", 26, "b", actor)
    with store.begin() as conn, pytest.raises(PoolExhausted) as e:
        allocate_prefix(conn, "small", 25, "c", actor)
    text = e.value.render()
    assert "'small' (192.0.2.0/24) has no free /25" in text
    assert "64 free addresses in 1 blocks, largest /26: 192.0.2.192/26" in text


def test_reservations_are_never_allocated(store: Store, actor: Actor) -> None:
    with store.begin() as conn:
        create_pool(conn, "10.20.0.0/23", "p", None, actor)
        res = reserve_prefix(conn, "10.20.0.0/24", actor, reason="gateways")
        assert res.pool == "p" and res.kind == "reserved"
        assert str(allocate_prefix(conn, "p", 24, "x", actor)) == "10.20.1.0/24"
        with pytest.raises(PoolExhausted):
            allocate_prefix(conn, "p", 25, "y", actor)
        with pytest.raises(ConflictError, match=r"10\.20\.1\.0/24 allocated to 'x'"):
            reserve_prefix(conn, "10.20.1.0/25", actor, reason="late")
        release_by_prefix(conn, "10.20.0.0/24", actor)
        assert str(allocate_prefix(conn, "p", 25, "y", actor)) == "10.20.0.0/25"
    with store.connect() as conn:
        actions = [e["action"] for e in list_entries(conn, limit=None, object_type="ipam_allocation")]
    assert actions == ["ipam.allocate", "ipam.unreserve", "ipam.allocate", "ipam.reserve"]


def test_reserve_goes_to_the_deepest_pool(plan: Store, actor: Actor) -> None:
    with plan.begin() as conn:
        res = reserve_prefix(conn, "10.11.8.0/28", actor, reason="router")
        assert res.pool == "dept-11-health"
        with pytest.raises(NotFoundError, match="lies in no address pool"):
            reserve_prefix(conn, "172.16.0.0/24", actor, reason="x")


def test_release_and_remove(plan: Store, actor: Actor) -> None:
    with plan.begin() as conn:
        net = allocate_prefix(conn, "dept-11-health", 24, "svc", actor)
        with pytest.raises(ConflictError, match="not empty"):
            delete_pool(conn, "dept-11-health", actor)
        assert release_prefix(conn, "svc", actor) == net
        assert release_prefix(conn, "svc", actor, missing_ok=True) is None
        with pytest.raises(NotFoundError):
            release_prefix(conn, "svc", actor)
        delete_pool(conn, "dept-11-health", actor)
        assert [b.cidr for b in pool_free(conn, "prov-11", 16)] == ["10.11.0.0/16"]


def test_ipv6_plan(store: Store, actor: Actor) -> None:
    with store.begin() as conn:
        create_pool(conn, "2001:db8::/32", "v6", None, actor)
        create_pool(conn, "2001:db8:100::/40", "v6-prov", "v6", actor)
        nets = [allocate_prefix(conn, "v6-prov", 48, f"d{i}", actor) for i in range(3)]
        small = allocate_prefix(conn, "v6", 64, "tiny", actor)
    assert [str(n) for n in nets] == ["2001:db8:100::/48", "2001:db8:101::/48", "2001:db8:102::/48"]
    assert str(small) == "2001:db8::/64"
    with store.connect() as conn:
        rows = {v.pool.name: v for v in pool_tree(conn)}
        assert [a.owner for a in list_allocations(conn, "v6-prov")] == ["d0", "d1", "d2"]
    assert rows["v6-prov"].usage.allocated == 3 * 2**80
    assert rows["v6"].usage.delegated == 2**88
    assert rows["v6-prov"].depth == 1


def test_failed_change_leaves_nothing(store: Store, actor: Actor) -> None:
    with store.begin() as conn:
        create_pool(conn, "10.0.0.0/30", "tiny", None, actor)
    before = _audit_count(store)
    with pytest.raises(PoolExhausted), store.begin() as conn:
        allocate_prefix(conn, "tiny", 30, "a", actor)
        allocate_prefix(conn, "tiny", 30, "b", actor)  # exhausted: the whole transaction rolls back
    with store.connect() as conn:
        assert list_allocations(conn) == []
    assert _audit_count(store) == before


def _audit_count(store: Store) -> int:
    with store.connect() as conn:
        return count_entries(conn)
