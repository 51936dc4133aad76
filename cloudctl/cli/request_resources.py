"""`cloudctl request quota|server|volume`: resource requests for a department (subcommands of the
`request` group, added by cloudctl/cli/request.py).

Shortcuts of `request create`: the same action (request.create), with the kind fixed and the
payload built from the options. The kind's schema checks it and cloudctl computes its size
fields, so the policy's auto_approve tier decides; an auto-approved request is applied at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from cloudctl.cli.cloud import cloud_option
from cloudctl.cli.context import AppContext
from cloudctl.cli.output import format_option
from cloudctl.cli.perform import performs

COMMON = ("dept", "policy_name", "title")
CREATE_REQUEST = "cloudctl.approvals.actions:CREATE_REQUEST"


def _request_of(kind: str, fields: tuple[str, ...]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def inputs(params: dict[str, Any]) -> dict[str, Any]:
        return {"kind": kind, "payload": {k: params[k] for k in fields if params.get(k) is not None},
                **{k: params[k] for k in COMMON if params.get(k) is not None}}

    return inputs


def _common(kind: str, fields: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def decorate(f):  # type: ignore[no-untyped-def]
        for opt in reversed([
            click.option("--dept", required=True, metavar="CODE", help="The department asking."),
            click.option("--policy", "policy_name", required=True, help="Approval policy name."),
            click.option("--title", help="One line for reviewers."),
        ]):
            f = opt(f)
        adapter = performs(CREATE_REQUEST, inputs=_request_of(kind, fields), consumes=(*fields, *COMMON))
        return cloud_option(format_option()(adapter(f)))

    return decorate


def _render(result: dict[str, Any], fmt: str) -> None:
    from cloudctl.cli.request import emit_outcome

    emit_outcome(result, fmt)


QUOTA_FIELDS = ("vcpus", "ram", "instances", "volumes", "gigabytes")


@click.command("quota")
@click.option("--vcpus", help="More vCPUs.")
@click.option("--ram", help="More RAM (MB).")
@click.option("--instances", help="More servers.")
@click.option("--volumes", help="More volumes.")
@click.option("--gigabytes", help="More volume GB.")
@_common("quota-increase", QUOTA_FIELDS)
def quota_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Ask for a quota increase (amounts are added to the current quotas on approval)."""
    _render(result, fmt)


@click.command("server")
@click.option("--flavor", required=True)
@click.option("--image", required=True)
@click.option("--count", default="1", show_default=True)
@click.option("--network", help="Network name or id (default: the department's network).")
@_common("server", ("flavor", "image", "count", "network"))
def server_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Ask for servers in the department's project."""
    _render(result, fmt)


@click.command("volume")
@click.option("--size", "size_gb", required=True, help="GB per volume.")
@click.option("--count", default="1", show_default=True)
@_common("volume", ("size_gb", "count"))
def volume_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Ask for volumes in the department's project."""
    _render(result, fmt)


COMMANDS = (quota_cmd, server_cmd, volume_cmd)
