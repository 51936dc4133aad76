"""agent.yaml: where the central API is, where state lives, how often to report."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cloudctl.values import control_character


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_url: str = Field(pattern=r"^https?://")
    state_dir: Path = Path("/var/lib/cloudctl-agent")
    enrol_token: str | None = None
    interval_seconds: float = Field(15.0, gt=0, le=3600)
    config_refresh_seconds: float = Field(300.0, gt=0, le=86400)  # probe targets asked again after this
    metrics_listen: str | None = Field(None, pattern=r"^[^:]+:[0-9]{1,5}$", description="HOST:PORT for /metrics")
    metrics_address: str | None = None  # what Prometheus should scrape, if not metrics_listen
    ca_file: str | None = None  # TLS: verify the API against this CA bundle
    spool_max_records: int = Field(50_000, ge=100, le=10_000_000)
    hostname: str | None = Field(None, max_length=253)

    @field_validator("api_url", "enrol_token", "metrics_listen", "metrics_address", "ca_file", "hostname")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        """No control characters (they would reach logs, the API and `agent list` raw)."""
        if value is not None and control_character(value) is not None:
            raise ValueError("must not contain control characters")
        return value


def load_agent_config(path: Path) -> AgentConfig:
    """Read agent.yaml (cloudctl.inputs: bounded, strict UTF-8, errors at file:line:column: field)."""
    from cloudctl.inputs.documents import load_document

    hint = "see docs/agents.md (agent.yaml) for the fields"
    doc = load_document(path, what="agent config", hint="pass --config agent.yaml")
    try:
        return AgentConfig.model_validate(doc.mapping("agent config", hint=hint))
    except ValidationError as e:
        raise doc.validation_error(e, hint=hint) from e
