"""cloudctl inventory: the Ansible dynamic inventory from the store, and the managed hosts in it.

`cloudctl inventory --list` and `--host H` follow Ansible's inventory-script protocol, so
`inventories/cloudctl-dynamic` (which runs them) works with `ansible-playbook -i`.
"""

from __future__ import annotations

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, format_option
from cloudctl.cli.perform import performs, read_only, yes_option


@click.group(invoke_without_command=True)
@click.option("--list", "list_all", is_flag=True, help="Print the whole inventory as Ansible JSON.")
@click.option("--host", "host_name", metavar="HOST", help="Print one host's variables as JSON.")
@pass_app
@click.pass_context
@read_only
def inventory(ctx: click.Context, app: AppContext, list_all: bool, host_name: str | None) -> None:
    """Ansible dynamic inventory built from the store (groups: gateways, agents, province_XX,
    prefecture_XXXX, county_XXXXXX)."""
    if ctx.invoked_subcommand is not None:
        return
    if list_all == (host_name is not None):
        raise click.UsageError("give exactly one of --list or --host HOST (or a subcommand)")
    from cloudctl.automation.inventory import inventory_from_store

    with app.store.connect() as conn:
        data = inventory_from_store(conn, None if list_all else [host_name or ""])
    emit_json(data if list_all else data["_meta"]["hostvars"].get(host_name, {}))


def parse_vars(pairs: tuple[str, ...] | list[str], field: str = "--var") -> dict[str, object]:
    """KEY=VALUE pairs, each VALUE read as YAML (through the one document loader)."""
    from cloudctl.errors import InputError
    from cloudctl.inputs.documents import parse_document

    result: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{pair[:60]!r} is not KEY=VALUE", field=field)
        try:
            result[key.strip()] = parse_document(value).data if value else ""
        except InputError as e:
            raise InputError(f"{key.strip()}: {e.message}", field=field, hint=e.hint) from None
    return result


def _host_inputs(params: dict[str, object]) -> dict[str, object]:
    return {**{k: v for k, v in params.items() if k not in ("var_pairs", "fmt")},
            "vars": parse_vars(params.get("var_pairs") or [])}  # type: ignore[arg-type]


@inventory.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["gateway", "agent"]), required=True, help="What the host is.")
@click.option("--address", required=True, help="Management address Ansible connects to (IP or DNS name).")
@click.option("--port", default="22", show_default=True, help="SSH port.")
@click.option("--user", "ssh_user", default="root", show_default=True, help="SSH user.")
@click.option("--division", "division_code", help="Division code of the host's location (2-12 digits).")
@click.option("--var", "var_pairs", multiple=True, metavar="KEY=VALUE",
              help="Extra Ansible host variable (YAML value); repeatable.")
@performs("cloudctl.automation.actions:ADD_HOST", inputs=_host_inputs,
          consumes=("name", "role", "address", "port", "ssh_user", "division_code", "var_pairs"))
def add_cmd(app: AppContext, result: dict[str, str]) -> None:
    """Register (or update) a managed host."""
    click.echo(f"host {result['host']}: {result['outcome']}", err=True)


@inventory.command("remove")
@click.argument("name")
@yes_option
@performs("cloudctl.automation.actions:REMOVE_HOST")
def remove_cmd(app: AppContext, result: dict[str, str]) -> None:
    """Forget a managed host."""
    click.echo(f"host {result['host']}: removed", err=True)


@inventory.command("hosts")
@click.option("--role", type=click.Choice(["gateway", "agent"]), help="Only hosts with this role.")
@format_option()
@pass_app
@read_only
def hosts_cmd(app: AppContext, role: str | None, fmt: str) -> None:
    """List managed hosts with their groups."""
    from cloudctl.automation.inventory import division_groups, load_hosts

    with app.store.connect() as conn:
        hosts = [h for h in load_hosts(conn) if role is None or h.role == role]
    rows = [{"name": h.name, "role": h.role, "address": h.address, "port": h.port, "user": h.ssh_user,
             "division": h.division_code or "", "division_name": h.division_name or "",
             "groups": " ".join(division_groups(h.division_code)), "vars": dict(h.vars)} for h in hosts]
    emit_rows(rows, ["name", "role", "address", "port", "user", "division", "division_name", "groups"], fmt)
