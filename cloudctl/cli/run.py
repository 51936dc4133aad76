"""cloudctl run: a playbook through ansible-runner, live per-host progress, per-host summary.

Exit codes: 0 every host succeeded; 3 some hosts failed (the summary names them; rerun with
--limit to finish them); 1 nothing succeeded or the playbook did not run; 2 bad arguments.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from cloudctl.cli.context import AppContext
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs

if TYPE_CHECKING:
    from cloudctl.automation.results import HostResult, PlaybookResult

STATUS_STYLE = {"ok": "green", "changed": "yellow", "skipped": "cyan", "failed": "red", "unreachable": "red"}


@contextmanager
def host_progress(title: str) -> Iterator[Any]:
    """Yields a listener for RunTally: a live rich table per host on a terminal, plain lines otherwise."""
    if not sys.stderr.isatty():
        def plain(result: HostResult, what: str) -> None:
            if what in ("failed", "unreachable"):
                click.echo(f"{result.host}: {what}: {result.messages[-1] if result.messages else ''}", err=True)
            elif what == "done":
                click.echo(f"{result.host}: {result.status} (ok={result.ok} changed={result.changed} "
                           f"failed={result.failed} unreachable={result.unreachable})", err=True)

        yield plain
        return
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    hosts: dict[str, HostResult] = {}

    def render() -> Table:
        table = Table(title=title, show_edge=False, header_style="bold")
        for col in ("host", "status", "ok", "changed", "failed", "task"):
            table.add_column(col)
        for name in sorted(hosts):
            r = hosts[name]
            status = r.status if r.done or not r.succeeded else "running"
            style = STATUS_STYLE.get(status, "")
            table.add_row(name, f"[{style}]{status}[/]" if style else status, str(r.ok), str(r.changed),
                          str(r.failed + r.unreachable), r.current_task)
        return table

    with Live(render(), console=Console(stderr=True), refresh_per_second=8, transient=True) as live:
        def listener(result: HostResult, what: str) -> None:
            hosts[result.host] = result
            live.update(render())

        yield listener


def emit_playbook_result(result: PlaybookResult, fmt: str) -> None:
    if fmt == "json":
        emit_json(result.as_dict())
        return
    rows = [{"host": r.host, "status": r.status, "ok": r.ok, "changed": r.changed, "failed": r.failed,
             "unreachable": r.unreachable, "skipped": r.skipped, "message": "; ".join(r.messages)}
            for r in (result.hosts[h] for h in sorted(result.hosts))]
    emit_rows(rows, ["host", "status", "ok", "changed", "failed", "unreachable", "skipped", "message"], fmt,
              title=f"{result.playbook}: {result.outcome}")


def exit_for(result: PlaybookResult) -> None:
    """Turn a playbook outcome into the CLI's exit code (after the summary is printed)."""
    from cloudctl.errors import OperationFailed, PartialFailure

    if result.outcome == "success":
        return
    where = f" (artifacts: {result.artifacts_dir})" if result.artifacts_dir else ""
    if result.outcome == "partial":
        raise PartialFailure(f"{result.playbook}: {len(result.failed_hosts)} host(s) failed: "
                             f"{', '.join(result.failed_hosts)}{where}", failed=result.failed_hosts,
                             hint=f"fix them and rerun with --limit {','.join(result.failed_hosts)}")
    raise OperationFailed(f"{result.playbook} failed{': ' + result.error if result.error else ''}{where}")


def _run_inputs(params: dict[str, Any]) -> dict[str, Any]:
    from cloudctl.cli.inventory import parse_vars

    return {**{k: v for k, v in params.items() if k in ("playbook", "limit", "check", "inventory_path", "forks")},
            "extravars": parse_vars(params.get("extra_pairs") or [], "--extra-var")}


def _run_view(raw: dict[str, Any]) -> Any:
    from pathlib import Path

    return host_progress(f"{Path(raw['playbook']).name}{' (check)' if raw.get('check') else ''}")


@click.command()
@click.argument("playbook")
@click.option("--limit", "-l", help="Only these hosts or groups (Ansible pattern, e.g. province_11,gw1).")
@click.option("--check", is_flag=True, help="Dry run: report what would change, change nothing.")
@click.option("-i", "--inventory", "inventory_path", type=click.Path(exists=True),
              help="A static inventory instead of the store's dynamic one.")
@click.option("-e", "--extra-var", "extra_pairs", multiple=True, metavar="KEY=VALUE",
              help="Extra variable (YAML value); repeatable.")
@click.option("--forks", type=click.IntRange(1, 100), default=10, show_default=True, help="Hosts in parallel.")
@format_option()
@performs("cloudctl.automation.actions:RUN_PLAYBOOK", inputs=_run_inputs, progress=_run_view,
          consumes=("playbook", "limit", "check", "inventory_path", "extra_pairs", "forks"))
def run(app: AppContext, result: PlaybookResult, fmt: str) -> None:
    """Run PLAYBOOK (a path, or a name under playbooks/ such as `site`) on the inventory."""
    emit_playbook_result(result, fmt)
    exit_for(result)
