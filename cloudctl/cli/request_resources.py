"""`cloudctl request quota|server|volume`: resource requests for a department (subcommands of the
`request` group, added by cloudctl/cli/request.py).

Each files a request through the approval engine with the payload's size fields filled in, so the
policy's auto_approve tier decides; an auto-approved request is applied at once."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.cloud import cloud_option, open_cloud
from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option


def _file(app: AppContext, kind: str, payload: dict[str, Any], policy: str, title: str | None, dept: str,
          cloud_name: str | None, fmt: str) -> None:
    import os

    from cloudctl.approvals import APPROVED, apply_request, create_request
    from cloudctl.cloud_ops.requests import prepare
    from cloudctl.power import Scope, authorized

    if cloud_name:  # the appliers open the same cloud
        os.environ["CLOUDCTL_CLOUD"] = cloud_name
    cloud = open_cloud(cloud_name) if kind == "server" else None
    data = prepare(kind, payload, cloud)
    with authorized(app.store, app.actor, "request.create", Scope(dept=dept)) as conn:
        out = create_request(conn, app.actor, kind=kind, payload=data, policy=policy,
                             title=title or f"{kind} for {dept}", dept=dept)
    if out["status"] == APPROVED:  # inside the size tier: carry it out now
        applied = apply_request(app.store, out["id"], app.actor)
        if applied is not None:
            out.update(apply_status=applied["apply_status"], apply_result=applied["result"])
    out["payload"] = data
    if fmt == "json":
        emit_json(out)
    else:
        emit_rows([{"field": k, "value": v} for k, v in out.items()], ["field", "value"], fmt)
    if out.get("apply_status") == "failed":
        raise SystemExit(1)


def _common(f):  # type: ignore[no-untyped-def]
    for opt in reversed([
        click.option("--dept", required=True, metavar="CODE", help="The department asking."),
        click.option("--policy", "policy", required=True, help="Approval policy name."),
        click.option("--title", help="One line for reviewers."),
    ]):
        f = opt(f)
    return cloud_option(format_option()(pass_app(f)))


@click.command("quota")
@click.option("--vcpus", type=click.IntRange(min=1), help="More vCPUs.")
@click.option("--ram", type=click.IntRange(min=1), help="More RAM (MB).")
@click.option("--instances", type=click.IntRange(min=1), help="More servers.")
@click.option("--volumes", type=click.IntRange(min=1), help="More volumes.")
@click.option("--gigabytes", type=click.IntRange(min=1), help="More volume GB.")
@_common
def quota_cmd(app: AppContext, dept: str, policy: str, title: str | None, cloud_name: str | None, fmt: str,
              **inc: int | None) -> None:
    """Ask for a quota increase (amounts are added to the current quotas on approval)."""
    _file(app, "quota-increase", {k: v for k, v in inc.items() if v is not None}, policy, title, dept, cloud_name,
          fmt)


@click.command("server")
@click.option("--flavor", required=True)
@click.option("--image", required=True)
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--network", help="Network name or id (default: the department's network).")
@_common
def server_cmd(app: AppContext, flavor: str, image: str, count: int, network: str | None, dept: str, policy: str,
               title: str | None, cloud_name: str | None, fmt: str) -> None:
    """Ask for servers in the department's project."""
    payload = {"flavor": flavor, "image": image, "count": count, **({"network": network} if network else {})}
    _file(app, "server", payload, policy, title, dept, cloud_name, fmt)


@click.command("volume")
@click.option("--size", "size_gb", type=click.IntRange(min=1), required=True, help="GB per volume.")
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True)
@_common
def volume_cmd(app: AppContext, size_gb: int, count: int, dept: str, policy: str, title: str | None,
               cloud_name: str | None, fmt: str) -> None:
    """Ask for volumes in the department's project."""
    _file(app, "volume", {"size_gb": size_gb, "count": count}, policy, title, dept, cloud_name, fmt)


COMMANDS = (quota_cmd, server_cmd, volume_cmd)
