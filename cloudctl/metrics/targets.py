"""Prometheus file_sd target files from the registry: the central API and every active agent
that reported where its own /metrics listens. Written atomically (Prometheus watches them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from cloudctl.errors import InputError
from cloudctl.inputs.paths import write_text_atomic

API_FILE = "cloudctl-api.json"
AGENTS_FILE = "cloudctl-agents.json"


def check_address(address: str, field: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"{address!r} is not HOST:PORT", field=field, hint="e.g. 127.0.0.1:8480")
    return address


def build_targets(store: Any, api_addresses: list[str]) -> dict[str, list[dict[str, Any]]]:
    """File name -> file_sd target groups. Agents without a metrics address are left out."""
    api = [{"targets": [check_address(a, "--api")], "labels": {"service": "cloudctl-api"}} for a in api_addresses]
    with store.connect() as conn:
        rows = conn.execute(text(
            "SELECT agent_id, division_code, role, metrics_address FROM agent "
            "WHERE state = 'active' AND metrics_address IS NOT NULL ORDER BY agent_id"
        )).all()
    agents = [{"targets": [addr], "labels": {"agent": agent_id, "division": division, "province": division[:2],
                                              "role": role}}
              for agent_id, division, role, addr in rows]
    return {API_FILE: api, AGENTS_FILE: agents}


def write_targets(out_dir: Path, files: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """Write each file atomically, readable by Prometheus whatever the umask."""
    written = []
    for name, groups in files.items():
        path = out_dir / name
        write_text_atomic(path, json.dumps(groups, indent=2, ensure_ascii=False) + "\n", mode=0o644)
        written.append(path)
    return written
