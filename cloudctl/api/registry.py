"""Agents in the store: enrolment, token exchange, authentication, revocation, probe config.

No HTTP here: the API routes and `cloudctl agent enroll` call these functions. Every change
writes its audit record in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from cloudctl import clock
from cloudctl.api import credentials as cred
from cloudctl.audit import Actor, record_change
from cloudctl.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from cloudctl.store.tables.agents import agent, agent_probe
from cloudctl.store.tables.coverage import link
from cloudctl.store.tables.divisions import division

ROLES = ("access", "gateway")


@dataclass(frozen=True)
class AgentRecord:
    agent_id: str
    division_code: str
    role: str
    state: str
    last_seq: int


@dataclass(frozen=True)
class Enrolment:
    agent_id: str
    division_code: str
    role: str
    token: str  # shown once; only its hash is stored
    expires_at: str


def _now() -> datetime:
    return clock.now()


def create_enrolment(store: Any, actor: Actor, division_code: str, role: str,
                     ttl: timedelta = timedelta(hours=24)) -> Enrolment:
    """A pending agent for a division and a one-time token the agent exchanges for its credential."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", field="--role", hint="access or gateway")
    if ttl <= timedelta(0):
        raise InputError("the token must live a positive time", field="--ttl", hint="e.g. 24h or 30m")
    agent_id = cred.new_agent_id()
    token = cred.new_secret(cred.ENROL, agent_id)
    now = _now()
    expires = (now + ttl).isoformat(timespec="seconds")
    with store.begin() as conn:
        if conn.execute(select(division.c.code).where(division.c.code == division_code)).first() is None:
            raise NotFoundError(f"no division with code {division_code!r}", field="--division",
                                hint="see `cloudctl divisions search NAME` for codes")
        row = {"agent_id": agent_id, "division_code": division_code, "role": role, "state": "pending",
               "enrol_token_hash": cred.hash_secret(token), "enrol_expires_at": expires,
               "created_at": now.isoformat(timespec="seconds"), "created_by": actor.name}
        conn.execute(insert(agent).values(**row))
        record_change(conn, actor, "enrol", "agent", agent_id, None,
                      {"division": division_code, "role": role, "expires_at": expires})
    return Enrolment(agent_id, division_code, role, token, expires)


def exchange_token(store: Any, token: str, *, hostname: str | None = None, metrics_address: str | None = None,
                   agent_version: str | None = None) -> tuple[AgentRecord, str]:
    """Trade a valid, unexpired, unused enrolment token for the agent's own credential."""
    agent_id = cred.split_secret(token, cred.ENROL)
    with store.begin() as conn:
        row = None
        if agent_id is not None:
            row = conn.execute(select(agent).where(agent.c.agent_id == agent_id)).first()
        if not cred.matches(token, row.enrol_token_hash if row is not None else None) or row is None:
            raise PermissionDenied("invalid or already used enrolment token")
        if row.enrol_expires_at and datetime.fromisoformat(row.enrol_expires_at) < _now():
            raise PermissionDenied("the enrolment token has expired", hint="run `cloudctl agent enroll` again")
        credential = cred.new_secret(cred.CREDENTIAL, row.agent_id)
        conn.execute(update(agent).where(agent.c.agent_id == row.agent_id).values(
            state="active", enrol_token_hash=None, credential_hash=cred.hash_secret(credential),
            enrolled_at=_now().isoformat(timespec="seconds"), hostname=hostname,
            metrics_address=metrics_address, agent_version=agent_version))
        record_change(conn, Actor(f"agent:{row.agent_id}", "POST /v1/agents/enrol"), "activate", "agent",
                      row.agent_id, {"state": row.state},
                      {"state": "active", "hostname": hostname, "metrics_address": metrics_address})
    return AgentRecord(row.agent_id, row.division_code, row.role, "active", 0), credential


def authenticate(conn: Connection, credential: str) -> AgentRecord | None:
    """The active agent the credential belongs to, or None (constant-time comparison)."""
    agent_id = cred.split_secret(credential, cred.CREDENTIAL)
    row = None
    if agent_id is not None:
        row = conn.execute(select(agent.c.agent_id, agent.c.division_code, agent.c.role, agent.c.state,
                                  agent.c.credential_hash, agent.c.last_seq)
                           .where(agent.c.agent_id == agent_id)).first()
    ok = cred.matches(credential, row.credential_hash if row is not None else None)
    if not ok or row is None or row.state != "active":
        return None
    return AgentRecord(row.agent_id, row.division_code, row.role, row.state, int(row.last_seq))


def agent_division(store: Any, agent_id: str) -> str | None:
    """The division an agent serves (None: no such agent)."""
    with store.connect() as conn:
        return conn.execute(select(agent.c.division_code).where(agent.c.agent_id == agent_id)).scalar()


def revoke_agent(store: Any, actor: Actor, agent_id: str) -> None:
    with store.begin() as conn:
        row = conn.execute(select(agent.c.state).where(agent.c.agent_id == agent_id)).first()
        if row is None:
            raise NotFoundError(f"no agent {agent_id!r}", field="AGENT_ID", hint="see `cloudctl agent list`")
        if row.state == "revoked":
            raise ConflictError(f"agent {agent_id} is already revoked")
        conn.execute(update(agent).where(agent.c.agent_id == agent_id).values(
            state="revoked", credential_hash=None, enrol_token_hash=None))
        record_change(conn, actor, "revoke", "agent", agent_id, {"state": row.state}, {"state": "revoked"})


def list_agents(store: Any) -> list[dict[str, Any]]:
    cols = [agent.c.agent_id, agent.c.division_code, agent.c.role, agent.c.state, agent.c.hostname,
            agent.c.metrics_address, agent.c.enrolled_at, agent.c.last_heartbeat_ts, agent.c.heartbeats]
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(*cols).order_by(agent.c.agent_id))]


def division_link_ids(conn: Connection, division_code: str) -> set[str]:
    return set(conn.execute(select(link.c.link_id).where(link.c.division_code == division_code)).scalars())


def probe_config(store: Any, who: AgentRecord, interval_seconds: float) -> dict[str, Any]:
    """What the agent probes: its division's links and the probes configured for them."""
    with store.connect() as conn:
        links = [dict(r._mapping) for r in conn.execute(
            select(link.c.link_id, link.c.link_type, link.c.bandwidth_mbps)
            .where(link.c.division_code == who.division_code, link.c.retired_on.is_(None))
            .order_by(link.c.link_id))]
        probes = [dict(r._mapping) for r in conn.execute(
            select(agent_probe.c.name, agent_probe.c.kind, agent_probe.c.target, agent_probe.c.count,
                   agent_probe.c.timeout_s, agent_probe.c.expect_status, agent_probe.c.link_id)
            .where(agent_probe.c.division_code == who.division_code).order_by(agent_probe.c.id))]
    return {"agent_id": who.agent_id, "division": who.division_code, "role": who.role,
            "interval_seconds": interval_seconds, "links": links, "probes": probes, "last_seq": who.last_seq}
