"""Root command. Subcommand groups load lazily so `cloudctl --help` imports only click.

Every error is turned into an exit code here, in one place (docs/architecture.md).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from cloudctl.cli.context import AppContext

# cloudctl's numpy work (bincount, searchsorted, sorts) never calls BLAS, yet OpenBLAS starts a
# thread per core as numpy is imported: tens of milliseconds of CPU for every command that
# imports numpy, and on a small machine those threads compete with the command itself. Set
# before anything imports numpy; a value the user set wins (benchmarks/rollup_cli.py, docs).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# name -> "module:attribute"; one module per group. Keep the help texts here so that
# `cloudctl --help` lists them without importing any group module.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("cloudctl.cli.init_cmd:init", "Create or upgrade the store and load shipped divisions."),
    "settings": ("cloudctl.cli.settings:settings", "Store-wide settings (the time zone of 'today')."),
    "demo": ("cloudctl.cli.demo:demo", "Load divisions, generate a link history, write a report."),
    "audit": ("cloudctl.cli.audit:audit", "The hash-chained audit log: list, sign checkpoints, verify."),
    "divisions": ("cloudctl.cli.divisions:divisions", "The five-level division registry."),
    "links": ("cloudctl.cli.links:links", "Extranet links of division government nodes."),
    "coverage": ("cloudctl.cli.coverage:coverage", "Extranet coverage, targets, plans, reports."),
    # shared cloud (departments, address plan, plan/apply, pool, quotas)
    "dept": ("cloudctl.cli.dept:dept", "Departments on the shared cloud: create, onboard, retire."),
    "ipam": ("cloudctl.cli.ipam:ipam", "The address plan: pools and prefix allocations."),
    "cloud": ("cloudctl.cli.cloud:cloud", "Plan and apply: make OpenStack match the store."),
    "pool": ("cloudctl.cli.pool:pool", "The shared pool: capacity, quotas, usage, headroom."),
    "quota": ("cloudctl.cli.quota:quota", "Department quotas against the pool and usage."),
    # approvals, power list, showback, idle reclaim
    "request": ("cloudctl.cli.request:request", "Resource requests through parallel approval."),
    "power": ("cloudctl.cli.power:power", "The published power list (every permission)."),
    "role": ("cloudctl.cli.role:role", "Roles: allow-lists of permissions, granted to operators."),
    "usage": ("cloudctl.cli.usage:usage", "Showback: allocated against used, per department."),
    "idle": ("cloudctl.cli.idle:idle", "Idle resources: scan, warn, reclaim."),
    # isolation gateways and automation
    "gateway": ("cloudctl.cli.gateway:gateway", "Isolation gateways: check, analyse, compile, deploy."),
    "share": ("cloudctl.cli.share:share", "Data sharing between departments: catalogue, requests, flows."),
    "inventory": ("cloudctl.cli.inventory:inventory", "Ansible dynamic inventory from the store."),
    "run": ("cloudctl.cli.run:run", "Run a playbook with ansible-runner, per-host summary."),
    # agents, API, monitoring
    "serve": ("cloudctl.cli.serve:serve", "The central HTTP API for agents and approvers."),
    "agent": ("cloudctl.cli.agent:agent", "Probe agents: enrol, run."),
    "monitoring": ("cloudctl.cli.monitoring:monitoring", "Prometheus file_sd targets and checks."),
}


def _available(name: str) -> bool:
    """A group is listed only once its module exists (capabilities land one by one)."""
    from importlib.util import find_spec

    return find_spec(COMMANDS[name][0].split(":")[0]) is not None


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module_name, attr = COMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                               "auto_envvar_prefix": "CLOUDCTL"})
@click.option("--db", "db", metavar="URL", help="Store URL (default: SQLite in the user data dir). Env: CLOUDCTL_DB.")
@click.option("--as", "actor", metavar="NAME", help="Operator identity for the audit log. Env: CLOUDCTL_AS.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="cloudctl")
@click.pass_context
def cli(ctx: click.Context, db: str | None, actor: str | None, debug: bool) -> None:
    """cloudctl: the government shared cloud, extranet coverage and isolation gateways."""
    ctx.obj = AppContext(db_flag=db, actor_flag=actor, debug=debug, argv=sys.argv[1:])
    from cloudctl.config import timezone_override

    zone = timezone_override()
    if zone:  # commands that never open a store still use the one zone
        from cloudctl.clock import configure, zone_named

        configure(zone_named(zone, "CLOUDCTL_TZ"))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map errors to exit codes.

    Called without argv it is the process itself (the console script, `python -m cloudctl`):
    once the command is done, the objects alive are frozen (gc.freeze) so that the interpreter's
    final collection does not walk them all again on the way out; atexit handlers and module
    teardown still run. With numpy loaded that saves tens of milliseconds per command. Tests that
    call main(argv) in-process keep their collector as it was."""
    from cloudctl.cli.context import handle_errors

    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(os.environ.get("CLOUDCTL_DEBUG"))
    try:
        with handle_errors(debug):
            cli.main(args=argv, prog_name="cloudctl", standalone_mode=False)
    finally:
        if argv is None:
            import gc

            gc.freeze()
