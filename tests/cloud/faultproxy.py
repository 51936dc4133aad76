"""A small fault-injecting HTTP proxy in front of the real OpenStack APIs (tests only).

One listener per upstream API port; response bodies and Location headers are rewritten so the
Keystone catalog and version documents point back through the proxy. Faults are rules matched
on method and path, each firing a limited number of times:

  error_before  answer 503 without forwarding (the cloud never saw the request)
  error_after   forward, then answer 503 (the change happened; the answer is lost)
  reset_before  close the connection without forwarding
  reset_after   forward, then close the connection without answering
  delay         forward after sleeping `seconds` (a request stuck in the network)
  delay_after   forward, then sleep `seconds` before answering (a slow answer: client timeout)
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

UPSTREAM_PORTS = (5000, 8774, 8778, 9292, 9696, 8776)
HOST = "127.0.0.1"


@dataclass
class Fault:
    method: str
    path_regex: str
    kind: str
    times: int = 1
    seconds: float = 0.0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.fired < self.times and method == self.method and re.search(self.path_regex, path) is not None


@dataclass
class FaultLog:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fired: list[tuple[str, str, str]] = field(default_factory=list)


class FaultProxy:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.log = FaultLog()
        self.port_map: dict[int, int] = {}  # upstream port -> proxy port
        self._servers: list[ThreadingHTTPServer] = []

    def add(self, method: str, path_regex: str, kind: str, *, times: int = 1, seconds: float = 0.0) -> Fault:
        f = Fault(method, path_regex, kind, times, seconds)
        with self.log.lock:
            self.faults.append(f)
        return f

    def _take(self, method: str, path: str) -> Fault | None:
        with self.log.lock:
            self.log.requests.append((method, path))
            for f in self.faults:
                if f.matches(method, path):
                    f.fired += 1
                    self.log.fired.append((f.kind, method, path))
                    return f
        return None

    def _rewrite(self, data: bytes) -> bytes:
        for up, mine in self.port_map.items():
            data = data.replace(f"{HOST}:{up}".encode(), f"{HOST}:{mine}".encode())
        return data

    def start(self) -> FaultProxy:
        proxy = self
        for up in UPSTREAM_PORTS:
            handler = type(f"Handler{up}", (_Handler,), {"proxy": proxy, "upstream": up})
            server = ThreadingHTTPServer((HOST, 0), handler)
            server.daemon_threads = True
            server.request_queue_size = 128
            self.port_map[up] = server.server_address[1]
            self._servers.append(server)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()

    def write_clouds_yaml(self, original: Path, dest: Path, name: str = "cloudctl-faulty") -> str:
        import yaml

        data = yaml.safe_load(original.read_text())
        cloud = data["clouds"]["cloudctl-dev"]
        cloud["auth"]["auth_url"] = f"http://{HOST}:{self.port_map[5000]}/v3"
        data["clouds"][name] = cloud
        dest.write_text(yaml.safe_dump(data))
        return name


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    upstream: int
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = self.proxy._take(self.command, self.path)
        if fault and fault.kind == "error_before":
            return self._reply(503, b'{"error": "injected 503"}', {"Content-Type": "application/json"})
        if fault and fault.kind == "reset_before":
            return self._reset()
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection",
                                                                              "accept-encoding")}
        conn = http.client.HTTPConnection(HOST, self.upstream, timeout=300)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = self.proxy._rewrite(resp.read())
            out_headers = {k: v for k, v in resp.getheaders()
                           if k.lower() not in ("content-length", "transfer-encoding", "connection")}
            if "Location" in out_headers:
                out_headers["Location"] = self.proxy._rewrite(out_headers["Location"].encode()).decode()
            status = resp.status
        finally:
            conn.close()
        if fault and fault.kind == "delay_after":
            time.sleep(fault.seconds)
        if fault and fault.kind == "error_after":
            return self._reply(503, b'{"error": "injected 503 after the change"}',
                               {"Content-Type": "application/json"})
        if fault and fault.kind == "reset_after":
            return self._reset()
        self._reply(status, data, out_headers)

    def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close_connection = True
        self.connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle
