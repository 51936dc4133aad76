"""The FastAPI application factory: create_app(store, settings) -> FastAPI.

Agents authenticate with `Authorization: Bearer <credential>`; an agent may only act on its
own id and its own division's links. Unauthenticated and cross-agent writes get 401/403 and
an audit record. Every request is rate limited in the bucket of its verified identity (agent or
operator), or of its client address until the caller is verified; body size is capped before
anything is parsed, and bodies are decoded strictly (api/request_errors.py): bad input is a
4xx whatever its shape.
"""

import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator

from cloudctl import clock
from cloudctl.api import credentials as cred
from cloudctl.api import models as m
from cloudctl.api.docs_pages import install_docs
from cloudctl.api.heartbeats import CredentialRejected, HeartbeatIngest, make_heartbeat
from cloudctl.api.limits import DUPLICATE_COST, BodyLimitMiddleware, RateLimiter
from cloudctl.api.registry import AgentRecord, authenticate, exchange_token, probe_config
from cloudctl.api.request_errors import StrictJsonRoute, validation_error_handler
from cloudctl.audit import Actor, record_change
from cloudctl.errors import CloudctlError, ConflictError, InputError, NotFoundError, PermissionDenied
from cloudctl.metrics import CONTENT_TYPE, Exposition, Family, render

REJECT_REASONS = ("unauthenticated", "forbidden", "rate_limited", "too_large")


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 256 * 1024
    rate_per_second: float = 5.0  # per verified agent or operator; per client address until verified
    rate_burst: int = 30
    heartbeat_interval_seconds: float = 15.0
    silence_after_heartbeats: int = 3  # a link's report holds this many intervals, then its state is unknown
    metrics_bucket_seconds: float = 15.0
    audit_full_interval_seconds: float = 300.0
    process_metrics: bool = True
    # Threads that run the (synchronous) endpoints: each request is short and mostly waits on the
    # database; heartbeats waiting meanwhile join the next group commit.
    worker_threads: int = 16
    docs: bool = True  # /docs and /redoc from files in the package (api/docs_pages.py); off: neither
    heartbeat_fast_path: bool = True  # api/fastpath.py; off: every heartbeat through the FastAPI route
    cloud: str | None = None  # clouds.yaml cloud the deciding vote applies requests to (None: OS_CLOUD)
    timezone: str | None = None  # CLOUDCTL_TZ as given to `serve`: over the store's `timezone` setting
    # Tuning (config.server_tuning reads them from CLOUDCTL_* variables; docs/scale.md): the GIL switch
    # interval, the collector's thresholds, heartbeat batches in flight and how long one gathers.
    switch_interval_s: float = 0.0005
    gc_threshold: tuple[int, int, int] = (100_000, 10, 10)
    ingest_in_flight: int = 1
    ingest_window_ms: float = 10.0


class _Rejections:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter({r: 0 for r in REJECT_REASONS})
        self._lock = threading.Lock()

    def add(self, reason: str) -> None:
        with self._lock:
            self.counts[reason] += 1

    def render(self) -> str:
        f = Family("cloudctl_api_rejected_requests_total", "counter",
                   "Requests this API process refused, by reason.", ("reason",))
        for reason in REJECT_REASONS:
            f.add(float(self.counts[reason]), reason)
        return render([f])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Caller:
    """Who sent a request, as far as it is verified: `key` names its rate-limit bucket."""

    key: str  # "agent:<id>", "operator:<name>", or "addr:<client address>" while unverified
    bearer: str | None = None  # the credential presented (unverified when agent and operator are None)
    agent: AgentRecord | None = None
    operator: str | None = None


# Answers every route may give besides its own: bad input the schema cannot express (400: the
# field, and a hint), an oversized body (413), too many requests (429), the store away (503).
# A body or an action's inputs that fail validation are 422 (HTTPValidationError).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": m.Problem, "description": "bad input (the field, and a hint)"},
    413: {"model": m.Problem, "description": "body over the size limit"},
    429: {"model": m.Problem, "description": "rate limited (Retry-After)"},
    503: {"model": m.Problem, "description": "the store is unavailable"},
}


def _status(e: CloudctlError) -> int:
    if isinstance(e, NotFoundError):
        return 404
    if isinstance(e, InputError):
        return 400
    if isinstance(e, PermissionDenied):
        return 403
    if isinstance(e, ConflictError):
        return 409
    return 503


def create_app(store: Any, settings: ApiSettings | None = None) -> FastAPI:
    from cloudctl.settings import clock_for

    settings = settings or ApiSettings()
    clock_for(store, settings.timezone)  # "today" for every route, metric and expiry: the one zone
    rejections = _Rejections()
    extra_parts: list[Any] = [rejections.render]
    if settings.process_metrics:
        from cloudctl.metrics.prom import ProcessMetrics

        extra_parts.append(ProcessMetrics())
    exposition = Exposition(store, bucket_seconds=settings.metrics_bucket_seconds,
                            audit_full_interval=settings.audit_full_interval_seconds,
                            extra=lambda: "".join(p() for p in extra_parts))
    limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    # Audited refusals per client address, whatever identity they claim or hold: bounds what one
    # address can make the audit log record (a verified agent's 403s included).
    refusals = RateLimiter(settings.rate_per_second, settings.rate_burst)
    # heartbeats of many agents written in one transaction (api/ingest.py); a link's report holds N intervals
    ingest = HeartbeatIngest(store, silence_s=settings.heartbeat_interval_seconds * settings.silence_after_heartbeats,
                             in_flight=settings.ingest_in_flight, window_s=settings.ingest_window_ms / 1000)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # The ingest thread waits on the database many times per batch; each time it wants the GIL
        # back from the event loop, which holds it for up to the switch interval (5 ms by default).
        import sys

        sys.setswitchinterval(settings.switch_interval_s)
        # Everything built so far (the app, its routes and models) lives as long as the process:
        # out of the collector's sight, a full collection no longer walks it while requests wait.
        import gc

        gc.collect()
        gc.freeze()
        # A request's objects are freed by reference counting (none was ever collected under load),
        # but at Python's default threshold (700) the collector ran ~80 times a second and walked
        # the requests in flight: 15 % of the process's CPU and pauses of up to 25 ms (docs/scale.md).
        gc.set_threshold(*settings.gc_threshold)
        yield

    from cloudctl.api.fastpath import FastPathAPI, HeartbeatFastPath

    app = FastPathAPI(title="cloudctl central API", version="1", lifespan=lifespan, responses=COMMON_RESPONSES,
                      description="Agent enrolment and heartbeats, probe configuration, coverage, metrics.",
                      docs_url=None, redoc_url=None)  # FastAPI's pages load from a CDN: ours are in the package
    app.router.route_class = StrictJsonRoute  # before any route: every JSON body is decoded strictly
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    install_docs(app, enabled=settings.docs)
    app.state.store, app.state.exposition, app.state.settings = store, exposition, settings
    app.state.ingest = ingest
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       on_reject=lambda scope: rejections.add("too_large"))
    if settings.heartbeat_fast_path:  # in front of FastAPI itself and every middleware (api/fastpath.py)
        app.fast_path = HeartbeatFastPath(app.without_fast_path, ingest, limiter, settings.max_body_bytes,
                                          settings.heartbeat_interval_seconds)

    @app.exception_handler(CloudctlError)
    async def _cloudctl_error(request: Request, e: CloudctlError) -> JSONResponse:
        body: dict[str, Any] = {"detail": e.message}
        if isinstance(e, InputError) and e.field:
            body["field"] = e.field
        if e.hint:
            body["hint"] = e.hint
        return JSONResponse(body, status_code=_status(e))

    def audit_rejection(request: Request, status: int, reason: str, claimed: str | None) -> None:
        ok, wait = refusals.allow(_client(request))
        if not ok:
            rejections.add("rate_limited")
            raise HTTPException(429, "too many refused requests",
                                headers={"Retry-After": str(max(1, round(wait)))})
        rejections.add("unauthenticated" if status == 401 else "forbidden")
        who = f"agent:{claimed}" if claimed else f"anonymous@{_client(request)}"
        with store.begin() as conn:
            record_change(conn, Actor(who, f"{request.method} {request.url.path}"), "reject", "api_request",
                          f"{request.method} {request.url.path}", None,
                          {"status": status, "reason": reason, "client": _client(request)})

    def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
        """The verified agent or operator of the bearer credential, else the client address.
        Evaluated once per request (FastAPI caches it for every dependency that asks)."""
        from cloudctl.api.operators import authenticate_operator

        token = _bearer(authorization)
        if token is not None and token.startswith((cred.CREDENTIAL + ".", cred.OPERATOR + ".")):
            with store.connect() as conn:
                if token.startswith(cred.CREDENTIAL + "."):
                    if (who := authenticate(conn, token)) is not None:
                        return Caller(f"agent:{who.agent_id}", token, agent=who)
                elif (operator := authenticate_operator(conn, token)) is not None:
                    return Caller(f"operator:{operator}", token, operator=operator)
        return Caller(f"addr:{_client(request)}", token)

    def throttle(key: str, *, charge: bool = True) -> None:
        ok, wait = limiter.allow(key) if charge else limiter.peek(key)
        if not ok:
            rejections.add("rate_limited")
            raise HTTPException(429, "too many requests", headers={"Retry-After": str(max(1, round(wait)))})

    def rate_limit(c: Annotated[Caller, Depends(caller)]) -> None:
        throttle(c.key)  # keyed by what is verified: an id merely claimed gets no bucket of its own

    def current_agent(request: Request, c: Annotated[Caller, Depends(caller)]) -> AgentRecord:
        if c.agent is not None:
            return c.agent
        if c.bearer is None:
            audit_rejection(request, 401, "no bearer credential", None)
            raise HTTPException(401, "agent credential required", headers={"WWW-Authenticate": "Bearer"})
        audit_rejection(request, 401, "invalid or revoked credential", cred.split_secret(c.bearer, cred.CREDENTIAL))
        raise HTTPException(401, "invalid or revoked credential", headers={"WWW-Authenticate": "Bearer"})

    def own_agent(agent_id: str, request: Request, who: Annotated[AgentRecord, Depends(current_agent)]) -> AgentRecord:
        if agent_id != who.agent_id:
            audit_rejection(request, 403, f"agent {who.agent_id} acted for agent {agent_id[:40]}", who.agent_id)
            raise HTTPException(403, "an agent may act only for itself")
        return who

    limited = [Depends(rate_limit)]

    @app.get("/healthz", response_model=m.Health)
    def healthz() -> Any:
        """Alive: the process answers (the store is not asked; see /readyz)."""
        return {"status": "ok", "store": store.dialect}

    @app.get("/readyz", response_model=m.Health, responses={503: {"model": m.Health}})
    def readyz() -> Any:
        """Ready for traffic: the store answers and its schema is at every migration head."""
        from cloudctl.store.migrate import is_current

        try:
            current = is_current(store)
        except Exception as e:  # whatever the driver raised: not ready, and say why
            detail = e.message if isinstance(e, CloudctlError) else f"{type(e).__name__}: {e}"[:300]
            return JSONResponse({"status": "unavailable", "store": store.dialect, "detail": detail}, 503)
        if not current:
            return JSONResponse({"status": "unavailable", "store": store.dialect,
                                 "detail": "the store's schema is not at the current migrations"}, 503)
        return {"status": "ok", "store": store.dialect}

    @app.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
    def metrics(accept_encoding: Annotated[str | None, Header()] = None) -> Response:
        """The cached exposition; gzip-compressed when the scraper accepts it (Prometheus does)."""
        if accept_encoding and "gzip" in accept_encoding.lower():
            return Response(exposition.body(gzipped=True), media_type=CONTENT_TYPE,
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(exposition.body(), media_type=CONTENT_TYPE, headers={"Vary": "Accept-Encoding"})

    @app.get("/v1/coverage/summary", dependencies=limited,
             responses={404: {"model": m.Problem, "description": "no such region"}})
    def coverage_summary(as_of: Annotated[date | None, BeforeValidator(_iso_date)] = None,
                         region: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
                         by_child: bool = False,
                         exclude_kind: Annotated[list[str] | None, Query(max_length=20)] = None,
                         online: bool = False,
                         fresh_within: Annotated[float, Query(gt=0, le=86400)] = 45.0) -> dict[str, Any]:
        """The same JSON as `cloudctl coverage summary --format json` (and `--online`)."""

        from cloudctl.coverage.online import rollup_online
        from cloudctl.coverage.rollup import rollup_coverage

        if online:
            if as_of is not None:
                raise InputError("online counts what is online now", field="as_of", hint="drop as_of")
            return rollup_online(store, region, tuple(exclude_kind or ()), by_child, fresh_within).to_json()
        day = as_of or clock.today()
        summary = rollup_coverage(store, day, region=region, exclude_kinds=tuple(exclude_kind or ()),
                                  by_child=by_child)
        return summary.to_json()

    @app.post("/v1/agents/enrol", response_model=m.EnrolResponse, dependencies=limited,
              responses={403: {"model": m.Problem, "description": "invalid, used or expired token"}},
              openapi_extra={"x-cloudctl-auth": "enrolment-token"})
    def enrol(body: m.EnrolRequest, request: Request) -> Any:
        """Exchange a one-time enrolment token for the agent's own credential."""
        try:
            who, credential = exchange_token(store, body.token, hostname=body.hostname,
                                             metrics_address=body.metrics_address, agent_version=body.agent_version)
        except PermissionDenied as e:
            audit_rejection(request, 403, e.message, cred.split_secret(body.token, cred.ENROL))
            raise
        return {"agent_id": who.agent_id, "division": who.division_code, "role": who.role,
                "credential": credential, "heartbeat_interval_seconds": settings.heartbeat_interval_seconds,
                "last_seq": who.last_seq}

    @app.get("/v1/agents/{agent_id}/config", response_model=m.AgentConfig, dependencies=limited,
             responses={401: {"model": m.Problem, "description": "no valid credential"},
                        403: {"model": m.Problem, "description": "another agent's"}})
    def agent_config(who: Annotated[AgentRecord, Depends(own_agent)]) -> Any:
        """What this agent probes: its division's links and their configured probes."""
        return probe_config(store, who, settings.heartbeat_interval_seconds)

    @app.post("/v1/agents/{agent_id}/heartbeats", response_model=m.HeartbeatResponse,
              responses={401: {"model": m.Problem, "description": "no valid credential"},
                         403: {"model": m.Problem,
                               "description": "another agent's id, or links outside the agent's division"},
                         503: {"model": m.Problem,
                               "description": "the store is away or ingest is overloaded: retry (agents spool)"}},
              openapi_extra={"x-cloudctl-auth": "agent-credential"})
    async def heartbeat(agent_id: Annotated[str, Path(max_length=40)], body: m.HeartbeatRequest, request: Request,
                        authorization: Annotated[str | None, Header()] = None) -> Any:
        """Probe results; replayed sequence numbers are acknowledged without being applied again.
        Answered once the batch the heartbeat went out in has committed (durable)."""
        from starlette.concurrency import run_in_threadpool

        token = _bearer(authorization)
        if token is None or cred.split_secret(token, cred.CREDENTIAL) != agent_id:  # 401 or 403, audited
            c = await run_in_threadpool(caller, request, authorization)
            rate_limit(c)
            await run_in_threadpool(own_agent, agent_id, request, await run_in_threadpool(current_agent, request, c))
        else:  # verified in the batch: the agent's bucket is read now and charged once the credential holds
            throttle(f"agent:{agent_id}", charge=False)
        beat = make_heartbeat(agent_id, body.seq, [r.model_dump() for r in body.results], credential=token,
                              sent_at=body.sent_at, metrics_address=body.metrics_address,
                              agent_version=body.agent_version)
        try:
            out = await ingest.submit(beat)  # the credential is checked against the locked agent row
        except CredentialRejected as e:
            throttle(f"addr:{_client(request)}")  # a credential that failed: the address pays
            await run_in_threadpool(audit_rejection, request, 401, "invalid or revoked credential", agent_id)
            raise HTTPException(401, e.message, headers={"WWW-Authenticate": "Bearer"}) from e
        except PermissionDenied as e:
            limiter.charge(f"agent:{agent_id}")
            await run_in_threadpool(audit_rejection, request, 403, e.message, agent_id)
            raise
        limiter.charge(f"agent:{agent_id}", DUPLICATE_COST if out.duplicate else 1.0)  # a replay costs less
        return {"accepted": out.accepted, "duplicate": out.duplicate, "links_updated": out.links_updated,
                "links_changed": out.links_changed, "next_interval_seconds": settings.heartbeat_interval_seconds,
                "last_seq": out.last_seq}

    def current_operator(request: Request, c: Annotated[Caller, Depends(caller)]) -> str:
        if c.operator is None:
            audit_rejection(request, 401, "no valid operator token", None)
            raise HTTPException(401, "operator token required", headers={"WWW-Authenticate": "Bearer"})
        return c.operator

    from cloudctl.api import operator_routes

    def open_cloud() -> Any:
        from cloudctl.cloud.openstack_adapter import OpenStackCloud, resolve_cloud

        return OpenStackCloud(resolve_cloud(settings.cloud))

    operator_routes.register(app, store, current_operator, open_cloud, limited)

    return app


def _iso_date(value: Any) -> Any:
    """YYYY-MM-DD only (cloudctl.values): pydantic alone would take `0` for 1970-01-01."""
    from cloudctl.values import parse_iso_date

    if not isinstance(value, str):
        return value
    try:
        return parse_iso_date(value, "as_of")
    except InputError as e:
        raise ValueError(f"{e.message}: {e.hint}") from e


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value and len(value) <= 300 else None
