"""Wiring for `cloudctl agent run`: config → transport, spool, runner, local /metrics, SIGTERM."""

from __future__ import annotations

import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudctl.agent.config import AgentConfig
from cloudctl.agent.exposition import render_metrics
from cloudctl.agent.runner import Agent, AgentState, Unreachable
from cloudctl.agent.spool import Spool
from cloudctl.agent.transport import HttpTransport


def serve_metrics(listen: str, state: AgentState) -> ThreadingHTTPServer:
    host, _, port = listen.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = render_metrics(state).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, int(port)), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def run_agent(cfg: AgentConfig, *, max_rounds: int | None = None) -> Agent:
    from cloudctl import __version__

    transport = HttpTransport(cfg.api_url, cfg.state_dir, token=cfg.enrol_token,
                              verify=cfg.ca_file or True, hostname=cfg.hostname or socket.gethostname(),
                              metrics_address=cfg.metrics_address or cfg.metrics_listen,
                              agent_version=__version__)
    agent = Agent(transport, Spool(cfg.state_dir / "spool", max_records=cfg.spool_max_records),
                  interval_s=cfg.interval_seconds, config_every_s=cfg.config_refresh_seconds)
    previous = signal.signal(signal.SIGTERM, lambda *_: agent.stop.set())
    server = serve_metrics(cfg.metrics_listen, agent.state) if cfg.metrics_listen else None
    try:
        while not agent.stop.is_set():  # enrol, waiting for the API if it is away
            try:
                last_seq = transport.ensure_enrolled()
                if last_seq is not None:  # enrolled now: number from what the API has seen
                    agent.observe_last_seq(last_seq)
                break
            except Unreachable:
                agent.stop.wait(min(cfg.interval_seconds, 5.0))
        if not agent.stop.is_set():
            agent.run_forever(max_rounds=max_rounds)
    finally:
        if server:
            server.shutdown()
            server.server_close()
        transport.close()
        signal.signal(signal.SIGTERM, previous)
    return agent

