"""cloudctl request: requests through the one parallel-approval engine (cloudctl.approvals).

The mutating commands are adapters over cloudctl/approvals/actions.py (the API runs the same
actions): this module parses options and renders results.
"""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.params import JSON_OBJECT, ROW_ID
from cloudctl.cli.perform import performs, read_only, yes_option


def cloud_option(f):  # type: ignore[no-untyped-def]
    from cloudctl.cli.cloud import cloud_option as option

    return option(f)

LIST_COLUMNS = ["id", "kind", "title", "requester", "dept", "status", "deadline_at", "escalated", "apply_status"]


@click.group()
def request() -> None:
    """Requests through parallel approval: every reviewer group is asked at once."""


@request.command("create")
@click.option("--kind", required=True, help="What is asked for: quota-increase, server or volume.")
@click.option("--payload", required=True, type=JSON_OBJECT, help="The resource as a JSON object, or @FILE.")
@click.option("--policy", "policy_name", required=True, help="Approval policy name.")
@click.option("--title", help="One line for reviewers.")
@click.option("--dept", help="Department code the request is for.")
@click.option("--region", help="Division code the request is for.")
@cloud_option
@format_option()
@performs("cloudctl.approvals.actions:CREATE_REQUEST")
def create_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """File a request (applied at once when the policy's size tier approves it)."""
    emit_outcome(result, fmt)


@request.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected", "withdrawn"]))
@click.option("--mine", is_flag=True, help="Only requests I made.")
@click.option("--to-review", is_flag=True, help="Only pending requests waiting for my vote.")
@format_option()
@pass_app
@read_only
def list_cmd(app: AppContext, status: str | None, mine: bool, to_review: bool, fmt: str) -> None:
    """List requests."""
    from cloudctl.approvals import list_requests

    me = app.actor.name
    with app.store.connect() as conn:
        rows = list_requests(conn, status=status, requester=me if mine else None, reviewer=me if to_review else None)
    emit_rows(rows, LIST_COLUMNS, fmt)


@request.command("show")
@click.argument("request_id", metavar="ID", type=ROW_ID)
@click.option("--history", is_flag=True, help="Also print every event, oldest first.")
@format_option()
@pass_app
@read_only
def show_cmd(app: AppContext, request_id: int, history: bool, fmt: str) -> None:
    """One request: payload, each group's state, votes (and the history)."""
    from cloudctl.approvals import events_of, replay, show_request

    with app.store.connect() as conn:
        req = show_request(conn, request_id)
        events = events_of(conn, request_id) if history else []
    if history:
        req["history"] = events
        req["replayed_status"] = replay(events).status
    if fmt == "json":
        emit_json(req)
        return
    head = [{"field": k, "value": req[k]} for k in ("id", "kind", "title", "requester", "dept", "region", "status",
                                                     "decision_reason", "created_at", "deadline_at", "escalated_at",
                                                     "decided_at", "apply_status")]
    head.append({"field": "payload", "value": req["payload"]})
    if history:
        head.append({"field": "replayed_status", "value": req["replayed_status"]})
    emit_rows(head, ["field", "value"], fmt)
    emit_rows(req["groups"], ["group", "rule", "approvals", "needed", "holds", "waiting_for"], fmt)
    emit_rows(req["votes"], ["reviewer", "decision", "reason", "at", "cast_by"], fmt)
    if history:
        emit_rows(events, ["id", "at", "actor", "kind", "data"], fmt)


@request.command("approve")
@click.argument("request_id", metavar="ID")
@click.option("--reason", help="Why (kept with the vote).")
@cloud_option
@format_option()
@performs("cloudctl.approvals.actions:APPROVE")
def approve_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Vote to approve (for yourself and anyone who delegated to you); the deciding vote applies it."""
    emit_outcome(result, fmt)


@request.command("reject")
@click.argument("request_id", metavar="ID")
@click.option("--reason", required=True, help="Why (the requester reads it).")
@format_option()
@performs("cloudctl.approvals.actions:REJECT")
def reject_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Vote to reject: one rejection rejects the request."""
    emit_outcome(result, fmt)


@request.command("withdraw")
@click.argument("request_id", metavar="ID")
@click.option("--reason", help="Why.")
@yes_option
@format_option()
@performs("cloudctl.approvals.actions:WITHDRAW")
def withdraw_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Withdraw your own pending request."""
    emit_outcome(result, fmt)


@request.command("sweep")
@click.option("--now", "now", metavar="TIME", help="Pretend it is TIME (ISO 8601; for testing policies).")
@cloud_option
@format_option()
@performs("cloudctl.approvals.actions:SWEEP")
def sweep_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Escalate overdue requests and apply approved ones (idempotent; safe to run from cron).

    Exit 3 when an apply failed (each failure is named on stderr; `request apply ID` retries it)."""
    from cloudctl.errors import PartialFailure

    if fmt == "json":
        emit_json(result)
    else:
        ok = [a["id"] for a in result["applied"] if a["apply_status"] == "ok"]
        click.echo(f"escalated: {result['escalated'] or 'none'}; overdue without escalation group: "
                   f"{result['overdue_without_escalation_group'] or 'none'}; applied: {ok or 'none'}; "
                   f"failed: {[a['id'] for a in result['failed']] or 'none'}")
    if result["failed"]:
        for a in result["failed"]:
            click.echo(f"request {a['id']}: apply failed: {(a.get('result') or {}).get('error')}", err=True)
        raise PartialFailure(f"{len(result['failed'])} of {len(result['applied'])} approved requests failed to "
                             "apply", failed=[str(a["id"]) for a in result["failed"]],
                             hint="cloudctl request apply ID retries one")


@request.command("apply")
@click.argument("request_id", metavar="ID")
@cloud_option
@format_option()
@performs("cloudctl.approvals.actions:APPLY")
def apply_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Apply an approved request now (or retry a failed apply); exit 1 when the apply fails."""
    from cloudctl.errors import OperationFailed

    _emit_one(result, fmt)
    if result["apply_status"] != "ok":
        raise OperationFailed(f"applying request {result['id']} failed: {(result.get('result') or {}).get('error')}")


@request.group("policy")
def policy() -> None:
    """Approval policies (reviewer groups, rules, deadline, escalation)."""


def _policy_file(params: dict[str, Any]) -> dict[str, Any]:
    from cloudctl.inputs.documents import load_document

    return {"document": load_document(params["path"], what="approval policy"), "source": params["path"]}


@policy.command("set")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@format_option()
@performs("cloudctl.approvals.actions:SET_POLICY", inputs=_policy_file, consumes=("path",))
def policy_set(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Add or replace the policy in a YAML or JSON file."""
    _emit_one(result, fmt)


@policy.command("list")
@format_option()
@pass_app
@read_only
def policy_list(app: AppContext, fmt: str) -> None:
    """Every policy."""
    from cloudctl.approvals import list_policies

    with app.store.connect() as conn:
        pols = [p.as_dict() for p in list_policies(conn)]
    rows = [{"name": p["name"], "deadline": p["deadline"],
             "groups": "; ".join(f"{g['name']} {g['rule']} of {len(g['members'])}" for g in p["groups"]),
             "escalation": p.get("escalation", {}).get("name"), "auto_approve": p.get("auto_approve")} for p in pols]
    emit_rows(rows, ["name", "deadline", "groups", "escalation", "auto_approve"], fmt, json_data=pols)


@request.command("delegate")
@click.option("--to", "to", required=True, help="Who votes for you.")
@click.option("--until", "until", required=True, help="End (ISO 8601 date or time, exclusive).")
@click.option("--from", "start", help="Start (default: now).")
@format_option()
@performs("cloudctl.approvals.actions:DELEGATE")
def delegate_cmd(app: AppContext, result: dict[str, Any], fmt: str) -> None:
    """Hand your votes to another operator for a period."""
    _emit_one(result, fmt)


@request.command("delegations")
@click.option("--all", "show_all", is_flag=True, help="Everyone's, not only mine.")
@format_option()
@pass_app
@read_only
def delegations_cmd(app: AppContext, show_all: bool, fmt: str) -> None:
    """Delegations to or from me (or everyone's)."""
    from cloudctl.approvals import list_delegations

    with app.store.connect() as conn:
        rows = list_delegations(conn, None if show_all else app.actor.name)
    emit_rows(rows, ["id", "delegator", "delegate", "starts_at", "ends_at", "created_at"], fmt)


def _emit_one(data: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        emit_json(data)
    else:
        emit_rows([{"field": k, "value": v} for k, v in data.items()], ["field", "value"], fmt)


def emit_outcome(out: dict[str, Any], fmt: str) -> None:
    """A request's new state. When the vote or the filing stands but the apply it triggered failed, the
    command is partly done (exit 3; `request apply ID` finishes it)."""
    from cloudctl.errors import PartialFailure

    _emit_one(out, fmt)
    if out.get("apply_status") == "failed":
        raise PartialFailure(f"request {out['id']} is approved, but applying it failed: "
                             f"{(out.get('apply_result') or {}).get('error')}", failed=[str(out["id"])],
                             hint=f"retry with `cloudctl request apply {out['id']}`")


def _add_resource_commands() -> None:
    from cloudctl.cli.request_resources import COMMANDS

    for cmd in COMMANDS:
        request.add_command(cmd)


_add_resource_commands()
