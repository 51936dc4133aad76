"""agent.yaml: where the central API is, where state lives, how often to report."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudctl.errors import InputError


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_url: str = Field(pattern=r"^https?://")
    state_dir: Path = Path("/var/lib/cloudctl-agent")
    enrol_token: str | None = None
    interval_seconds: float = Field(15.0, gt=0, le=3600)
    metrics_listen: str | None = Field(None, pattern=r"^[^:]+:[0-9]{1,5}$", description="HOST:PORT for /metrics")
    metrics_address: str | None = None  # what Prometheus should scrape, if not metrics_listen
    ca_file: str | None = None  # TLS: verify the API against this CA bundle
    spool_max_records: int = Field(50_000, ge=100)
    hostname: str | None = None


def load_agent_config(path: Path) -> AgentConfig:
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError as e:
        raise InputError("agent config not found", file=str(path), hint="pass --config agent.yaml") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"not valid YAML: {e}", file=str(path), line=mark.line + 1 if mark else None,
                         column=mark.column + 1 if mark else None) from e
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], file=str(path), field=field,
                         hint="see docs/agents.md (agent.yaml) for the fields") from e
