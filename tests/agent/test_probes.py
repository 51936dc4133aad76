"""Probes against real listeners on loopback; statistics against an independent computation."""

from __future__ import annotations

import http.server
import socket
import statistics
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.agent.probes import ProbeTarget, run_probe
from cloudctl.agent.stats import round_stats


@given(st.lists(st.one_of(st.none(), st.floats(min_value=0.0001, max_value=5)), min_size=1, max_size=20))
def test_round_stats_match_statistics_module(rtts: list[float | None]) -> None:
    s = round_stats(rtts)
    ok = [r for r in rtts if r is not None]
    assert s.sent == len(rtts) and s.received == len(ok)
    assert s.loss_ratio == pytest.approx((len(rtts) - len(ok)) / len(rtts))
    if ok:
        assert s.rtt_min_s == min(ok) and s.rtt_max_s == max(ok)
        assert s.rtt_avg_s == pytest.approx(statistics.fmean(ok))
        assert s.rtt_stddev_s == pytest.approx(statistics.pstdev(ok), abs=1e-9)
    else:
        assert s.rtt_avg_s is None


@pytest.fixture
def tcp_listener() -> Iterator[int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    port = srv.getsockname()[1]
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                c.close()
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield port
    stop.set()
    t.join(5)
    srv.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_tcp_probe_up_and_down(tcp_listener: int) -> None:
    up = run_probe(ProbeTarget("ok", "tcp", f"127.0.0.1:{tcp_listener}", count=4))
    assert up.up and up.stats.sent == 4 and up.stats.received == 4 and up.stats.loss_ratio == 0
    assert 0 < up.stats.rtt_min_s <= up.stats.rtt_avg_s <= up.stats.rtt_max_s
    down = run_probe(ProbeTarget("closed", "tcp", f"127.0.0.1:{_closed_port()}", count=3, timeout_s=0.5))
    assert not down.up and down.stats.loss_ratio == 1.0 and "tcp" in (down.error or "")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_http_probe_checks_expected_status(http_server: int) -> None:
    ok = run_probe(ProbeTarget("portal", "http", f"http://127.0.0.1:{http_server}/ok", count=2))
    assert ok.up and ok.stats.received == 2
    bad = run_probe(ProbeTarget("portal", "http", f"http://127.0.0.1:{http_server}/down", count=2))
    assert not bad.up and "503" in (bad.error or "")


def test_icmp_probe_loopback() -> None:
    r = run_probe(ProbeTarget("lo", "icmp", "127.0.0.1", count=3, timeout_s=2))
    assert r.up and r.stats.received == 3, r.error
    assert r.stats.rtt_max_s < 2
