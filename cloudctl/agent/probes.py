"""Probes: TCP connect, HTTP(S) with an expected status, ICMP echo — several packets a round.

Each probe returns a ProbeResult with round statistics (loss, RTT min/avg/max/stddev),
which blackbox_exporter does not give for a multi-packet round.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from cloudctl.agent.stats import RoundStats, round_stats

ProbeKind = Literal["tcp", "http", "icmp"]


@dataclass(frozen=True)
class ProbeTarget:
    name: str
    kind: ProbeKind
    target: str  # host:port for tcp, URL for http, address for icmp
    count: int = 3
    timeout_s: float = 2.0
    expect_status: int = 200
    link_id: str | None = None  # the extranet link this probe watches, if any


@dataclass(frozen=True)
class ProbeResult:
    name: str
    kind: ProbeKind
    target: str
    link_id: str | None
    up: bool
    stats: RoundStats
    error: str | None = None
    detail: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "target": self.target, "link_id": self.link_id,
                "up": self.up, "error": self.error, **self.stats.to_json(), **self.detail}


def _split_hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def tcp_once(host: str, port: int, timeout: float) -> float:
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout):
        return time.perf_counter() - start


def http_once(url: str, timeout: float, expect_status: int) -> float:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    kwargs: dict[str, object] = {"timeout": timeout}
    if parts.scheme == "https":
        kwargs["context"] = ssl.create_default_context()
    start = time.perf_counter()
    conn = cls(parts.hostname or "", parts.port, **kwargs)  # type: ignore[arg-type]
    try:
        conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        status = conn.getresponse().status
    finally:
        conn.close()
    if status != expect_status:
        raise ValueError(f"HTTP status {status}, expected {expect_status}")
    return time.perf_counter() - start


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _icmp_socket() -> tuple[socket.socket, bool]:
    """An unprivileged ping socket where the kernel allows it, else a raw socket (root)."""
    try:
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP), False
    except PermissionError:
        return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), True


def icmp_round(address: str, count: int, timeout: float, interval: float = 0.2) -> list[float | None]:
    sock, raw = _icmp_socket()
    ident = os.getpid() & 0xFFFF
    rtts: list[float | None] = []
    try:
        for seq in range(1, count + 1):
            payload = struct.pack("!d", time.perf_counter()) + b"cloudctl"
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
            start = time.perf_counter()
            sock.sendto(packet, (address, 0))
            rtts.append(_await_reply(sock, raw, ident, seq, start, timeout))
            if seq < count:
                time.sleep(interval)
    finally:
        sock.close()
    return rtts


def _await_reply(sock: socket.socket, raw: bool, ident: int, seq: int, start: float, timeout: float) -> float | None:
    deadline = start + timeout
    while (left := deadline - time.perf_counter()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None
        data = sock.recv(2048)
        if raw:
            data = data[(data[0] & 0x0F) * 4 :]  # strip the IP header
        if len(data) < 8:
            continue
        icmp_type, _, _, r_ident, r_seq = struct.unpack("!BBHHH", data[:8])
        # ping sockets rewrite the identifier; match on sequence there
        if icmp_type == 0 and r_seq == seq and (not raw or r_ident == ident):
            return time.perf_counter() - start
    return None


def run_probe(t: ProbeTarget) -> ProbeResult:
    """One round of t.count attempts; up when at least one succeeded."""
    rtts: list[float | None] = []
    error: str | None = None
    if t.kind == "icmp":
        try:
            rtts = icmp_round(t.target, t.count, t.timeout_s)
        except OSError as e:
            error, rtts = f"icmp: {e}", [None] * t.count
    else:
        for _ in range(t.count):
            try:
                if t.kind == "tcp":
                    rtts.append(tcp_once(*_split_hostport(t.target), t.timeout_s))
                else:
                    rtts.append(http_once(t.target, t.timeout_s, t.expect_status))
            except (OSError, ValueError, http.client.HTTPException) as e:
                error = f"{t.kind}: {e}"
                rtts.append(None)
    stats = round_stats(rtts)
    return ProbeResult(t.name, t.kind, t.target, t.link_id, stats.received > 0, stats,
                       None if stats.received == stats.sent else error)
