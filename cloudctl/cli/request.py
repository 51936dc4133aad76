"""cloudctl request: requests through the one parallel-approval engine (cloudctl.approvals)."""

from __future__ import annotations

from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option

LIST_COLUMNS = ["id", "kind", "title", "requester", "dept", "status", "deadline_at", "escalated", "apply_status"]


def _scope(dept: str | None, region: str | None):  # type: ignore[no-untyped-def]
    from cloudctl.power import Scope

    return Scope(dept=dept, region=region)


def _request_scope(app: AppContext, request_id: int):  # type: ignore[no-untyped-def]
    from cloudctl.approvals import show_request

    with app.store.connect() as conn:
        req = show_request(conn, request_id)
    return _scope(req["dept"], req["region"])


@click.group()
def request() -> None:
    """Requests through parallel approval: every reviewer group is asked at once."""


@request.command("create")
@click.option("--kind", required=True, help="What is asked for, e.g. quota-increase, server, volume.")
@click.option("--payload", required=True, help="The resource as a JSON object, or @FILE.")
@click.option("--policy", "policy_name", required=True, help="Approval policy name.")
@click.option("--title", help="One line for reviewers.")
@click.option("--dept", help="Department code the request is for.")
@click.option("--region", help="Division code the request is for.")
@format_option()
@pass_app
def create_cmd(app: AppContext, kind: str, payload: str, policy_name: str, title: str | None, dept: str | None,
               region: str | None, fmt: str) -> None:
    """File a request."""
    from cloudctl.approvals import create_request
    from cloudctl.power import authorized

    data = _payload(payload)
    with authorized(app.store, app.actor, "request.create", _scope(dept, region)) as conn:
        out = create_request(conn, app.actor, kind=kind, payload=data, policy=policy_name, title=title, dept=dept,
                             region=region)
    _emit_one(out, fmt)


@request.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected", "withdrawn"]))
@click.option("--mine", is_flag=True, help="Only requests I made.")
@click.option("--to-review", is_flag=True, help="Only pending requests waiting for my vote.")
@format_option()
@pass_app
def list_cmd(app: AppContext, status: str | None, mine: bool, to_review: bool, fmt: str) -> None:
    """List requests."""
    from cloudctl.approvals import list_requests

    me = app.actor.name
    with app.store.connect() as conn:
        rows = list_requests(conn, status=status, requester=me if mine else None, reviewer=me if to_review else None)
    emit_rows(rows, LIST_COLUMNS, fmt)


@request.command("show")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--history", is_flag=True, help="Also print every event, oldest first.")
@format_option()
@pass_app
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
    emit_rows(head, ["field", "value"], fmt)
    emit_rows(req["groups"], ["group", "rule", "approvals", "needed", "holds", "waiting_for"], fmt)
    emit_rows(req["votes"], ["reviewer", "decision", "reason", "at", "cast_by"], fmt)
    if history:
        emit_rows(events, ["id", "at", "actor", "kind", "data"], fmt)


def _load_appliers() -> None:
    """Register the resource appliers (quota-increase, server, volume) with the approval engine."""
    import cloudctl.cloud_ops.requests  # noqa: F401


def _vote(app: AppContext, request_id: int, decision: str, reason: str | None, fmt: str) -> None:
    from cloudctl.approvals import APPROVED, apply_request, cast_vote

    with authorized(app, f"request.{decision}", _request_scope(app, request_id)) as conn:
        out = cast_vote(conn, app.actor, request_id, decision, reason)
    if out.get("status") == APPROVED:  # this vote decided it: carry it out now (sweep retries a failure)
        _load_appliers()
        applied = apply_request(app.store, request_id, app.actor, retry=False)
        if applied is not None:
            out.update(apply_status=applied["apply_status"], apply_result=applied.get("result"))
    _emit_one(out, fmt)
    if out.get("apply_status") == "failed":  # the vote stands; the apply is retried by sweep or `request apply`
        click.echo(f"request {request_id} is approved, but applying it failed: "
                   f"{(out.get('apply_result') or {}).get('error')}; retry with `cloudctl request apply "
                   f"{request_id}`", err=True)


def authorized(app: AppContext, permission: str, scope: Any):  # type: ignore[no-untyped-def]
    from cloudctl.power import authorized as guard

    return guard(app.store, app.actor, permission, scope)


@request.command("approve")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--reason", help="Why (kept with the vote).")
@format_option()
@pass_app
def approve_cmd(app: AppContext, request_id: int, reason: str | None, fmt: str) -> None:
    """Vote to approve (for yourself and anyone who delegated to you)."""
    _vote(app, request_id, "approve", reason, fmt)


@request.command("reject")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why (the requester reads it).")
@format_option()
@pass_app
def reject_cmd(app: AppContext, request_id: int, reason: str, fmt: str) -> None:
    """Vote to reject: one rejection rejects the request."""
    _vote(app, request_id, "reject", reason, fmt)


@request.command("withdraw")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--reason", help="Why.")
@format_option()
@pass_app
def withdraw_cmd(app: AppContext, request_id: int, reason: str | None, fmt: str) -> None:
    """Withdraw your own pending request."""
    from cloudctl.approvals import withdraw

    with authorized(app, "request.withdraw", _request_scope(app, request_id)) as conn:
        out = withdraw(conn, app.actor, request_id, reason)
    _emit_one(out, fmt)


@request.command("sweep")
@click.option("--now", "now_text", metavar="TIME", help="Pretend it is TIME (ISO 8601; for testing policies).")
@format_option()
@pass_app
def sweep_cmd(app: AppContext, now_text: str | None, fmt: str) -> None:
    """Escalate overdue requests and apply approved ones (idempotent; safe to run from cron)."""
    from cloudctl.approvals import apply_approved, sweep
    from cloudctl.approvals.requests import parse_time

    now = parse_time(now_text, "--now") if now_text else None
    _load_appliers()
    with authorized(app, "request.sweep", None) as conn:
        out = sweep(conn, app.actor, now)
    out["applied"] = apply_approved(app.store, app.actor)
    if fmt == "json":
        emit_json(out)
    else:
        click.echo(f"escalated: {out['escalated'] or 'none'}; overdue without escalation group: "
                   f"{out['overdue_without_escalation_group'] or 'none'}; applied: "
                   f"{[a['id'] for a in out['applied']] or 'none'}")


@request.command("apply")
@click.argument("request_id", metavar="ID", type=int)
@format_option()
@pass_app
def apply_cmd(app: AppContext, request_id: int, fmt: str) -> None:
    """Apply an approved request now (or retry a failed apply)."""
    from cloudctl.approvals import apply_request
    from cloudctl.errors import OperationFailed
    from cloudctl.power import authorize

    authorize(app.store, app.actor, "request.apply", _request_scope(app, request_id))
    _load_appliers()
    out = apply_request(app.store, request_id, app.actor)
    if out is None:
        raise OperationFailed(f"request {request_id} has nothing to apply (already applied, or no applier "
                              "for its kind)")
    _emit_one(out, fmt)
    if out["apply_status"] != "ok":
        raise SystemExit(1)


@request.group("policy")
def policy() -> None:
    """Approval policies (reviewer groups, rules, deadline, escalation)."""


@policy.command("set")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@format_option()
@pass_app
def policy_set(app: AppContext, path: str, fmt: str) -> None:
    """Add or replace the policy in a YAML or JSON file."""
    import yaml

    from cloudctl.approvals import set_policy
    from cloudctl.errors import InputError

    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"not valid YAML/JSON: {getattr(e, 'problem', e)}", file=path,
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from e
    with authorized(app, "request.policy.set", None) as conn:
        pol = set_policy(conn, raw, app.actor, path)
    _emit_one(pol.as_dict(), fmt)


@policy.command("list")
@format_option()
@pass_app
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
@pass_app
def delegate_cmd(app: AppContext, to: str, until: str, start: str | None, fmt: str) -> None:
    """Hand your votes to another operator for a period."""
    from datetime import UTC, datetime

    from cloudctl.approvals import delegate_votes
    from cloudctl.approvals.requests import parse_time

    starts = parse_time(start, "--from") if start else datetime.now(UTC)
    with authorized(app, "request.delegate", None) as conn:
        out = delegate_votes(conn, app.actor, to, starts, parse_time(until, "--until"))
    _emit_one(out, fmt)


@request.command("delegations")
@click.option("--all", "show_all", is_flag=True, help="Everyone's, not only mine.")
@format_option()
@pass_app
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


def _payload(text: str) -> dict[str, Any]:
    import json

    from cloudctl.errors import InputError

    source = None
    if text.startswith("@"):
        source = text[1:]
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise InputError(f"cannot read payload: {e}", file=source) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"payload is not JSON: {e.msg}", file=source, line=e.lineno, column=e.colno,
                         field=None if source else "--payload") from e
    if not isinstance(data, dict):
        raise InputError("the payload must be a JSON object", file=source, field="--payload")
    return data


def _add_resource_commands() -> None:
    from cloudctl.cli.request_resources import COMMANDS

    for cmd in COMMANDS:
        request.add_command(cmd)


_add_resource_commands()
