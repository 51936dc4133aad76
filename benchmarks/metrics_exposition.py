"""Benchmark: /metrics for all 41,352 townships, cloudctl's cached custom collector against a
plain prometheus_client Gauge baseline, in one run.

Builds a SQLite store with the shipped divisions (provinces → townships), one link per
township and a probed status for each (as heartbeats would leave them), then times:
  - baseline scrape: read the same columns, set prometheus_client Gauges (link up, loss, RTT,
    probe time per township link; coverage ratio and divisions per level/province), then
    generate_latest — what a plain exporter does on each scrape;
  - baseline generate only: generate_latest with the Gauges already set (data unchanged);
  - cloudctl cold: a fresh Exposition builds the text from the store (whole-column reads);
  - cloudctl cached: Exposition.text() when the data has not changed (the usual scrape);
  - cloudctl HTTP: GET /metrics through the FastAPI app (in-process ASGI client), cached,
    plain and gzip (the compressed cached part is kept; only the small tail is compressed).
Checks that both expose the same township link series and prints the ratios (goal >= 10x).

  python3 benchmarks/metrics_exposition.py [--db PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from cloudctl.audit import Actor, record_change  # noqa: E402
from cloudctl.coverage.rollup import rollup_coverage  # noqa: E402
from cloudctl.divisions.shipped import load_shipped_divisions  # noqa: E402
from cloudctl.metrics import Exposition  # noqa: E402
from cloudctl.metrics.prom import parse_exposition  # noqa: E402
from cloudctl.store import Store, open_store  # noqa: E402

ACTOR = Actor("benchmark", "benchmarks/metrics_exposition.py")
LINK_SQL = ("SELECT link_id, division_code, up, loss_ratio, rtt_avg_seconds, checked_ts FROM link_status "
            "WHERE length(division_code) = 9 ORDER BY link_id")


def prepare(store: Store) -> int:
    with store.connect() as conn:
        if conn.execute(text("SELECT count(*) FROM link_status")).scalar():
            return int(conn.execute(text("SELECT count(*) FROM link_status")).scalar_one())
    load_shipped_divisions(store, ACTOR)
    with store.begin() as conn:
        towns = [r[0] for r in conn.execute(text("SELECT code FROM division WHERE level = 4 ORDER BY code"))]
        now = time.time()
        conn.execute(text("INSERT INTO link (link_id, division_code, link_type, bandwidth_mbps, activated_on) "
                          "VALUES (:i, :d, 'fiber', 100, :a)"),
                     [{"i": f"T-{c}", "d": c, "a": date(2024, 1, 1) if n % 3 else date(2027, 1, 1)}
                      for n, c in enumerate(towns)])
        conn.execute(text("INSERT INTO link_status (link_id, division_code, agent_id, up, checked_ts, changed_ts, "
                          "loss_ratio, rtt_avg_seconds) VALUES (:i, :d, 'agt-bench', :u, :t, :t, :l, :r)"),
                     [{"i": f"T-{c}", "d": c, "u": int(n % 17 != 0), "t": now, "l": (n % 5) / 10,
                       "r": 0.002 + (n % 100) / 10000} for n, c in enumerate(towns)])
        record_change(conn, ACTOR, "bulk_load", "link", "*", None, {"links": len(towns), "statuses": len(towns)})
    return len(towns)


class Baseline:
    """A plain prometheus_client exporter: Gauges set from the store, generate_latest per scrape."""

    def __init__(self, store: Store) -> None:
        from prometheus_client import CollectorRegistry, Gauge

        self.store, self.registry = store, CollectorRegistry()
        labels = ["link", "division", "province"]
        self.up = Gauge("cloudctl_link_up", "up", labels, registry=self.registry)
        self.loss = Gauge("cloudctl_link_probe_loss_ratio", "loss", labels, registry=self.registry)
        self.rtt = Gauge("cloudctl_link_probe_rtt_seconds", "rtt", labels, registry=self.registry)
        self.ts = Gauge("cloudctl_link_probe_timestamp_seconds", "ts", labels, registry=self.registry)
        self.ratio = Gauge("cloudctl_coverage_ratio", "ratio", ["level", "province"], registry=self.registry)
        self.divs = Gauge("cloudctl_divisions", "divs", ["level", "province", "state"], registry=self.registry)

    def update(self, today: date) -> None:
        with self.store.connect() as conn:
            for link, div, up, loss, rtt, ts in conn.execute(text(LINK_SQL)):
                key = (link, div, div[:2])
                self.up.labels(*key).set(up)
                self.loss.labels(*key).set(loss)
                self.rtt.labels(*key).set(rtt)
                self.ts.labels(*key).set(ts)
        for child in rollup_coverage(self.store, today, by_child=True).children or []:
            for lv in child.levels:
                if lv.total:
                    self.ratio.labels(lv.level, child.code).set(lv.ratio)
                    self.divs.labels(lv.level, child.code, "covered").set(lv.covered)
                    self.divs.labels(lv.level, child.code, "uncovered").set(lv.total - lv.covered)

    def generate(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="SQLite file to build or reuse (default: a temporary one)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="cloudctl-bench-metrics-")
    store = open_store(f"sqlite:///{args.db or Path(tmp.name) / 'bench.sqlite3'}")
    t = time.perf_counter()
    n = prepare(store)
    print(f"store: {n} township links with status (prepared in {time.perf_counter() - t:.1f} s)")
    today = datetime.now(UTC).date()

    base = Baseline(store)
    b_scrape, b_text = timed(lambda: (base.update(today), base.generate())[1], args.repeat)
    b_gen, _ = timed(base.generate, args.repeat)
    c_cold, c_text = timed(lambda: Exposition(store, extra=None).text(), args.repeat)
    ex = Exposition(store)
    ex.text()
    c_warm, _ = timed(ex.text, args.repeat * 20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from cloudctl.api.app import ApiSettings, create_app
    client = TestClient(create_app(store, ApiSettings(process_metrics=False)))
    identity, gz = {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip"}
    client.get("/metrics", headers=identity)
    client.get("/metrics", headers=gz)
    c_http, resp = timed(lambda: client.get("/metrics", headers=identity), args.repeat * 20)
    c_gzip, gz_resp = timed(lambda: client.get("/metrics", headers=gz), args.repeat * 20)

    ours = parse_exposition(str(c_text))
    theirs = parse_exposition(b_text.decode())  # type: ignore[union-attr]
    for name in ("cloudctl_link_up", "cloudctl_link_probe_rtt_seconds", "cloudctl_coverage_ratio"):
        def canon(samples):  # type: ignore[no-untyped-def]
            return sorted((tuple(sorted(labels.items())), value) for labels, value in samples)

        assert canon(ours[name]) == canon(theirs[name]), name
    assert resp.status_code == 200 and len(ours["cloudctl_link_up"]) == n  # type: ignore[union-attr]
    series = sum(len(v) for v in ours.values())
    print(f"series exposed: {series} (township link series: {len(ours['cloudctl_link_up'])} x 4)")
    print(f"baseline scrape (read + set Gauges + generate_latest): {b_scrape * 1000:9.1f} ms")
    print(f"baseline generate_latest only (data unchanged):       {b_gen * 1000:9.1f} ms")
    print(f"cloudctl cold build from the store:                   {c_cold * 1000:9.1f} ms")
    print(f"cloudctl cached (data unchanged):                     {c_warm * 1000:9.3f} ms")
    print(f"cloudctl GET /metrics over ASGI, cached:              {c_http * 1000:9.3f} ms"
          f"  ({len(resp.content) / 1e6:.1f} MB)")  # type: ignore[union-attr]
    print(f"cloudctl GET /metrics gzip (as Prometheus asks):      {c_gzip * 1000:9.3f} ms"
          f"  ({int(gz_resp.headers['content-length']) / 1e6:.1f} MB on the wire)")  # type: ignore[union-attr]
    print(f"ratio cold build vs baseline scrape:        {b_scrape / c_cold:8.1f}x")
    print(f"ratio cached vs baseline generate only:     {b_gen / c_warm:8.1f}x")
    print(f"ratio GET /metrics vs baseline generate:    {b_gen / c_http:8.1f}x  (goal >= 10x)")
    store.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
