"""Request and response bodies of the API (pydantic): bounded sizes, no NaN or infinity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ADDRESS = r"^[A-Za-z0-9._\-\[\]:]{1,253}:[0-9]{1,5}$"
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"  # one line, no control characters (shown by `agent list`)
LAST_SEQ = "The last heartbeat sequence number the API has accepted from this agent (0: none yet)."


class Problem(BaseModel):
    """Every refusal that is not a body or parameter validation error (those are 422, HTTPValidationError)."""

    detail: str
    field: str | None = Field(None, description="The parameter or field at fault, when known.")
    hint: str | None = Field(None, description="How to fix it.")


class _In(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")


class EnrolRequest(_In):
    token: str = Field(min_length=1, max_length=200)
    hostname: str | None = Field(None, max_length=253, pattern=PRINTABLE)
    metrics_address: str | None = Field(None, max_length=262, pattern=ADDRESS,
                                        description="HOST:PORT of the agent's own /metrics, for Prometheus file_sd.")
    agent_version: str | None = Field(None, max_length=64, pattern=PRINTABLE)


class EnrolResponse(BaseModel):
    agent_id: str
    division: str
    role: str
    credential: str = Field(description="Send as `Authorization: Bearer ...`; shown once, stored only as a hash.")
    heartbeat_interval_seconds: float
    last_seq: int = Field(0, description=LAST_SEQ)


class ProbeResultIn(BaseModel):
    """One probe round, as cloudctl.agent.probes.ProbeResult.to_json() writes it."""

    model_config = ConfigDict(allow_inf_nan=False, extra="ignore")
    name: str = Field(max_length=200)
    kind: Literal["tcp", "http", "icmp"]
    target: str = Field(max_length=500)
    link_id: str | None = Field(None, max_length=64)
    up: bool
    error: str | None = Field(None, max_length=2000)
    sent: int = Field(0, ge=0, le=100_000)
    received: int = Field(0, ge=0, le=100_000)
    loss_ratio: float | None = Field(None, ge=0, le=1)
    rtt_min_s: float | None = Field(None, ge=0, le=3600)
    rtt_avg_s: float | None = Field(None, ge=0, le=3600)
    rtt_max_s: float | None = Field(None, ge=0, le=3600)
    rtt_stddev_s: float | None = Field(None, ge=0, le=3600)


class HeartbeatRequest(_In):
    seq: int = Field(ge=1, le=2**62, description="The agent's own counter; a seq already seen is not applied again.")
    sent_at: float | None = Field(None, ge=0, le=2**33, description="When the probes ran (Unix time).")
    agent_version: str | None = Field(None, max_length=64, pattern=PRINTABLE)
    metrics_address: str | None = Field(None, max_length=262, pattern=ADDRESS)
    results: list[ProbeResultIn] = Field(default_factory=list, max_length=2000)


class HeartbeatResponse(BaseModel):
    accepted: bool
    duplicate: bool
    links_updated: int
    links_changed: int
    next_interval_seconds: float
    last_seq: int = Field(description=LAST_SEQ + " At or above this request's seq when it was a duplicate.")


class ProbeOut(BaseModel):
    name: str
    kind: str
    target: str
    count: int
    timeout_s: float
    expect_status: int
    link_id: str | None


class LinkOut(BaseModel):
    link_id: str
    link_type: str
    bandwidth_mbps: float


class AgentConfig(BaseModel):
    agent_id: str
    division: str
    role: str
    interval_seconds: float
    links: list[LinkOut]
    probes: list[ProbeOut]
    last_seq: int = Field(0, description=LAST_SEQ)


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: str
    detail: str | None = None


class VoteRequest(_In):
    reason: str | None = Field(None, max_length=2000, description="Required to reject.")


class VoteResponse(BaseModel):
    id: int
    vote: str
    status: str
    reason: str | None = None
    model_config = ConfigDict(extra="allow")
