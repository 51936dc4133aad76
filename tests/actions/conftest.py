"""A store seeded with one of everything a command can name (divisions, a department, a link, an agent, a
probe, a pending request, a role and a grant, a warned idle resource, managed hosts, approval policies),
and helpers to run the real CLI in-process as an operator and to snapshot every table but the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import MetaData, func, insert, select

from cloudctl.audit import Actor
from cloudctl.store import Store, open_store
from cloudctl.store.tables.core import audit_log

REPO = Path(__file__).resolve().parents[2]
DIVISIONS = REPO / "tests" / "fixtures" / "divisions"
GATEWAY_POLICY = REPO / "tests" / "gateway" / "policies" / "lab.yaml"
BOSS = Actor("boss", "pytest tests/actions")
TOWNSHIP, REGION = "110101001", "11"
STANDARD = {"name": "standard", "deadline": "48h",
            "groups": [{"name": "finance", "members": ["fin-a", "fin-b", "fin-c"], "rule": "quorum:2"},
                       {"name": "security", "members": ["sec-a", "sec-b"], "rule": "any"}],
            "auto_approve": {"kinds": ["quota-increase"], "max": {"vcpus": 4, "ram": 8192}}}


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Seeded:
    store: Store
    url: str
    tmp: Path
    ids: dict[str, Any] = field(default_factory=dict)


def seed(url: str, tmp: Path) -> Seeded:
    from cloudctl.agents.probes import Probe, add_probe
    from cloudctl.api.registry import create_enrolment
    from cloudctl.approvals import create_request, set_policy
    from cloudctl.automation.hosts import register_host
    from cloudctl.automation.inventory import ManagedHost
    from cloudctl.cloud.departments import create_department
    from cloudctl.coverage.links import LinkRecord, add_link
    from cloudctl.divisions.importer import import_division_files
    from cloudctl.ipam import create_pool
    from cloudctl.power import bootstrap, create_role, grant_role
    from cloudctl.store.tables.cloud_ops import idle_resource

    store = open_store(url)
    s = Seeded(store, url, tmp)
    with store.begin() as conn:
        bootstrap(conn, BOSS.name, BOSS)
        set_policy(conn, STANDARD, BOSS)
        set_policy(conn, {"name": "gateway", "groups": [{"name": "security", "members": ["sec-a"], "rule": "any"}]},
                   BOSS)
        create_pool(conn, "10.0.0.0/16", "departments", None, BOSS)
        create_role(conn, "viewer", ["coverage.target.set"], BOSS)
        grant_role(conn, "viewer", "carol", BOSS, "region:11")
    import_division_files(store, [DIVISIONS / f for f in ("provinces.csv", "cities.csv", "areas.csv",
                                                         "streets.csv")], BOSS)
    create_department(store, BOSS, code="finance", name="财政局", division=REGION)
    create_department(store, BOSS, code="health", name="卫健委", division=REGION)
    add_link(store, LinkRecord("L-11-1", TOWNSHIP, "fiber", 100.0, __import__("datetime").date(2015, 1, 1)), BOSS)
    register_host(store, BOSS, ManagedHost(name="h0", role="agent", address="192.0.2.10", division_code=REGION))
    register_host(store, BOSS, ManagedHost(name="gw-lab", role="gateway", address="192.0.2.1",
                                           division_code="1101"))
    s.ids["agent"] = create_enrolment(store, BOSS, TOWNSHIP, "access").agent_id
    with store.begin() as conn:
        add_probe(conn, BOSS, Probe(division=TOWNSHIP, name="p1", kind="icmp", target="192.0.2.1", link="L-11-1"))
        s.ids["request"] = create_request(conn, Actor("alice"), kind="quota-increase", payload={"vcpus": 64},
                                          policy="standard", region=REGION)["id"]
        conn.execute(insert(idle_resource).values(
            resource_id="srv-idle-1", kind="server", name="idle-1", dept="finance", project_id="p-1",
            state="warned", idle_since="2026-10-01T00:00:00+00:00", warned_at="2026-11-01T00:00:00+00:00",
            grace_until="2026-11-08T00:00:00+00:00", action="snapshot"))
    _seed_sharing(s)
    _files(s)
    return s


SHARE_POLICY = {"name": "share-finance", "groups": [{"name": "owner", "members": ["fin-head"], "rule": "any"},
                                                    {"name": "data-authority", "members": ["data-office"],
                                                     "rule": "any"},
                                                    {"name": "security", "members": ["sec-a"], "rule": "any"}]}


def _seed_sharing(s: Seeded) -> None:
    """The lab gateway stored (as gw-share), fin-api in the catalogue, and a pending share of it for health."""
    import datetime as dt
    from dataclasses import replace

    from cloudctl.approvals import set_policy
    from cloudctl.gateway.policy import load_policy
    from cloudctl.gateway.stored import import_policy
    from cloudctl.sharing.store import add_resource, file_share, get_resource

    policy = load_policy(GATEWAY_POLICY)
    policy.gateway = replace(policy.gateway, name="gw-share")  # gw-lab stays for the gateway tests to import
    import_policy(s.store, BOSS, policy, approval_policy="gateway")
    with s.store.begin() as conn:
        set_policy(conn, SHARE_POLICY, BOSS)
        add_resource(conn, BOSS, {"name": "fin-payments", "owner_dept": "finance", "gateway": "gw-share",
                                  "service": "fin-api", "share_class": "conditional",
                                  "approval_policy": "share-finance", "description": None})
        s.ids["share"] = file_share(conn, Actor("clerk"), get_resource(conn, "fin-payments"), consumer="health",
                                    purpose="reconciliation", until=dt.date(2030, 1, 1), ports=[443],
                                    owner_region=REGION)["id"]


def _files(s: Seeded) -> None:
    t = s.tmp
    (t / "links.csv").write_text("link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,provider\n"
                                 f"L-11-2,{TOWNSHIP},fiber,100,2016-01-01,,telecom\n", encoding="utf-8")
    (t / "bad-links.csv").write_text("link_id,division_code,link_type,bandwidth_mbps,activated_on,retired_on,"
                                     f"provider\nL-11-3,{TOWNSHIP},fiber,100,20160101,,telecom\n", encoding="utf-8")
    (t / "policy.yaml").write_text(yaml.safe_dump({**STANDARD, "name": "other"}), encoding="utf-8")
    (t / "bad-policy.yaml").write_text(yaml.safe_dump({**STANDARD, "auto_approve": {"max": {"vcpus": 4}}}),
                                       encoding="utf-8")
    (t / "probes.yaml").write_text(yaml.safe_dump([{"division": TOWNSHIP, "name": "p2", "kind": "tcp",
                                                    "target": "192.0.2.1:22", "link": "L-11-1"}]), encoding="utf-8")
    (t / "bad-probes.yaml").write_text(yaml.safe_dump([{"division": TOWNSHIP, "name": "p2", "kind": "tcp",
                                                        "target": "192.0.2.1", "link": "L-11-1"}]), encoding="utf-8")
    (t / "bad-gateway.yaml").write_text("gateway: {name: gw-x}\n", encoding="utf-8")
    from cloudctl.audit.keys import generate_key

    generate_key(t / "audit.key")
    (t / "open.key").write_bytes((t / "audit.key").read_bytes())
    (t / "open.key").chmod(0o644)  # readable by others: refused like ssh refuses such a key


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    url = f"sqlite:///{tmp_path / 'walk.sqlite3'}"
    s = seed(url, tmp_path)
    yield s
    s.store.dispose()


@pytest.fixture
def run_as(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, seeded: Seeded
           ) -> Callable[..., Result]:
    """Run `cloudctl --db URL --as OPERATOR ARGS...` in-process (the real entry point, exit codes included).

    stdin is not a terminal here, as in a pipe or cron: destructive commands need --yes."""
    from cloudctl.cli.main import main

    monkeypatch.chdir(seeded.tmp)

    def run(operator: str, *args: str) -> Result:
        capsys.readouterr()
        try:
            main(["--db", seeded.url, "--as", operator, *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table but the audit log and its chain head (sorted reprs)."""
    md = MetaData()
    md.reflect(store.engine)
    out: dict[str, list[str]] = {}
    with store.connect() as conn:
        for name, table in md.tables.items():
            if name not in (audit_log.name, "audit_head"):
                out[name] = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
    return out


def audit_rows(store: Store) -> list[Any]:
    with store.connect() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.seq)))


def audit_count(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
