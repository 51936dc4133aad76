"""The heartbeat fast path: the one request every agent sends every interval, answered without
FastAPI's per-request machinery (routing, dependency solving, thread hops), which cost several
times the work of the heartbeat itself (docs/scale.md).

`FastPathAPI` is the FastAPI app with the fast path in front of everything, FastAPI's own
per-request work included (its telemetry checks read os.environ on every request). The fast path
takes a request only when everything is ordinary: POST /v1/agents/{id}/heartbeats, a bearer
credential of that same agent, a body within the size limit that api/heartbeat_body.py reads,
and the agent's rate bucket not empty (read now, charged once the credential holds, a duplicate
a fifth, as the route does). Then it hands the heartbeat to the batched ingest and answers 200
once the batch has committed. Anything else, including every refusal or failure the ingest gives
(bad credential, links of another division, the store away), goes on to the FastAPI route with
the body replayed, which gives the documented answer and audits it: one behaviour, one place.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI

from cloudctl.api import credentials as cred
from cloudctl.api.heartbeat_body import decode_heartbeat
from cloudctl.api.heartbeats import HeartbeatIngest, make_heartbeat
from cloudctl.api.limits import DUPLICATE_COST, RateLimiter
from cloudctl.errors import CloudctlError

_PATH = re.compile(r"^/v1/agents/([A-Za-z0-9-]{1,40})/heartbeats$")
_JSON = (b"content-type", b"application/json")


class FastPathAPI(FastAPI):
    """FastAPI, with `fast_path` (when set) seeing every HTTP request first."""

    fast_path: HeartbeatFastPath | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.fast_path is not None and scope["type"] == "http":
            await self.fast_path(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def without_fast_path(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)


class HeartbeatFastPath:
    def __init__(self, app: Any, ingest: HeartbeatIngest, limiter: RateLimiter, max_body_bytes: int,
                 interval_seconds: float) -> None:
        self.app, self.ingest, self.limiter = app, ingest, limiter
        self.max_body_bytes, self.interval = max_body_bytes, interval_seconds
        self.taken = 0  # requests answered here (the rest went on to the app)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = _PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        agent_id = match.group(1)
        authorization = length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
        token = _bearer(authorization)
        if token is None or cred.split_secret(token, cred.CREDENTIAL) != agent_id or length is None \
                or not length.isdigit() or int(length) > self.max_body_bytes:
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        bucket = "agent:" + agent_id
        if not self.limiter.peek(bucket)[0]:
            await self.app(scope, _replay(messages, receive), send)  # the route answers 429 and counts it
            return
        req = decode_heartbeat(body)
        if req is None:  # refused or unusual: the route decides (422 with the details, or accepts it)
            await self.app(scope, _replay(messages, receive), send)
            return
        beat = make_heartbeat(agent_id, req.seq, req.results, credential=token, sent_at=req.sent_at,
                              metrics_address=req.metrics_address, agent_version=req.agent_version)
        try:
            out = await self.ingest.submit(beat)
        except CloudctlError:  # refused, or the store away: the route answers (and audits) it
            await self.app(scope, _replay(messages, receive), send)
            return
        self.limiter.charge(bucket, DUPLICATE_COST if out.duplicate else 1.0)
        self.taken += 1
        data = orjson.dumps({"accepted": out.accepted, "duplicate": out.duplicate,
                             "links_updated": out.links_updated, "links_changed": out.links_changed,
                             "next_interval_seconds": self.interval, "last_seq": out.last_seq})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [_JSON, (b"content-length", b"%d" % len(data))]})
        await send({"type": "http.response.body", "body": data})


def _bearer(value: bytes | None) -> str | None:
    if not value or len(value) > 320:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def _read_body(receive: Any, limit: int) -> tuple[bytes | None, list[dict[str, Any]]]:
    """The whole body (None when over `limit` or the client went away) and the messages read."""
    messages, chunks, seen = [], [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None, messages
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), messages


def _replay(messages: list[dict[str, Any]], then: Any) -> Callable[[], Awaitable[dict[str, Any]]]:
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else await then()

    return receive
