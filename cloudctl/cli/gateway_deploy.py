"""`cloudctl gateway deploy | confirm | verify`: the gateway group adds these commands.

Exit codes: 0 done (deploy: applied and pending or confirmed; verify: in sync); 1 the host
refused or failed (check failed, apply failed, unreachable, rolled back) or verify found drift;
2 bad input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.params import ISO_DATE
from cloudctl.cli.perform import performs, read_only
from cloudctl.cli.run import host_progress

if TYPE_CHECKING:
    from cloudctl.gateway.deploy import Outcome


def _at_option():  # type: ignore[no-untyped-def]
    return click.option("--at", "at", type=ISO_DATE,
                        help="Evaluate expiry on this date (default: today in the configured zone).")


def _emit(outcome: Outcome, fmt: str) -> None:
    if fmt == "json":
        emit_json(outcome.as_dict())
    else:
        row = {"gateway": outcome.gateway, "action": outcome.action, "status": outcome.status,
               "deploy_id": outcome.deploy_id or "", "confirm_by": outcome.confirm_by or "",
               "message": outcome.message}
        emit_rows([row], list(row), fmt)
        if outcome.drift is not None and fmt == "table":
            if outcome.drift.items:
                emit_rows([i.as_dict() for i in outcome.drift.items], ["kind", "name", "change", "detail"], fmt,
                          title="drift")
            emit_rows([c.as_dict() for c in outcome.drift.counters],
                      ["name", "publication", "department", "share", "packets", "bytes"], fmt, title="counters")
            for table in outcome.drift.foreign_tables:
                click.echo(f"warning: another table hooks the same paths: {table}", err=True)
    if not outcome.ok:
        from cloudctl.errors import OperationFailed

        raise OperationFailed(f"gateway {outcome.action} {outcome.gateway}: {outcome.status}: {outcome.message}")


@click.command()
@click.argument("name_or_file", metavar="NAME|FILE")
@click.option("--confirm-within", type=click.IntRange(min=0, max=86400), default=120, show_default=True,
              help="Seconds before the gateway rolls back unless confirmed (0: no timer, confirm at once).")
@click.option("--check", is_flag=True, help="Dry run: upload and `nft -c` on the gateway, apply nothing.")
@_at_option()
@format_option()
@performs("cloudctl.gateway.actions:DEPLOY",
          progress=lambda raw: host_progress("gateway-apply.yml" + (" (check)" if raw.get("check") else "")))
def deploy(app: AppContext, result: Outcome, fmt: str) -> None:
    """Compile the policy and apply it on its gateway, commit-confirmed."""
    _emit(result, fmt)


@click.command()
@click.argument("name")
@click.option("--deploy-id", help="Confirm only this deploy (refuse if another one is pending).")
@format_option()
@performs("cloudctl.gateway.actions:CONFIRM", progress=lambda raw: host_progress("gateway-confirm.yml"))
def confirm(app: AppContext, result: Outcome, fmt: str) -> None:
    """Keep the pending ruleset on gateway NAME: stop its rollback timer."""
    _emit(result, fmt)


@click.command()
@click.argument("name_or_file", metavar="NAME|FILE")
@_at_option()
@format_option()
@pass_app
@read_only
def verify(app: AppContext, name_or_file: str, at, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """Compare the running ruleset with the compiled policy; show per-publication counters."""
    from cloudctl.gateway.deploy import verify_gateway

    with host_progress("gateway-facts.yml") as listener:
        outcome = verify_gateway(app.store, app.actor, name_or_file, at=at or app.clock.today(), on_host=listener)
    _emit(outcome, fmt)


@click.command()
@click.argument("name", required=False)
@click.option("--limit", type=int, default=50, show_default=True, help="Newest N records (0 = all).")
@format_option()
@pass_app
@read_only
def history(app: AppContext, name: str | None, limit: int, fmt: str) -> None:
    """Deploys, confirms and verifies recorded for gateway NAME (all gateways without NAME)."""
    from cloudctl.gateway.deploy import list_deploys

    rows = list_deploys(app.store, name, limit or None)
    emit_rows(rows, ["id", "at", "gateway", "action", "status", "confirm_by", "drift_items", "actor", "message"],
              fmt)
