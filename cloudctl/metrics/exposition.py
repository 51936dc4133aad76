"""The /metrics text: built by the collectors from the store, cached until the data changes.

The cache key is the store's data version — the audit log's last seq (every change appends an
audit entry) and the newest heartbeat — plus a time bucket for the time-derived values (target
pace, overdue approvals, the periodic full audit-chain check). A scrape between changes costs
two indexed max() queries and returns the cached bytes.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import inspect, text

from cloudctl.metrics.agents import collect_agents, collect_links
from cloudctl.metrics.audit import ChainWatcher, collect_audit
from cloudctl.metrics.availability import collect_availability
from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.coverage import collect_coverage
from cloudctl.metrics.family import Family, Histogram, render
from cloudctl.metrics.operations import collect_approvals, collect_gateway, collect_quotas
from cloudctl.metrics.sharing import collect_sharing

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Collector = Callable[[CollectContext], list[Family | Histogram]]
COLLECTORS: tuple[Collector, ...] = (collect_coverage, collect_agents, collect_links, collect_availability,
                                     collect_quotas, collect_gateway, collect_approvals, collect_sharing)


def _version() -> str:
    try:
        return version("cloudctl")
    except PackageNotFoundError:
        return "unknown"


class Exposition:
    """Thread-safe cached exposition of one store. Inject the clock and extra text for tests."""

    def __init__(self, store: Any, *, bucket_seconds: float = 15.0, audit_full_interval: float = 300.0,
                 clock: Callable[[], float] = time.time, extra: Callable[[], str] | None = None,
                 collectors: tuple[Collector, ...] = COLLECTORS) -> None:
        self.store = store
        self.bucket_seconds = bucket_seconds
        self.clock = clock
        self.extra = extra
        self.collectors = collectors
        self.chain = ChainWatcher(audit_full_interval)
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._text = ""
        self._encoded: tuple[bytes, bytes, Any] = (b"", b"", None)
        self._encoded_for: str | None = None
        self.builds = 0
        self.last_build_seconds = 0.0

    def data_version(self) -> tuple[Any, ...]:
        with self.store.connect() as conn:
            seq = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar()
            beat = conn.execute(text("SELECT max(last_heartbeat_ts) FROM agent")).scalar()
        return (seq, beat)

    def cached_text(self) -> str:
        """The collectors' exposition, rebuilt only when the data version or time bucket moved."""
        now = self.clock()
        key = (*self.data_version(), int(now // self.bucket_seconds))
        if key == self._key:
            return self._text
        with self._lock:
            if key != self._key:  # another thread may have built it meanwhile
                started = time.perf_counter()
                self._text = self.build(now)
                self.last_build_seconds = time.perf_counter() - started
                self.builds += 1
                self._key = key
            return self._text

    def body(self, *, gzipped: bool = False) -> bytes:
        """text() as bytes for HTTP. The big cached part is encoded, and compressed, once per
        rebuild; per scrape only the small tail (this process's metrics) is compressed, from a
        copy of the compressor's state, so the answer is one ordinary gzip stream."""
        cached = self.cached_text()
        tail = (self._self_metrics() + (self.extra() if self.extra else "")).encode("utf-8")
        with self._lock:
            if self._encoded_for is not cached:
                raw = cached.encode("utf-8")
                compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                self._encoded = (raw, compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH), compressor)
                self._encoded_for = cached
            raw, packed, compressor = self._encoded
            if not gzipped:
                return raw + tail
            rest = compressor.copy()
        return packed + rest.compress(tail) + rest.flush()

    def build(self, now: float) -> str:
        """Every collector in its own short read transaction: one failing (or, on PostgreSQL,
        aborting its transaction) leaves the others and the rest of the exposition intact."""
        with self.store.connect() as conn:
            tables = frozenset(inspect(conn).get_table_names())
            families: list[Family | Histogram] = [self._info()]
            families += collect_audit(CollectContext(conn, self.store, now, tables), self.chain)
        success = Family("cloudctl_collector_success", "gauge",
                         "1 when the collector read its part of the store, 0 when it failed (see the log).",
                         ("collector",))
        for collect in self.collectors:
            name = collect.__name__.removeprefix("collect_")
            try:
                with self.store.connect() as conn:
                    families += collect(CollectContext(conn, self.store, now, tables))
                success.add(1, name)
            except Exception:  # one broken part must not take the whole exposition down
                log.exception("metrics collector %s failed", name)
                success.add(0, name)
        families.append(success)
        return render(families)

    def _info(self) -> Family:
        f = Family("cloudctl_build_info", "gauge", "cloudctl's version and store dialect (always 1).",
                   ("version", "store"))
        f.add(1, _version(), self.store.dialect)
        return f

    def _self_metrics(self) -> str:
        builds = Family("cloudctl_exposition_builds_total", "counter",
                        "Times this process rebuilt the exposition because the data changed.")
        builds.add(self.builds)
        last = Family("cloudctl_exposition_build_duration_seconds", "gauge",
                      "How long the last rebuild of the exposition took.")
        last.add(self.last_build_seconds)
        return render([builds, last])

    def text(self) -> str:
        """What /metrics serves: the cached exposition, this process's own metrics, then extra."""
        body = self.cached_text() + self._self_metrics()
        return body + self.extra() if self.extra else body
