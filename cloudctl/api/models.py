"""Request and response bodies of the API (pydantic): bounded sizes, no NaN or infinity."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

MAX_JSON_INT = 2**53 - 1  # the largest integer every JSON reader (and the schema's float bound) keeps exact
ADDRESS = r"^[A-Za-z0-9._\-\[\]:]{1,253}:[0-9]{1,5}$"
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"  # one line, no control characters (shown by `agent list`)
LAST_SEQ = "The last heartbeat sequence number the API has accepted from this agent (0: none yet)."


class Problem(BaseModel):
    """Every refusal that is not a body or parameter validation error (those are 422, HTTPValidationError)."""

    detail: str
    field: str | None = Field(None, description="The parameter or field at fault, when known.")
    hint: str | None = Field(None, description="How to fix it.")


def _json_number(value: Any) -> Any:
    """Numbers as JSON Schema reads them: pydantic alone would take `true` for 1 and "1" for 1;
    an integer may be written 5.0 (JSON Schema's integer), never 5.5."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number)]


def _bounded(ge: float, le: float) -> Any:
    """A JSON number in [ge, le] (the bounds before the validator, so the schema says minimum/maximum)."""
    return Annotated[float, Field(ge=ge, le=le), BeforeValidator(_json_number)]


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
    up: StrictBool
    error: str | None = Field(None, max_length=2000)
    sent: JsonInt = Field(0, ge=0, le=100_000)
    received: JsonInt = Field(0, ge=0, le=100_000)
    loss_ratio: _bounded(0, 1) | None = None  # type: ignore[valid-type]
    rtt_min_s: _bounded(0, 3600) | None = None  # type: ignore[valid-type]
    rtt_avg_s: _bounded(0, 3600) | None = None  # type: ignore[valid-type]
    rtt_max_s: _bounded(0, 3600) | None = None  # type: ignore[valid-type]
    rtt_stddev_s: _bounded(0, 3600) | None = None  # type: ignore[valid-type]


class HeartbeatRequest(_In):
    seq: JsonInt = Field(ge=1, le=MAX_JSON_INT,
                         description="The agent's own counter; a seq already seen is not applied again.")
    sent_at: _bounded(0, 2**33) | None = Field(None, description="When the probes ran (Unix time).")  # type: ignore[valid-type]
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
