"""The heartbeat body as the fast path reads it: decoded (orjson) and checked field by field in
plain Python, several times cheaper than building the pydantic model.

It accepts a subset of what the route's strict decoding and `models.HeartbeatRequest` accept, with
the same values: anything else — a refusal, but also anything merely unusual (an integer written
5.0, a field of the wrong type, a string the model would coerce, an unknown field) — gives None,
and the fast path hands the request to the FastAPI route, which answers it (422 with the place
and never the input, api/request_errors.py). So this module never decides a refusal. orjson
refuses NaN, Infinity, numbers that overflow a double, lone surrogates and invalid UTF-8, as
the route does (tests/fleet/test_heartbeat_body.py checks the two agree on random bodies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from cloudctl.api.models import ADDRESS, MAX_JSON_INT, PRINTABLE

_PRINTABLE = re.compile(PRINTABLE)
_ADDRESS = re.compile(ADDRESS)
_TOP = frozenset(("seq", "sent_at", "agent_version", "metrics_address", "results"))
_KINDS = frozenset(("tcp", "http", "icmp"))
_MEASURES = (("loss_ratio", 1.0), ("rtt_min_s", 3600.0), ("rtt_avg_s", 3600.0), ("rtt_max_s", 3600.0),
             ("rtt_stddev_s", 3600.0))
_TEXTS = (("name", 200, False), ("target", 500, False), ("link_id", 64, True), ("error", 2000, True))


@dataclass(frozen=True)
class HeartbeatBody:
    seq: int
    sent_at: float | None
    agent_version: str | None
    metrics_address: str | None
    results: list[dict[str, Any]]  # as HeartbeatRequest.results[i].model_dump() would give them


def decode_heartbeat(body: bytes) -> HeartbeatBody | None:
    """The heartbeat, or None when the route should decide (see the module's doc)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or not doc.keys() <= _TOP:
        return None
    seq, sent_at, results = doc.get("seq"), doc.get("sent_at"), doc.get("results", [])
    if type(seq) is not int or not 1 <= seq <= MAX_JSON_INT or type(results) is not list or len(results) > 2000:
        return None
    if sent_at is not None:
        if type(sent_at) not in (int, float) or not 0 <= sent_at <= 2**33:
            return None
        sent_at = float(sent_at)
    version, address = doc.get("agent_version"), doc.get("metrics_address")
    if version is not None and not _text(version, 64, _PRINTABLE):
        return None
    if address is not None and not _text(address, 262, _ADDRESS):
        return None
    out = []
    for r in results:
        result = _result(r)
        if result is None:
            return None
        out.append(result)
    return HeartbeatBody(seq, sent_at, version, address, out)


def _text(value: Any, max_length: int, pattern: re.Pattern[str]) -> bool:
    return type(value) is str and len(value) <= max_length and pattern.fullmatch(value) is not None


def _result(r: Any) -> dict[str, Any] | None:
    """One probe result, as ProbeResultIn(...).model_dump() gives it (unknown keys ignored)."""
    kind = r.get("kind") if type(r) is dict else None
    if type(kind) is not str or kind not in _KINDS or type(r.get("up")) is not bool:
        return None
    out: dict[str, Any] = {"kind": kind, "up": r["up"]}
    for key, max_length, optional in _TEXTS:
        v = r.get(key)
        if v is None and optional:
            out[key] = None
        elif type(v) is str and len(v) <= max_length:
            out[key] = v
        else:
            return None
    for key in ("sent", "received"):
        v = r.get(key, 0)
        if type(v) is not int or not 0 <= v <= 100_000:
            return None
        out[key] = v
    for key, high in _MEASURES:
        v = r.get(key)
        if v is None:
            out[key] = None
        elif type(v) in (int, float) and 0 <= v <= high:
            out[key] = float(v)
        else:
            return None
    return out
