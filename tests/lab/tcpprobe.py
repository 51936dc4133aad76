"""A small TCP/UDP listener and client for the real-packet tests (run inside lab namespaces).

  serve ADDR:PORT[/udp] ...   answer each connection/datagram with "peer <source address>\n",
                              then echo lines (TCP); prints "ready" once every socket is bound
  probe                       read a JSON list of {src, dst, port, proto} on stdin, try them
                              all in parallel, print a JSON list of {ok, peer, error}
  hold SRC DST PORT COUNT     open COUNT connections, print "ready", ping-pong on each until
                              "stop" arrives on stdin; print failures and TCP retransmissions

Every wait is bounded (connect/recv timeouts, a lifetime for servers and holders).
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

TCP_INFO_TOTAL_RETRANS = 100  # offset of tcpi_total_retrans in struct tcp_info


def _family(addr: str) -> int:
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def _split(spec: str) -> tuple[str, int, str]:
    spec, _, proto = spec.partition("/")
    host, _, port = spec.rpartition(":")
    return host.strip("[]"), int(port), proto or "tcp"


def _serve_tcp(sock: socket.socket) -> None:
    while True:
        conn, peer = sock.accept()
        threading.Thread(target=_echo, args=(conn, peer[0]), daemon=True).start()


def _echo(conn: socket.socket, peer: str) -> None:
    conn.settimeout(600)
    try:
        conn.sendall(f"peer {peer}\n".encode())
        while data := conn.recv(65536):
            conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def _serve_udp(sock: socket.socket) -> None:
    while True:
        _, peer = sock.recvfrom(65536)
        sock.sendto(f"peer {peer[0]}\n".encode(), peer)


def serve(specs: list[str], lifetime: float) -> None:
    for spec in specs:
        host, port, proto = _split(spec)
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        sock = socket.socket(_family(host), kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        if proto == "udp":
            threading.Thread(target=_serve_udp, args=(sock,), daemon=True).start()
        else:
            sock.listen(1024)
            threading.Thread(target=_serve_tcp, args=(sock,), daemon=True).start()
    print("ready", flush=True)
    time.sleep(lifetime)


def _read_line(sock: socket.socket, timeout: float) -> str:
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def probe_one(p: dict, timeout: float) -> dict:
    proto = p.get("proto", "tcp")
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    sock = socket.socket(_family(p["dst"]), kind)
    try:
        sock.bind((p["src"], 0))
        sock.settimeout(timeout)
        if proto == "udp":
            sock.sendto(b"hello\n", (p["dst"], int(p["port"])))
            data, _ = sock.recvfrom(4096)
            line = data.decode().strip()
        else:
            sock.connect((p["dst"], int(p["port"])))
            line = _read_line(sock, timeout)
        return {"ok": line.startswith("peer "), "peer": line[5:] or None, "error": None}
    except OSError as e:
        return {"ok": False, "peer": None, "error": type(e).__name__ + ": " + str(e)}
    finally:
        sock.close()


def probe(timeout: float) -> None:
    probes = json.load(sys.stdin)
    with ThreadPoolExecutor(max_workers=min(32, max(1, len(probes)))) as pool:
        results = list(pool.map(lambda p: probe_one(p, timeout), probes))
    json.dump(results, sys.stdout)


def hold(src: str, dst: str, port: int, count: int, interval: float, lifetime: float) -> None:
    conns: list[socket.socket] = []
    for _ in range(count):
        s = socket.socket(_family(dst), socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(5)
        s.connect((dst, port))
        _read_line(s, 5)
        conns.append(s)
    print("ready", flush=True)
    failures: list[str] = []
    rounds = 0
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        if select.select([sys.stdin], [], [], 0)[0]:
            break  # "stop" (or EOF) from the test
        rounds += 1
        for i, s in enumerate(conns):
            msg = f"ping {rounds}\n".encode()
            try:
                s.sendall(msg)
                got = b""
                s.settimeout(5)
                while len(got) < len(msg):
                    chunk = s.recv(len(msg) - len(got))
                    if not chunk:
                        raise ConnectionError("closed by peer")
                    got += chunk
                if got != msg:
                    failures.append(f"conn {i} round {rounds}: got {got!r}")
            except OSError as e:
                failures.append(f"conn {i} round {rounds}: {type(e).__name__}: {e}")
        time.sleep(interval)
    retrans = 0
    for s in conns:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        retrans += struct.unpack_from("I", info, TCP_INFO_TOTAL_RETRANS)[0]
        s.close()
    json.dump({"connections": len(conns), "rounds": rounds, "failures": failures[:20],
               "failure_count": len(failures), "retransmits": retrans}, sys.stdout)


def main(argv: list[str]) -> None:
    cmd = argv[0]
    if cmd == "serve":
        serve(argv[1:], lifetime=1800)
    elif cmd == "probe":
        probe(float(argv[1]) if len(argv) > 1 else 1.5)
    elif cmd == "hold":
        src, dst, port, count = argv[1], argv[2], int(argv[3]), int(argv[4])
        hold(src, dst, port, count, interval=0.05, lifetime=float(argv[5]) if len(argv) > 5 else 120)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
