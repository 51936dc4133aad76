"""cloudctl serve: the central HTTP API (FastAPI under uvicorn), TLS optional."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cloudctl.cli.context import AppContext
from cloudctl.cli.output import emit_rows, format_option
from cloudctl.cli.perform import performs, service

_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8480, show_default=True)
@click.option("--tls-cert", type=_file, help="PEM certificate (chain); serves HTTPS with --tls-key.")
@click.option("--tls-key", type=_file, help="PEM private key of --tls-cert.")
@click.option("--tls-client-ca", type=_file, help="CA bundle to verify client certificates against (optional).")
@click.option("--max-body-bytes", type=click.IntRange(1024), default=256 * 1024, show_default=True)
@click.option("--rate", type=click.FloatRange(0.01), default=5.0, show_default=True,
              help="Requests per second allowed per client address and agent.")
@click.option("--burst", type=click.IntRange(1), default=30, show_default=True, help="Burst size of --rate.")
@click.option("--heartbeat-interval", type=click.FloatRange(1), default=15.0, show_default=True,
              help="Seconds between an agent's heartbeats (told to agents).")
@click.option("--silence-after", type=click.IntRange(1, 1000), default=3, show_default=True, metavar="N",
              help="A link's state is unknown once N heartbeat intervals pass without a report of it "
                   "(docs/availability.md).")
@click.option("--metrics-bucket", type=click.FloatRange(0.1), default=15.0, show_default=True,
              help="Seconds time-derived metrics stay cached.")
@click.option("--audit-verify-interval", type=click.FloatRange(0.1), default=300.0, show_default=True,
              help="Seconds between full audit-chain verifications behind cloudctl_audit_chain_ok.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes sharing the port (each with its own store connections and batches).")
@click.option("--keep-alive", type=click.FloatRange(1, 3600), default=75.0, show_default=True,
              help="Seconds an idle client connection stays open (longer than a load balancer's idle timeout).")
@click.option("--docs/--no-docs", default=True, show_default=True,
              help="Serve Swagger UI at /docs and ReDoc at /redoc (from the package, nothing fetched from outside).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request (at 3,000 heartbeats/s that is 3,000 lines a second: off by default).")
@click.option("--cloud", "cloud_name", envvar="CLOUDCTL_CLOUD", metavar="NAME",
              help="Cloud in clouds.yaml for applying approved requests (env CLOUDCTL_CLOUD, else OS_CLOUD).")
@click.pass_context
@service
def serve(ctx: click.Context, cloud_name: str | None, host: str, port: int, tls_cert: Path | None,
          tls_key: Path | None,
          tls_client_ca: Path | None, max_body_bytes: int, rate: float, burst: int, heartbeat_interval: float,
          silence_after: int, metrics_bucket: float, audit_verify_interval: float, workers: int, keep_alive: float,
          docs: bool, log_level: str, access_log: bool) -> None:
    """Serve agent enrolment and heartbeats, probe config, coverage, approvals, /metrics, /healthz
    and /readyz. Several instances (and --workers) may share one PostgreSQL behind a load balancer.

    `cloudctl serve token` issues an operator's API token instead."""
    if ctx.invoked_subcommand:
        return
    app: AppContext = ctx.find_object(AppContext)
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    import uvicorn

    from cloudctl.api.app import ApiSettings, create_app
    from cloudctl.config import cloud_name as config_cloud_name
    from cloudctl.config import server_tuning, timezone_override

    settings = ApiSettings(max_body_bytes=max_body_bytes, rate_per_second=rate, rate_burst=burst,
                           heartbeat_interval_seconds=heartbeat_interval, silence_after_heartbeats=silence_after,
                           metrics_bucket_seconds=metrics_bucket,
                           audit_full_interval_seconds=audit_verify_interval, docs=docs,
                           cloud=config_cloud_name(cloud_name),
                           timezone=timezone_override(), **server_tuning())  # type: ignore[arg-type]
    ssl: dict[str, object] = {}
    if tls_cert:
        ssl = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)}
        if tls_client_ca:
            import ssl as ssl_module

            ssl |= {"ssl_ca_certs": str(tls_client_ca), "ssl_cert_reqs": ssl_module.CERT_REQUIRED}
    scheme = "https" if tls_cert else "http"
    store = app.store  # opened and migrated here, once, before any worker starts
    click.echo(f"cloudctl API on {scheme}://{host}:{port} (store: {store.dialect}, workers: {workers})", err=True)
    common: dict[str, object] = {"host": host, "port": port, "log_level": log_level, "access_log": access_log,
                                 "timeout_keep_alive": keep_alive,
                                 "timeout_graceful_shutdown": 10, "proxy_headers": False, "server_header": False,
                                 **ssl}
    if workers == 1:
        uvicorn.run(create_app(store, settings), **common)  # type: ignore[arg-type]
        return
    import os

    from cloudctl.api.worker import worker_environment

    store.dispose()
    os.environ.update(worker_environment(app.db_url, settings))
    uvicorn.run("cloudctl.api.worker:create_from_environment", factory=True, workers=workers,
                **common)  # type: ignore[arg-type]


@serve.command("token")
@click.option("--ttl", default="30d", show_default=True, help="How long the token stays valid (e.g. 12h, 30d).")
@click.option("--revoke", "revoke", metavar="TOKEN_ID", help="Revoke one of your tokens (its opt-... id) instead.")
@format_option()
@performs("cloudctl.api.token_actions:TOKEN")
def token_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Issue an API token for yourself (the --as operator), for votes over HTTP (shown once)."""
    if "revoked" in result:
        click.echo(f"token {result['revoked']} revoked", err=True)
        return
    if fmt == "table":
        click.echo(result["token"])
        click.echo(f"token for {result['operator']}, valid until {result['expires_at']}; send as "
                   "`Authorization: Bearer ...`", err=True)
    else:
        emit_rows([result], ["operator", "token", "expires_at"], fmt, json_data=result)
