"""Swagger UI (/docs) and ReDoc (/redoc) render in headless Chromium with the network blocked
except the server: every request the browser makes goes through a proxy here that forwards only
to `cloudctl serve` and refuses (and records) everything else. The control: FastAPI's stock
/docs, which loads Swagger UI from a CDN, does not render under the same block, and the proxy
sees it try. `serve --no-docs` serves neither page; the packaged files are the ones documented."""

from __future__ import annotations

import hashlib
import re
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloudctl.api.docs_pages import ASSET_TYPES, ASSETS
from cloudctl.store import open_store
from tests.agent.test_agent_e2e import _free_port, _wait
from tests.reports.browser import FLAGS, chromium_binary

pytestmark = pytest.mark.browser
TIMEOUT = 180
QUIET = ["--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,"
         "AutofillServerCommunication",
         "--disable-default-apps", "--no-pings", "--disable-client-side-phishing-detection",
         "--disable-domain-reliability", "--no-service-autorun"]
# Chromium's own services, which it calls on start whatever the page (seen with a blank page):
# none is anything a documentation page loads.
BROWSER_OWN = ("update.googleapis.com", "accounts.google.com", "clients2.google.com", "content-autofill.googleapis.com")


def _page_requests(refused: list[str]) -> list[str]:
    return [r for r in refused if not any(f"{host}:" in r or f"//{host}/" in r for host in BROWSER_OWN)]


class GateProxy(ThreadingHTTPServer):
    """An HTTP proxy that lets through only requests to `allowed` (host:port); records the rest."""

    daemon_threads = True

    def __init__(self, allowed: set[str]) -> None:
        self.allowed, self.refused, self.passed = allowed, [], []  # type: ignore[var-annotated]
        super().__init__(("127.0.0.1", 0), _GateHandler)


class _GateHandler(BaseHTTPRequestHandler):
    server: GateProxy

    def log_message(self, *args: object) -> None:
        pass

    def do_CONNECT(self) -> None:  # HTTPS: never allowed (the server under test speaks HTTP)
        self.server.refused.append(f"CONNECT {self.path}")
        self.send_error(403, "blocked by the test")

    def _forward(self) -> None:
        m = re.match(r"^http://([^/]+)(/.*)?$", self.path)
        hostport = m.group(1) if m else ""
        if hostport not in self.server.allowed:
            self.server.refused.append(f"{self.command} {self.path}")
            self.send_error(403, "blocked by the test")
            return
        self.server.passed.append(f"{self.command} {self.path}")
        host, _, port = hostport.partition(":")
        with socket.create_connection((host, int(port or 80)), timeout=30) as upstream:
            headers = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()
                              if k.lower() not in ("proxy-connection", "connection", "keep-alive"))
            upstream.sendall(f"{self.command} {m.group(2) or '/'} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"  # type: ignore[union-attr]
                             .encode("latin-1"))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                upstream.sendall(self.rfile.read(length))
            while True:
                ready, _, _ = select.select([upstream], [], [], 30)
                chunk = upstream.recv(65536) if ready else b""
                if not chunk:
                    break
                self.wfile.write(chunk)
        self.close_connection = True

    do_GET = do_POST = do_HEAD = _forward


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> int:
        port = _free_port()
        db = f"sqlite:///{tmp_path / f'docs-{port}.sqlite3'}"
        open_store(db).dispose()  # only `cloudctl init` creates a store from the CLI
        procs.append(subprocess.Popen([sys.executable, "-m", "cloudctl", "--db", db, "serve", "--port", str(port),
                                       "--log-level", "warning", *extra],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(up, 60, "cloudctl serve")
        return port

    yield start
    for p in procs:
        p.terminate()
        p.wait(30)


@pytest.fixture
def stock_fastapi() -> Iterator[int]:
    """FastAPI's default /docs (Swagger UI from a CDN), the control."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI(title="stock")

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(lambda: server.started, 30, "uvicorn")
    yield port
    server.should_exit = True
    thread.join(10)


def _dom_through_gate(url: str, allowed: str, profile: Path) -> tuple[str, GateProxy]:
    gate = GateProxy({allowed})
    thread = threading.Thread(target=gate.serve_forever, daemon=True)
    thread.start()
    try:
        cmd = [chromium_binary(), *FLAGS, *QUIET, f"--user-data-dir={profile}",
               f"--proxy-server=http://127.0.0.1:{gate.server_address[1]}",
               "--proxy-bypass-list=<-loopback>",  # loopback through the gate too: it sees every request
               "--virtual-time-budget=30000", "--dump-dom", url]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        assert "<html" in result.stdout, result.stderr[-2000:]
        return result.stdout, gate
    finally:
        gate.shutdown()
        gate.server_close()


OPERATIONS = ["/v1/agents/enrol", "/v1/agents/{agent_id}/config", "/v1/agents/{agent_id}/heartbeats",
              "/v1/coverage/summary"]


def test_swagger_ui_renders_from_the_server_alone(serve: Any, tmp_path: Path) -> None:
    port = serve()
    dom, gate = _dom_through_gate(f"http://127.0.0.1:{port}/docs", f"127.0.0.1:{port}", tmp_path / "p")
    assert _page_requests(gate.refused) == [], gate.refused
    assert any("/docs/assets/swagger-ui-bundle.js" in p for p in gate.passed)
    assert any("/openapi.json" in p for p in gate.passed)
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert set(OPERATIONS) <= rendered, rendered


def test_redoc_renders_from_the_server_alone(serve: Any, tmp_path: Path) -> None:
    port = serve()
    dom, gate = _dom_through_gate(f"http://127.0.0.1:{port}/redoc", f"127.0.0.1:{port}", tmp_path / "p")
    assert _page_requests(gate.refused) == [], gate.refused
    assert any("/docs/assets/redoc.standalone.js" in p for p in gate.passed)
    assert "cloudctl central API" in dom and "Something went wrong" not in dom
    for op in OPERATIONS:  # ReDoc shows each operation's path in its right-hand panel
        assert op in dom, op


def test_the_stock_cdn_page_does_not_render_behind_the_same_gate(stock_fastapi: int, tmp_path: Path) -> None:
    dom, gate = _dom_through_gate(f"http://127.0.0.1:{stock_fastapi}/docs", f"127.0.0.1:{stock_fastapi}",
                                  tmp_path / "p")
    assert any("cdn.jsdelivr.net" in r for r in gate.refused), gate.refused
    assert "opblock-summary-path" not in dom


def test_no_docs_switches_both_pages_off(serve: Any) -> None:
    port = serve("--no-docs")
    for path in ("/docs", "/redoc", "/docs/assets/swagger-ui-bundle.js"):
        assert httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 404
    assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).status_code == 200


def test_packaged_files_are_the_documented_ones() -> None:
    readme = (ASSETS / "README.md").read_text()
    documented = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    assert set(documented) == set(ASSET_TYPES)
    for name, digest in documented.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    for licence in ("swagger-ui.LICENSE", "swagger-ui.NOTICE", "redoc.LICENSE",
                    "swagger-ui-bundle.js.LICENSE.txt", "redoc.standalone.js.LICENSE.txt"):
        assert (ASSETS / licence).stat().st_size > 0, licence
