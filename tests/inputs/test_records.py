"""Typed records from documents (no pydantic): what they accept, and where they say no."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import field
from pathlib import Path
from typing import Literal

import pytest

from cloudctl.errors import InputError
from cloudctl.gateway.policy import Policy, load_policy
from cloudctl.inputs.documents import parse_document
from cloudctl.inputs.records import from_data, record, to_data

LAB = Path(__file__).resolve().parents[1] / "gateway" / "policies" / "lab.yaml"


@record
class Port:
    number: int | str
    proto: Literal["tcp", "udp"] = "tcp"


@record
class Host:
    name: str
    addresses: list[str]
    ports: list[Port] = field(default_factory=list)
    weight: float = 1.0
    enabled: bool = True
    until: dt.date | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _host(text: str) -> Host:
    doc = parse_document(text, file="h.yaml")
    return from_data(Host, doc.data, doc)


def test_a_record_from_yaml() -> None:
    host = _host("name: 110000\naddresses: 10.0.0.1\nports: [{number: 443}, {number: 8000-8010, proto: udp}]\n"
                 "weight: 2\nuntil: 2027-01-31\nlabels: {zone: dmz}\n")
    assert host == Host("110000", ["10.0.0.1"], [Port(443), Port("8000-8010", "udp")], 2.0, True,
                        dt.date(2027, 1, 31), {"zone": "dmz"})
    assert to_data(host, exclude_none=True)["until"] == "2027-01-31"
    with pytest.raises(AttributeError):
        host.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    ("name: a\naddresses: []\nadresses: []\n", 3, "adresses", "not a known field"),
    ("name: a\n", 1, "addresses", "required, but missing"),
    ("name: a\naddresses: []\nports: [{number: 1, proto: sctp}]\n", 3, "ports[0].proto", "must be one of"),
    ("name: a\naddresses: []\nports: [{number: [1]}]\n", 3, "ports[0].number", "a number or text"),
    ("name: a\naddresses: []\nweight: fast\n", 3, "weight", "must be a number"),
    ("name: a\naddresses: []\nenabled: 1\n", 3, "enabled", "true or false"),
    ("name: a\naddresses: []\nuntil: 20270131\n", 3, "until", "YYYY-MM-DD"),
    ("name: [a]\naddresses: []\n", 1, "name", "must be text"),
    ("name: a\naddresses: {a: 1}\n", 2, "addresses", "must be a list"),
    ("name: a\naddresses: []\nlabels: [x]\n", 3, "labels", "must be a mapping"),
])
def test_problems_are_located(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(InputError) as e:
        _host(text)
    assert (e.value.file, e.value.line, e.value.field) == ("h.yaml", line, field), e.value.render()
    assert words in e.value.message


def test_the_lab_policy_reads_the_same_from_json(tmp_path: Path) -> None:
    """JSON has no dates: ISO text becomes a date, and the policy is the same."""
    from_yaml = load_policy(LAB)
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(from_yaml.model_dump()), encoding="utf-8")
    from_json = load_policy(path)
    assert from_json == from_yaml and isinstance(from_json, Policy)
    assert Policy.model_validate(json.loads(path.read_text())) == from_yaml
