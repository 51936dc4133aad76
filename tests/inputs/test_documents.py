"""The one YAML/JSON loader: same data as PyYAML's SafeLoader where it accepts, refusals with a
location where it does not, and bounds that hold by construction."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cloudctl.errors import InputError
from cloudctl.inputs.documents import MAX_ALIAS_NODES, load_document, parse_document

SAMPLE = """\
gateway:
  name: gw-1
  division: "330100"
  ports: [443, 8000-8099, 0x1F, 017]
flags: {on: yes, off: no, none: ~}
empty:
when: 2026-01-01
at: 2026-01-01 10:00:00
ratio: 1.5e3
text: |
  two
  lines
quoted: '110000'
"51": number-like key
"""


def test_same_data_as_pyyaml_safe_loader() -> None:
    doc = parse_document(SAMPLE, file="s.yaml")
    expected = yaml.safe_load(SAMPLE)
    expected["flags"] = {"on": True, "off": False, "none": None}  # keys stay names (YAML 1.1: True, False)
    assert doc.data == expected
    assert doc.data["when"] == dt.date(2026, 1, 1)
    assert doc.data["gateway"]["ports"] == [443, "8000-8099", 31, 15]


def test_marks_point_at_keys_and_items() -> None:
    doc = parse_document(SAMPLE, file="s.yaml")
    assert doc.locate(("gateway", "ports", 1)) == (4, 16)
    assert doc.locate(("gateway", "division")) == (3, 3)
    assert doc.locate(("gateway", "missing")) == (1, 1)  # a missing key points at its parent
    error = doc.error(("flags", "none"), "bad", hint="fix it")
    assert error.render() == "s.yaml:5:27: field 'flags.none': bad\n  hint: fix it"


def _error_of(fn, *args, **kwargs) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as e:
        fn(*args, **kwargs)
    return e.value


def _refused(text: str, fmt: str = "yaml") -> InputError:
    with pytest.raises(InputError) as e:
        parse_document(text, file="t", format=fmt)
    return e.value


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a'"),
    ("a: [1, 2\nb: 3\n", 2, 2, "not valid YAML"),
    ("a: .inf\n", 1, 4, "not a finite number"),
    ("a: .nan\n", 1, 4, "not a finite number"),
    ("a: !!python/object:os.system x\n", 1, 4, "not allowed"),
    ("a: !!set {x, y}\n", 1, 4, "not allowed"),
    ("a: 1\n---\nb: 2\n", 2, 1, "more than one document"),
    ("a:\n  b: 1\n c: 2\n", 3, 2, "not valid YAML"),
    ("a: {x: 1}\nb:\n  <<: {y: 2}\n", 3, 3, "merge keys"),
    ("? [a]\n: 1\n", 1, 3, "a key must be a name"),
    ("a: 2026-02-30\n", 1, 4, "not a valid date"),
    ("a: " + "9" * 100 + "\n", 1, 4, "100 digits"),
    ("a: \x1b[31m\n", 1, 4, "U+001B"),
    ("a: &a [1, *a]\n", 1, 11, "its own enclosing anchor"),
    ("a: *nowhere\n", 1, 4, "no anchor before it"),
    ("[" * 65 + "]" * 65, 1, 65, "nested more than 64 levels"),
])
def test_refusals_name_line_and_column(text: str, line: int, column: int, words: str) -> None:
    error = _refused(text)
    assert (error.file, error.line, error.column) == ("t", line, column), error.render()
    assert words in error.message


def test_a_long_value_is_refused_with_its_field() -> None:
    error = _refused("name: " + "x" * 300_000 + "\n")
    assert error.field == "name" and "300,000 characters" in error.message


def _bomb(levels: int, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_it_expands() -> None:
    tracemalloc.start()
    try:
        error = _refused(_bomb(12))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "expand the document by too much" in error.message
    assert error.line is not None and error.line <= 6  # stops at the first few levels, not the twelfth
    assert peak < 5_000_000  # by construction: an alias shares its anchor's value, nothing is copied


def test_an_alias_chain_cannot_nest_deeper_than_the_bound() -> None:
    chain = "a0: &a0 []\n" + "".join(f"a{i + 1}: &a{i + 1} [*a{i}]\n" for i in range(100))
    assert "levels deep" in _refused(chain).message


def test_small_aliases_are_read_and_shared() -> None:
    doc = parse_document("base: &b {port: 443, hosts: [a, b]}\none: *b\ntwo: [*b, 1]\nday: &d 2026-01-01\n"
                         "again: *d\n")
    assert doc.data["one"] == {"port": 443, "hosts": ["a", "b"]} and doc.data["two"][0] is doc.data["base"]
    assert doc.data["again"] == dt.date(2026, 1, 1)
    assert doc.locate(("one",)) == (2, 1)
    budget = MAX_ALIAS_NODES // 10
    ok = "x: &x [" + ",".join(["1"] * (budget - 1)) + "]\n" + "".join(f"y{i}: *x\n" for i in range(10))
    assert len(parse_document(ok).data) == 11


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ('{"token": NaN}', 1, 11, "NaN"),
    ('{"a": [1, -Infinity]}', 1, 11, "Infinity"),
    ('{\n "a": 1,\n "a": 2}', 3, 2, "duplicate key 'a'"),
    ('{"a": 1,}', 1, 9, "not valid JSON"),
    ("{'a': 1}", 1, 2, "not valid JSON"),
    ('{"a": [1, 1e400]}', 1, 11, "not a finite number"),
    ('{"a": ' + "9" * 60 + "}", 1, 7, "60 digits"),
    ("[" * 20_000 + "]" * 20_000, 1, 65, "nested more than 64 levels"),
    ("[" * 100 + "]" * 100, 1, 65, "nested more than 64 levels"),
])
def test_json_is_strict_and_located(text: str, line: int, column: int, words: str) -> None:
    error = _refused(text, "json")
    assert (error.line, error.column) == (line, column), error.render()
    assert words in error.message


def test_files_bounded_utf8_and_by_suffix(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_bytes(b"name: ok\nother: caf\xe9\n")
    error = _error_of(load_document, bad)
    assert (error.line, error.column) == (2, 11) and "not UTF-8" in error.message
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"a": [1, 2]}')
    assert load_document(bom).data == {"a": [1, 2]}
    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" * 100)
    assert "at most 100 are read" in _error_of(load_document, big, max_bytes=100).message
    assert "no such" in _error_of(load_document, tmp_path / "nope.yaml").message
    assert "directory" in _error_of(load_document, tmp_path).message
    assert load_document(tmp_path / "bom.json", format="yaml").data == {"a": [1, 2]}  # JSON is YAML too


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int | str


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    items: list[_Inner]


@pytest.mark.parametrize(("text", "field", "line", "words"), [
    ("name: a\nitems:\n  - port: 1\n  - port: 2\n    prot: 2\n", "items[1].prot", 5, "not a known field"),
    ("name: a\nitems:\n  - port: 1\n  - prot: 2\n", "items[1].port", 4, "required, but missing (and 1"),
    ("name: a\nitems:\n  - port: [1]\n", "items[0].port", 3, "(and 1 more problem)"),
    ("items: []\n", "name", 1, "required"),
])
def test_validation_errors_are_located(text: str, field: str, line: int, words: str) -> None:
    doc = parse_document(text, file="m.yaml")
    with pytest.raises(ValidationError) as e:
        _Outer.model_validate(doc.data)
    error = doc.validation_error(e.value)
    assert (error.field, error.line) == (field, line) and words in error.message, error.render()


def test_mapping_required() -> None:
    assert "empty" in _error_of(parse_document("# nothing\n", file="e").mapping).message
    error = _error_of(parse_document("- a\n", file="l").mapping, "policy")
    assert "must be a mapping" in error.message and error.line == 1


def test_yaml_is_read_by_libyaml() -> None:
    from cloudctl.inputs import yamldoc

    assert yamldoc._Parser.__module__ == "yaml._yaml", "PyYAML without libyaml: run scripts/deps.d/15-libyaml.sh"
