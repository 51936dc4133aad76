"""The agent's client of the central API (httpx): enrolment, probe config, heartbeats.

Network failures, timeouts, 429 and 5xx become Unreachable (the runner spools and retries);
4xx answers mean the agent itself is wrong (revoked, bad token) and raise OperationFailed.
`credential.json` is written atomically (cloudctl/agent/durable.py), mode 0600.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from cloudctl.agent import durable
from cloudctl.agent.probes import ProbeTarget
from cloudctl.agent.runner import HeartbeatAck, Unreachable
from cloudctl.errors import OperationFailed


class HttpTransport:
    def __init__(self, api_url: str, state_dir: Path, *, token: str | None = None,
                 verify: bool | str = True, timeout_s: float = 5.0, hostname: str | None = None,
                 metrics_address: str | None = None, agent_version: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.credential_file = Path(state_dir) / "credential.json"
        self.token = token
        self.hostname = hostname
        self.metrics_address = metrics_address
        self.agent_version = agent_version
        self.client = httpx.Client(base_url=self.api_url, verify=verify, timeout=timeout_s)
        self.agent_id: str | None = None
        self._credential: str | None = None
        self._load_credential()

    def _load_credential(self) -> None:
        raw = durable.read_atomic(self.credential_file, lambda b: _credential(b) is not None)
        if raw is None:
            return
        data = _credential(raw)
        if data is None:
            raise OperationFailed(f"{self.credential_file} is not a credential the agent wrote",
                                  hint="enrol again: delete it and put a new token from `cloudctl agent enroll` "
                                       "in the config")
        self.agent_id, self._credential = data

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            r = self.client.request(method, path, **kwargs)
        except httpx.TransportError as e:  # connect error, reset, timeout
            raise Unreachable(f"{method} {path}: {e}") from e
        if r.status_code == 429 or r.status_code >= 500:
            raise Unreachable(f"{method} {path}: HTTP {r.status_code}")
        if r.status_code >= 400:
            raise OperationFailed(f"central API refused {method} {path}: HTTP {r.status_code} {r.text[:300]}")
        return r

    def ensure_enrolled(self) -> int | None:
        """Exchange the one-time token for a credential (kept 0600 in the state dir) once.
        Returns the API's last_seq for the agent when it enrolled now, else None."""
        if self._credential:
            return None
        if not self.token:
            raise OperationFailed(f"not enrolled and no enrolment token: no {self.credential_file}",
                                  hint="run `cloudctl agent enroll` centrally and put the token in the config")
        body = {"token": self.token, "hostname": self.hostname, "metrics_address": self.metrics_address,
                "agent_version": self.agent_version}
        data = self._request("POST", "/v1/agents/enrol", json=body).json()
        self.credential_file.parent.mkdir(parents=True, exist_ok=True)
        durable.write_atomic(self.credential_file, json.dumps(
            {"agent_id": data["agent_id"], "credential": data["credential"]}).encode(), mode=0o600)
        self.agent_id, self._credential = data["agent_id"], data["credential"]
        return int(data.get("last_seq", 0))

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._credential}"}

    def fetch_config(self) -> tuple[list[ProbeTarget], int | None]:
        """The probe targets and the API's last_seq for this agent."""
        data = self._request("GET", f"/v1/agents/{self.agent_id}/config", headers=self._auth).json()
        targets = [ProbeTarget(name=p["name"], kind=p["kind"], target=p["target"], count=p["count"],
                               timeout_s=p["timeout_s"], expect_status=p["expect_status"], link_id=p["link_id"])
                   for p in data["probes"]]
        return targets, data.get("last_seq")

    def send_heartbeat(self, record: dict[str, Any]) -> HeartbeatAck:
        """The API applies a seq once; an already-seen one is answered as a duplicate."""
        body = {"seq": record["seq"], "sent_at": record.get("ts"), "results": record["results"],
                "agent_version": self.agent_version, "metrics_address": self.metrics_address}
        data = self._request("POST", f"/v1/agents/{self.agent_id}/heartbeats", json=body, headers=self._auth).json()
        return HeartbeatAck(bool(data.get("accepted")), bool(data.get("duplicate")), data.get("last_seq"))

    def close(self) -> None:
        self.client.close()


def _credential(raw: bytes) -> tuple[str, str] | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("agent_id", "credential")):
        return None
    return data["agent_id"], data["credential"]
