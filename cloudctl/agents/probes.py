"""What the agents probe, on the power list: one probe per (division, name), validated and audited.

A probe belongs to a division (the agents of that division run it) and to one of the division's
links (its result is that link's up/down); its target parses for its kind:
- tcp:  HOST:PORT (an IP literal or a DNS name, port 1-65535; [v6]:port for IPv6)
- http: an http:// or https:// URL; `expect_status` is the status that counts as up
- icmp: HOST
`count` packets or attempts per round (1-100), `timeout` seconds each (0.1-60).

Pure checks here (`Probe`, `check_target`); store functions below take a connection inside the
caller's transaction and write the audit record there.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import Connection, delete, insert, select

from cloudctl.audit import Actor, record_change
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.fields import DivisionCode, ShortName
from cloudctl.store.tables.agents import agent_probe
from cloudctl.store.tables.coverage import link

DNS_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                      r"[A-Za-z0-9])?)*$")
COLUMNS = ("division", "name", "kind", "target", "link", "count", "timeout", "expect_status")


def _host_problem(host: str) -> str | None:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    if host.replace(".", "").isdigit():
        return f"{host!r} is neither an IP address nor a host name"
    return None if DNS_NAME.match(host) else f"{host!r} is not an IP address or a DNS name"


def check_target(kind: str, target: str) -> str | None:
    """Why TARGET is not a target of a KIND probe, or None."""
    if kind == "icmp":
        return _host_problem(target)
    if kind == "tcp":
        host, sep, port = target.rpartition(":")
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            return f"{target!r} is not HOST:PORT (port 1-65535)"
        if ":" in host and not host.startswith("["):
            return f"write an IPv6 address in brackets: [{host}]:{port}"
        return _host_problem(host)
    if kind == "http":
        from urllib.parse import urlsplit

        try:
            url = urlsplit(target)
            url.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as e:
            return f"{target!r} is not a URL: {e}"
        if url.scheme not in ("http", "https") or not url.hostname:
            return f"{target!r} is not an http:// or https:// URL"
        return _host_problem(url.hostname)
    return f"unknown probe kind {kind!r}"


class Probe(BaseModel):
    """One probe as an operator declares it (CLI options, an import row, an API body)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    division: DivisionCode
    name: ShortName
    kind: Literal["tcp", "http", "icmp"]
    target: str = Field(min_length=1, max_length=2048)
    link: str = Field(min_length=1, max_length=64, description="the link whose state the probe reports")
    count: int = Field(3, ge=1, le=100)
    timeout: float = Field(2.0, ge=0.1, le=60, allow_inf_nan=False)
    expect_status: int | None = Field(None, ge=100, le=599, description="http only (default 200)")

    @field_validator("target")
    @classmethod
    def _target_fits_kind(cls, target: str, info: ValidationInfo) -> str:
        from cloudctl.values import control_character

        if control_character(target) is not None or " " in target:
            raise ValueError("the target is one word without spaces or control characters")
        problem = check_target(info.data["kind"], target) if "kind" in info.data else None
        if problem:
            raise ValueError(problem)
        return target

    @field_validator("expect_status")
    @classmethod
    def _http_only(cls, status: int | None, info: ValidationInfo) -> int | None:
        if status is not None and info.data.get("kind") != "http":
            raise ValueError("expect_status is for http probes only")
        return status

    def row(self) -> dict[str, Any]:
        return {"division_code": self.division, "name": self.name, "kind": self.kind, "target": self.target,
                "link_id": self.link, "count": self.count, "timeout_s": self.timeout,
                "expect_status": self.expect_status if self.expect_status is not None else 200}


def as_dict(row: Any) -> dict[str, Any]:
    return {"division": row.division_code, "name": row.name, "kind": row.kind, "target": row.target,
            "link": row.link_id, "count": row.count, "timeout": row.timeout_s,
            "expect_status": row.expect_status if row.kind == "http" else None}


# ---- store --------------------------------------------------------------------------------

def check_links(conn: Connection, probes: list[Probe], where: list[str] | None = None) -> None:
    """Every probe's link must be a link of the probe's own division (NotFoundError naming the first)."""
    wanted = sorted({p.link for p in probes})
    owner = dict(conn.execute(select(link.c.link_id, link.c.division_code).where(link.c.link_id.in_(wanted))).all())
    for i, p in enumerate(probes):
        if owner.get(p.link) == p.division:
            continue
        loc = f"{where[i]}: " if where else ""
        if p.link not in owner:
            message = f"{loc}no link {p.link!r}"
        else:
            message = f"{loc}link {p.link!r} belongs to division {owner[p.link]}, not {p.division}"
        raise NotFoundError(message, field="link", hint=f"cloudctl links list --division {p.division}")


def list_probes(conn: Connection, division: str | None = None) -> list[dict[str, Any]]:
    q = select(agent_probe).order_by(agent_probe.c.division_code, agent_probe.c.name)
    if division:
        q = q.where(agent_probe.c.division_code == division)
    return [as_dict(r) for r in conn.execute(q)]


def find_probe(conn: Connection, division: str, name: str) -> Any:
    return conn.execute(select(agent_probe).where((agent_probe.c.division_code == division)
                                                  & (agent_probe.c.name == name))).first()


def add_probe(conn: Connection, actor: Actor, probe: Probe) -> dict[str, Any]:
    if find_probe(conn, probe.division, probe.name) is not None:
        raise ConflictError(f"division {probe.division} already has a probe named {probe.name!r}",
                            hint="remove it first, or choose another name")
    conn.execute(insert(agent_probe).values(**probe.row()))
    after = probe.model_dump()
    record_change(conn, actor, "probe.add", "agent_probe", f"{probe.division}/{probe.name}", None, after)
    return after


def remove_probe(conn: Connection, actor: Actor, division: str, name: str) -> dict[str, Any]:
    row = find_probe(conn, division, name)
    if row is None:
        raise NotFoundError(f"division {division} has no probe named {name!r}", field="name",
                            hint=f"cloudctl agent probe list --division {division}")
    conn.execute(delete(agent_probe).where(agent_probe.c.id == row.id))
    before = as_dict(row)
    record_change(conn, actor, "probe.remove", "agent_probe", f"{division}/{name}", before, None)
    return before


def replace_probes(conn: Connection, actor: Actor, probes: list[Probe], source: str) -> dict[str, int]:
    """Import: add or update each probe by (division, name), in one transaction and one audit record."""
    added = updated = unchanged = 0
    for p in probes:
        row = find_probe(conn, p.division, p.name)
        if row is None:
            conn.execute(insert(agent_probe).values(**p.row()))
            added += 1
        elif as_dict(row) != {**p.model_dump(), "expect_status": p.row()["expect_status"] if p.kind == "http"
                               else None}:
            conn.execute(agent_probe.update().where(agent_probe.c.id == row.id).values(**p.row()))
            updated += 1
        else:
            unchanged += 1
    result = {"probes": len(probes), "added": added, "updated": updated, "unchanged": unchanged}
    record_change(conn, actor, "probe.import", "agent_probe", source, None, result)
    return result


def duplicates(probes: list[Probe], where: list[str]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for p, loc in zip(probes, where, strict=True):
        key = (p.division, p.name)
        if key in seen:
            raise InputError(f"probe {p.name!r} of division {p.division} is declared twice (first at {seen[key]})",
                             field="name")
        seen[key] = loc


# ---- files ----------------------------------------------------------------------------------

def _csv_rows(path: str) -> list[tuple[int, dict[str, Any]]]:
    from cloudctl.inputs.csvfiles import read_csv

    table = read_csv(path)
    unknown = [c for c in table.header if c not in COLUMNS]
    missing = [c for c in COLUMNS[:5] if c not in table.header]
    if unknown or missing:
        what = f"unknown column {unknown[0]!r}" if unknown else f"missing column {missing[0]!r}"
        raise InputError(what, file=path, line=1, hint="columns: " + ",".join(COLUMNS))
    table.check_width()
    lines = table.row_lines()
    return [(lines[i], {k: v.strip() for k, v in zip(table.header, row, strict=True) if v.strip() != ""})
            for i, row in enumerate(table.rows)]


def read_probe_file(path: str) -> list[tuple[int, Probe]]:
    """Probes from a CSV file (.csv, .csv.gz) or a YAML/JSON list (or `probes:` mapping): [(line, probe)],
    every problem as file:line:column: field, through the one document and CSV loaders."""
    from pydantic import ValidationError

    if path.endswith((".csv", ".csv.gz")):
        rows = _csv_rows(path)
        out = []
        for line, raw in rows:
            try:
                out.append((line, Probe.model_validate(raw)))
            except ValidationError as e:
                from cloudctl.action import input_error

                err = input_error(e)
                raise InputError(err.message, file=path, line=line, field=err.field, hint=err.hint) from None
        if not out:
            raise InputError("no probes in the file", file=path)
        return out
    from cloudctl.inputs.documents import load_document

    doc = load_document(path, what="probe file")
    data = doc.data
    at: tuple[str | int, ...] = ()
    if isinstance(data, dict) and set(data) == {"probes"}:
        data, at = data["probes"], ("probes",)
    if not isinstance(data, list) or not data:
        raise doc.error(at, "expected a non-empty list of probes (or a mapping with `probes:`)")
    out = []
    for i, raw in enumerate(data):
        try:
            out.append((doc.locate((*at, i))[0] or 0, Probe.model_validate(raw)))
        except ValidationError as e:
            loc = e.errors()[0].get("loc", ())
            raise doc.error((*at, i, *loc), str(e.errors()[0].get("msg", "invalid")).removeprefix("Value error, "),
                            hint="a probe has: " + ", ".join(COLUMNS)) from None
    return out
