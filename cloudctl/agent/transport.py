"""The agent's client of the central API (httpx): enrolment, probe config, heartbeats.

Network failures, timeouts, 429 and 5xx become Unreachable (the runner spools and retries);
4xx answers mean the agent itself is wrong (revoked, bad token) and raise OperationFailed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from cloudctl.agent.probes import ProbeTarget
from cloudctl.agent.runner import Unreachable
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
        try:
            data = json.loads(self.credential_file.read_text())
        except FileNotFoundError:
            return
        self.agent_id, self._credential = data["agent_id"], data["credential"]

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

    def ensure_enrolled(self) -> str:
        """Exchange the one-time token for a credential (kept 0600 in the state dir) once."""
        if self._credential:
            return self.agent_id or ""
        if not self.token:
            raise OperationFailed(f"not enrolled and no enrolment token: no {self.credential_file}",
                                  hint="run `cloudctl agent enroll` centrally and put the token in the config")
        body = {"token": self.token, "hostname": self.hostname, "metrics_address": self.metrics_address,
                "agent_version": self.agent_version}
        data = self._request("POST", "/v1/agents/enrol", json=body).json()
        self.credential_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.credential_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"agent_id": data["agent_id"], "credential": data["credential"]}, f)
        self.agent_id, self._credential = data["agent_id"], data["credential"]
        return self.agent_id

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._credential}"}

    def fetch_targets(self) -> list[ProbeTarget]:
        data = self._request("GET", f"/v1/agents/{self.agent_id}/config", headers=self._auth).json()
        return [ProbeTarget(name=p["name"], kind=p["kind"], target=p["target"], count=p["count"],
                            timeout_s=p["timeout_s"], expect_status=p["expect_status"], link_id=p["link_id"])
                for p in data["probes"]]

    def send_heartbeats(self, records: Sequence[dict[str, Any]]) -> None:
        """In order; the API acknowledges an already-seen seq without applying it twice."""
        for rec in records:
            body = {"seq": rec["seq"], "sent_at": rec["ts"], "results": rec["results"],
                    "agent_version": self.agent_version, "metrics_address": self.metrics_address}
            self._request("POST", f"/v1/agents/{self.agent_id}/heartbeats", json=body, headers=self._auth)

    def close(self) -> None:
        self.client.close()
