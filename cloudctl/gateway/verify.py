"""Drift between the ruleset a policy compiles to and what runs on the gateway (pure).

Both sides are `nft -j list ruleset` documents: the expected one is the compiled ruleset as
nft itself lists it after loading it in a scratch namespace (so both sides use nft's own
canonical form), the running one comes from the host. Only cloudctl's table is compared;
handles, counter values and element order are not drift. Counter values are reported, per
publication. Other tables that hook into the same paths are listed as warnings: they may
drop or accept what the policy says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NAMED_KINDS = ("table", "chain", "set", "map", "counter", "quota", "limit", "ct helper", "ct timeout",
               "ct expectation", "flowtable", "secmark", "synproxy")
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class DriftItem:
    kind: str  # table | chain | rule | set | map | counter | ...
    name: str
    change: str  # missing | unexpected | changed
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "change": self.change, "detail": self.detail}


@dataclass(frozen=True)
class CounterReading:
    name: str
    packets: int
    bytes: int
    publication: str | None = None  # the publication this counter counts, if any
    department: str | None = None  # for egress counters
    share: str | None = None  # for data share counters: share-<id>

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "publication": self.publication, "department": self.department,
                "share": self.share, "packets": self.packets, "bytes": self.bytes}


@dataclass
class DriftReport:
    family: str
    table: str
    table_present: bool
    items: list[DriftItem] = field(default_factory=list)
    counters: list[CounterReading] = field(default_factory=list)
    foreign_tables: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return self.table_present and not self.items

    def as_dict(self) -> dict[str, Any]:
        return {"table": f"{self.family} {self.table}", "table_present": self.table_present,
                "in_sync": self.in_sync, "drift": [i.as_dict() for i in self.items],
                "counters": [c.as_dict() for c in self.counters], "foreign_tables": self.foreign_tables}


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _strip_counts(value: Any) -> Any:
    """Anonymous `counter` statements carry packets/bytes: not part of the ruleset's meaning."""
    if isinstance(value, dict):
        if set(value) <= {"packets", "bytes"} and value:
            return None
        return {k: _strip_counts(v) for k, v in value.items() if k != "handle"}
    if isinstance(value, list):
        return [_strip_counts(v) for v in value]
    return value


@dataclass
class _Table:
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    elements: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    rules: dict[str, list[str]] = field(default_factory=dict)
    counters: dict[str, tuple[int, int]] = field(default_factory=dict)
    present: bool = False


def _entries(document: dict[str, Any] | list[Any]) -> list[dict[str, Any]]:
    items = document.get("nftables", []) if isinstance(document, dict) else document
    return [e for e in items if isinstance(e, dict) and len(e) == 1]


def _index(document: dict[str, Any] | list[Any], family: str, table: str) -> _Table:
    out = _Table()
    for entry in _entries(document):
        (kind, body), = entry.items()
        if not isinstance(body, dict):
            continue
        if kind == "table":
            if body.get("family") == family and body.get("name") == table:
                out.present = True
            continue
        if body.get("family") != family or body.get("table") != table:
            continue
        if kind == "rule":
            expr = _strip_counts(body.get("expr", []))
            text = _canon({"expr": expr, "comment": body.get("comment")})
            out.rules.setdefault(body.get("chain", "?"), []).append(text)
            continue
        if kind not in NAMED_KINDS:
            continue
        name = str(body.get("name", "?"))
        attrs = {k: v for k, v in body.items() if k not in ("handle", "elem", "packets", "bytes")}
        if kind == "counter":
            out.counters[name] = (int(body.get("packets", 0)), int(body.get("bytes", 0)))
        if "elem" in body:
            out.elements[(kind, name)] = {_canon(_strip_counts(e)) for e in body["elem"]}
        elif kind in ("set", "map"):
            out.elements[(kind, name)] = set()
        out.objects[(kind, name)] = attrs
    return out


def _examples(values: Iterable[str]) -> str:
    values = sorted(values)
    shown = ", ".join(values[:MAX_EXAMPLES])
    return shown + (f" … (+{len(values) - MAX_EXAMPLES})" if len(values) > MAX_EXAMPLES else "")


def _foreign_tables(document: dict[str, Any] | list[Any], family: str, table: str) -> list[str]:
    """Other tables with base chains (hooks): they see the same packets as cloudctl's table."""
    hooked: set[str] = set()
    for entry in _entries(document):
        (kind, body), = entry.items()
        if (kind == "chain" and isinstance(body, dict) and body.get("hook")
                and (body.get("family"), body.get("table")) != (family, table)):
            hooked.add(f"{body.get('family')} {body.get('table')} (hook {body.get('hook')})")
    return sorted(hooked)


def classify_counter(name: str, packets: int, nbytes: int, publications: Iterable[str] = ()) -> CounterReading:
    pubs = set(publications)
    if name.startswith("pub_") and (not pubs or name[4:] in pubs):
        return CounterReading(name, packets, nbytes, publication=name[4:])
    if name.startswith("egress_"):
        return CounterReading(name, packets, nbytes, department=name[7:])
    if name.startswith("share_") and name[6:].isdigit():
        return CounterReading(name, packets, nbytes, share=f"share-{name[6:]}")
    return CounterReading(name, packets, nbytes)


def compare_rulesets(expected: dict[str, Any] | list[Any], running: dict[str, Any] | list[Any], *,
                     family: str = "inet", table: str = "cloudctl_gw",
                     publications: Iterable[str] = ()) -> DriftReport:
    """What differs between the expected and the running table; counters of the running one."""
    want, have = _index(expected, family, table), _index(running, family, table)
    report = DriftReport(family, table, have.present, foreign_tables=_foreign_tables(running, family, table))
    report.counters = [classify_counter(n, p, b, publications) for n, (p, b) in sorted(have.counters.items())]
    if not have.present:
        report.items.append(DriftItem("table", f"{family} {table}", "missing", "cloudctl's table is not loaded"))
        return report
    for key in sorted(want.objects.keys() | have.objects.keys()):
        kind, name = key
        if key not in have.objects:
            report.items.append(DriftItem(kind, name, "missing"))
            continue
        if key not in want.objects:
            report.items.append(DriftItem(kind, name, "unexpected"))
            continue
        details = []
        a, b = want.objects[key], have.objects[key]
        for attr in sorted(a.keys() | b.keys()):
            if _canon(a.get(attr)) != _canon(b.get(attr)):
                details.append(f"{attr}: expected {_canon(a.get(attr))}, running {_canon(b.get(attr))}")
        ea, eb = want.elements.get(key, set()), have.elements.get(key, set())
        if ea != eb:
            if ea - eb:
                details.append(f"{len(ea - eb)} element(s) missing: {_examples(ea - eb)}")
            if eb - ea:
                details.append(f"{len(eb - ea)} unexpected element(s): {_examples(eb - ea)}")
        if details:
            report.items.append(DriftItem(kind, name, "changed", "; ".join(details)))
    for chain in sorted(want.rules.keys() | have.rules.keys()):
        ra, rb = want.rules.get(chain, []), have.rules.get(chain, [])
        if ra == rb:
            continue
        first = next((i for i, (x, y) in enumerate(zip(ra, rb, strict=False)) if x != y), min(len(ra), len(rb)))
        report.items.append(DriftItem("rule", chain, "changed",
                                      f"expected {len(ra)} rule(s), running {len(rb)}; first difference at "
                                      f"rule {first + 1}"))
    return report
