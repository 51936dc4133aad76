"""The plumbing under the OpenStack adapter: which cloud, one connection, retries, call counts.

Credentials come only from clouds.yaml (OS_CLIENT_CONFIG_FILE or the standard locations), chosen
by `--cloud` / CLOUDCTL_CLOUD / OS_CLOUD. Foreign errors are translated here, once: transient
failures (5xx, connection reset, timeout) are retried with exponential backoff and jitter; a
create whose answer was lost is looked up (recheck) before it is retried, so a retry never
duplicates a resource.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cloudctl.errors import InputError, OperationFailed

T = TypeVar("T")
TRANSIENT_STATUS = {500, 502, 503, 504}
# Neutron quota key / kind -> openstacksdk attribute
SDK_NET_ATTR = {"network": "networks", "subnet": "subnets", "router": "routers", "port": "ports",
                "floatingip": "floating_ips", "security_group": "security_groups"}
# cloudctl compute quota name -> Keystone unified limit resource name used by Nova
UNIFIED_KEYS = {"vcpus": "class:VCPU", "ram": "class:MEMORY_MB", "instances": "servers"}


def resolve_cloud(name: str | None) -> str:
    """The cloud to use (the CLI and `serve` resolve --cloud, CLOUDCTL_CLOUD, OS_CLOUD: config.cloud_name)."""
    if not name:
        raise InputError("no cloud selected", field="--cloud",
                         hint="pass --cloud NAME (a cloud in clouds.yaml) or set CLOUDCTL_CLOUD")
    return name


_ID = re.compile(r"/[0-9a-f]{32}|/[0-9a-f-]{36}")


class CallCounter:
    """Counts HTTP requests per service port, and per route with the time the server took to answer
    (a requests response hook; routes have ids replaced by {id})."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_endpoint: Counter[str] = Counter()
        self.by_route: Counter[str] = Counter()
        self.seconds_by_route: dict[str, float] = {}

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        parts = urlsplit(response.request.url)
        route = f"{response.request.method} {parts.port} {_ID.sub('/{id}', parts.path)}"
        elapsed = response.elapsed.total_seconds()
        with self._lock:
            self.by_endpoint[f"{response.request.method} {parts.netloc}"] += 1
            self.by_route[route] += 1
            self.seconds_by_route[route] = self.seconds_by_route.get(route, 0.0) + elapsed

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


def _widen_connection_pool(session: Any, workers: int) -> None:
    """Keep a connection per concurrent worker instead of requests' default of 10 per host."""
    from requests.adapters import HTTPAdapter

    size = max(10, 2 * workers)
    for prefix, adapter in list(session.adapters.items()):
        if isinstance(adapter, HTTPAdapter) and adapter._pool_maxsize < size:
            fresh = type(adapter)(pool_connections=size, pool_maxsize=size)
            session.mount(prefix, fresh)


def is_transient(e: BaseException) -> bool:
    from keystoneauth1 import exceptions as ksa
    from openstack import exceptions as osx

    if isinstance(e, osx.HttpException):
        return (e.status_code or 0) in TRANSIENT_STATUS
    if isinstance(e, ksa.http.HttpError):
        return (e.http_status or 0) in TRANSIENT_STATUS
    return isinstance(e, ksa.connection.ConnectionError | ksa.DiscoveryFailure | ConnectionError | TimeoutError)


class CloudSession:
    """A connection to one cloud: retries, call counting, the compute service both sides read."""

    def __init__(self, cloud: str, *, retries: int = 5, backoff_s: float = 0.2, timeout_s: float = 60,
                 workers: int = 8) -> None:
        import openstack
        from openstack import exceptions as osx

        self.cloud = cloud
        self.retries = retries
        self.backoff_s = backoff_s
        self.workers = workers
        self.counter = CallCounter()
        try:
            self.conn = openstack.connect(cloud=cloud, api_timeout=timeout_s)
        except osx.ConfigException as e:
            raise InputError(f"cloud {cloud!r}: {e}", field="--cloud",
                             hint="check clouds.yaml (OS_CLIENT_CONFIG_FILE) for this cloud name") from e
        self.conn.session.session.hooks["response"].append(self.counter.hook)
        _widen_connection_pool(self.conn.session.session, workers)
        self._role_ids: dict[str, str] = {}
        self._compute_lock = threading.Lock()

    def call(self, what: str, fn: Callable[[], T], *, recheck: Callable[[], T | None] | None = None) -> T:
        """Run fn with retries on transient errors; for creates, recheck() finds a lost success."""
        from openstack import exceptions as osx

        for attempt in range(self.retries + 1):
            try:
                return fn()
            except Exception as e:
                if not is_transient(e) or attempt == self.retries:
                    if isinstance(e, osx.SDKException | ConnectionError) or is_transient(e):
                        raise OperationFailed(f"{what}: {e}") from e
                    raise
                time.sleep(self.backoff_s * (2**attempt) * (0.5 + random.random()))
                if recheck is not None:
                    try:
                        found = recheck()
                    except Exception as e2:
                        if not is_transient(e2):
                            raise OperationFailed(f"{what}: {e2}") from e2
                        found = None
                    if found is not None:
                        return found
        raise AssertionError("unreachable")

    def authenticate(self) -> None:
        self.call("authenticate", lambda: self.conn.authorize())

    def _compute_service(self) -> tuple[str, str | None, dict[str, int]]:
        """(compute service id, region, registered default limits); cached per connection."""
        with self._compute_lock:
            return self._compute_service_locked()

    def _compute_service_locked(self) -> tuple[str, str | None, dict[str, int]]:
        if not hasattr(self, "_compute_sid"):
            c = self.conn
            services = self.call("list services", lambda: list(c.identity.services(type="compute")))
            if not services:
                raise OperationFailed("the cloud has no compute service in its catalog")
            sid = services[0].id
            reg = self.call("list registered limits", lambda: list(c.identity.registered_limits(service_id=sid)))
            self._compute_sid = sid
            self._compute_region = reg[0].region_id if reg else None
            self._compute_defaults = {r.resource_name: int(r.default_limit) for r in reg}
        return self._compute_sid, self._compute_region, self._compute_defaults
