"""Request limits: a token-bucket rate limiter per client key, and a body-size cap (ASGI)."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

# What a heartbeat answered as a duplicate costs, in tokens. An agent replaying its spool after an
# outage or a lost answer resends what the API has already, and a duplicate writes nothing; at a
# full token each it would spend the budget the agent's new heartbeats need (an agent whose spool
# held more than a burst of them never got past them). Still charged: a stream of duplicates is
# held to 1 / DUPLICATE_COST times the rate (and the burst), as its HTTP work costs the server.
DUPLICATE_COST = 0.2


class RateLimiter:
    """`rate` requests per second with bursts of `burst`, per key; at most `max_keys` remembered."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.max_keys, self.clock = rate, float(burst), max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """Take a token if there is one: (allowed, seconds until a token is available)."""
        return self._take(key, lambda tokens: tokens >= 1.0)

    def peek(self, key: str) -> tuple[bool, float]:
        """Whether a token is there now, without taking it (for callers charged once verified)."""
        return self._take(key, lambda tokens: False, read_only=True)

    def charge(self, key: str, cost: float = 1.0) -> None:
        """Take `cost` tokens whether or not they are there: concurrent requests that all peeked
        in time leave a debt (down to -burst) that later requests wait out."""
        self._take(key, lambda tokens: True, cost=cost)

    def _take(self, key: str, take: Callable[[float], bool], *, read_only: bool = False,
              cost: float = 1.0) -> tuple[bool, float]:
        now = self.clock()
        with self._lock:
            known = self._buckets.pop(key, None)
            tokens, at = known or (self.burst, now)
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            taken = take(tokens)
            if taken:
                tokens = max(-self.burst, tokens - cost)
            allowed = taken or (read_only and tokens >= 1.0)
            if known is not None or not read_only:  # a peek remembers nothing new
                self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - tokens) / self.rate


ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]],
                   Awaitable[None]]], Awaitable[None]]


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`, by Content-Length or while streaming a chunked body."""

    def __init__(self, app: ASGIApp, max_bytes: int, on_reject: Callable[[dict[str, Any]], None] | None = None):
        self.app, self.max_bytes, self.on_reject = app, max_bytes, on_reject

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._reject(scope, send)
            return
        # Buffer the body (it is at most max_bytes) so the limit holds for chunked bodies too.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._reject(scope, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}],
                                      receive), send)

    async def _reject(self, scope: dict[str, Any], send: Any) -> None:
        if self.on_reject:
            self.on_reject(scope)
        body = json.dumps({"detail": f"request body over {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[dict[str, Any]], then: Any = None) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()  # e.g. http.disconnect later
        return {"type": "http.disconnect"}

    return receive
