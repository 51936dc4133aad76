"""`cloudctl gateway`: check, analyze, query, diff, compile, import isolation-gateway policies.

Thin shell over cloudctl.gateway (pure). Policies are files (FILE) or gateways imported into
the store (NAME: approved publications only); the deploy commands
(deploy/confirm/verify) come from cloudctl.cli.gateway_deploy when it is installed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import OUTPUT_FILE, emit_json, emit_rows, format_option
from cloudctl.cli.params import ISO_DATE
from cloudctl.cli.perform import performs, read_only


def _at(value: dt.date | None) -> dt.date:
    from cloudctl import clock

    return value or clock.today()


def _load(source: str, *, validate: bool = True) -> Any:
    """FILE, or the NAME of a gateway policy imported into the store (approved publications only)."""
    import os

    from cloudctl.gateway.policy import load_policy

    looks_like_name = os.sep not in source and not source.endswith((".yaml", ".yml", ".json"))
    if not os.path.exists(source) and looks_like_name:
        from cloudctl.gateway.stored import load_stored_policy

        return load_stored_policy(click.get_current_context().find_object(AppContext).store, source)
    return load_policy(source, validate=validate)


def _semantics(source: str) -> Any:
    from cloudctl.gateway.semantics import build_semantics

    return build_semantics(_load(source))


at_option = click.option("--at", "at", type=ISO_DATE, metavar="YYYY-MM-DD",
                         help="Evaluate on this date (publications expire). Default: today in the configured zone.")


@click.group()
def gateway() -> None:
    """Isolation gateways: check, analyse, query, diff and compile policies to nftables."""
    import gc

    gc.disable()  # one short command over ~10^5 acyclic objects: collections would only re-walk them


@gateway.command()
@click.argument("source", metavar="FILE")
@format_option()
@read_only
def check(source: str, fmt: str) -> None:
    """Validate a policy file: addresses, zones, ports, references, names, interfaces."""
    from cloudctl.errors import InputError
    from cloudctl.gateway.check import check_policy

    policy = _load(source, validate=False)
    problems = [p.to_error(policy) for p in check_policy(policy)]
    if problems:
        if fmt == "json":
            emit_json({"ok": False, "problems": [
                {"file": e.file, "line": e.line, "column": e.column, "field": e.field, "message": e.message,
                 "hint": e.hint} for e in problems]})
        for e in problems:
            click.echo(e.render(), err=True)
        raise InputError(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in the policy", file=source)
    counts = {"interfaces": len(policy.gateway.interfaces), "zones": len(policy.zones),
              "portals": len(policy.portals), "services": len(policy.services),
              "publications": len(policy.publications), "departments": len(policy.departments)}
    if fmt == "json":
        emit_json({"ok": True, "gateway": policy.gateway.name, **counts})
    else:
        emit_rows([{"gateway": policy.gateway.name, **counts}], ["gateway", *counts], fmt,
                  title="policy is valid")


@gateway.command()
@click.argument("source", metavar="FILE")
@at_option
@click.option("--expiring-days", default=30, show_default=True, type=click.IntRange(0),
              help="Report publications expiring within this many days.")
@click.option("--strict", is_flag=True, help="Exit 1 if any publication is shadowed, redundant or in conflict.")
@format_option()
@read_only
def analyze(source: str, at: dt.datetime | None, expiring_days: int, strict: bool, fmt: str) -> None:
    """Shadowed, redundant and conflicting publications, duplicate data shares, expiry, and the isolation matrix."""
    from cloudctl.errors import OperationFailed
    from cloudctl.gateway.analyze import analyze_policy
    from cloudctl.gateway.semantics import build_semantics

    policy = _load(source)
    result = analyze_policy(build_semantics(policy), _at(at), expiring_days)
    for dropped in policy.dropped_shares:  # stored shares the current policy cannot place: they open nothing
        click.echo(f"warning: left out: {dropped}", err=True)
    rows = [{"publication": f.publication, "finding": f.kind, "detail": f.detail, "related": ", ".join(f.related)}
            for f in result.findings]
    if fmt == "json":
        emit_json({"at": result.at.isoformat(), "findings": [dict(r, related=f.related, rule=f.rule)
                                                             for r, f in zip(rows, result.findings, strict=True)],
                   "isolation_matrix": result.matrix, "dropped_shares": policy.dropped_shares})
    else:
        columns = ["publication", "finding", "detail", "related"]
        if any(f.rule == "share" for f in result.findings):  # name the kind of rule beside the name
            rows = [{"rule": f.rule, **r} for r, f in zip(rows, result.findings, strict=True)]
            columns = ["rule", *columns]
        emit_rows(rows, columns, fmt, title=f"findings on {result.at}")
        if fmt == "table":
            matrix_rows = [{"from \\ to": z, **result.matrix[z]} for z in result.zones]
            emit_rows(matrix_rows, ["from \\ to", *result.zones], fmt, title="isolation matrix (new connections)")
    bad = [f for f in result.findings if f.kind in ("shadowed", "redundant", "conflict")]
    if strict and bad:
        raise OperationFailed(f"{len(bad)} shadowed, redundant or conflicting publication findings")


@gateway.command()
@click.argument("source", metavar="FILE")
@click.option("--src", required=True, metavar="IP", help="Source address of the new connection.")
@click.option("--dst", required=True, metavar="IP", help="Destination address.")
@click.option("--proto", default="tcp", show_default=True, type=click.Choice(["tcp", "udp"]))
@click.option("--port", required=True, type=int, help="Destination port.")
@at_option
@format_option()
@read_only
def query(source: str, src: str, dst: str, proto: str, port: int, at: dt.datetime | None, fmt: str) -> None:
    """Would the gateway allow this connection, and which publication, data share or rule decides."""
    from cloudctl.gateway.query import query_flow

    decision = query_flow(_semantics(source), src, dst, proto, port, _at(at))
    row = decision.as_dict()
    if fmt == "table":
        emit_rows([{"field": k, "value": v} for k, v in row.items()], ["field", "value"], fmt,
                  title=f"{src} -> {dst} {proto}/{port}: {decision.verdict}")
    else:
        emit_rows([row], list(row), fmt, json_data=row)


@gateway.command()
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@at_option
@click.option("--old-at", type=ISO_DATE, metavar="YYYY-MM-DD",
              help="Evaluate OLD on this date instead (e.g. a stored gateway against itself: what expiry closes).")
@format_option()
@read_only
def diff(old: str, new: str, at: dt.date | None, old_at: dt.date | None, fmt: str) -> None:
    """Flows whose verdict changes from OLD to NEW, per publication, data share and department egress."""
    from cloudctl.gateway.diff import diff_policies

    changes = diff_policies(_semantics(old), _semantics(new), _at(at), old_at=old_at)
    rows = [{"kind": c.kind, "name": c.name, "change": c.change, "flows": c.flows,
             "examples": "; ".join(c.examples)} for c in changes]
    json_rows = [dict(r, examples=c.examples) for r, c in zip(rows, changes, strict=True)]
    emit_rows(rows, ["kind", "name", "change", "flows", "examples"], fmt, json_data=json_rows)


@gateway.command(name="compile")
@click.argument("source", metavar="FILE")
@click.option("-o", "--output", type=OUTPUT_FILE, help="Write the ruleset here (default: stdout).")
@at_option
@read_only
def compile_cmd(source: str, output: Path | None, at: dt.date | None) -> None:
    """The nftables ruleset (one `nft -f` file replacing table inet cloudctl_gw atomically)."""
    from cloudctl.gateway.compile import compile_ruleset

    text = compile_ruleset(_load(source), _at(at))
    if output is None:
        click.echo(text, nl=False)
        return
    from cloudctl.inputs.paths import write_text_atomic

    write_text_atomic(output, text)
    click.echo(f"wrote {output}", err=True)


@gateway.command(name="import")
@click.argument("source", metavar="FILE")
@click.option("--approval-policy", default="gateway", show_default=True,
              help="Approval policy for the publication requests (see `cloudctl request`).")
@format_option()
@performs("cloudctl.gateway.actions:IMPORT_POLICY")
def import_cmd(app: AppContext, result: Any, fmt: str) -> None:
    """Store a policy; each new or changed publication goes through parallel approval."""
    rows = ([{"publication": r["name"], "change": "requested", "request": r["request_id"], "status": r["status"]}
             for r in result.requested]
            + [{"publication": n, "change": "unchanged", "request": None, "status": None} for n in result.unchanged]
            + [{"publication": n, "change": "withdrawn", "request": None, "status": None} for n in result.withdrawn])
    emit_rows(rows, ["publication", "change", "request", "status"], fmt, title=f"gateway {result.gateway}")


@gateway.command()
@click.argument("name", metavar="NAME")
@format_option()
@pass_app
@read_only
def publications(app: AppContext, name: str, fmt: str) -> None:
    """A stored gateway's publications and their approval status (only approved ones take effect)."""
    from cloudctl.gateway.stored import list_publications

    rows = list_publications(app.store, name)
    table = [{k: r[k] for k in ("position", "name", "request_id", "status")} for r in rows]
    emit_rows(table, ["position", "name", "request_id", "status"], fmt, json_data=rows)


# Deploy, confirm and verify live in their own module (another capability); add them if present.
def _add_deploy_commands() -> None:
    import importlib
    from importlib.util import find_spec

    if find_spec("cloudctl.cli.gateway_deploy") is None:
        return
    module = importlib.import_module("cloudctl.cli.gateway_deploy")
    if hasattr(module, "register"):
        module.register(gateway)
        return
    for command in vars(module).values():
        if isinstance(command, click.Command) and command.name not in gateway.commands:
            gateway.add_command(command)


_add_deploy_commands()
