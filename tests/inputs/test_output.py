"""What reaches a terminal or a spreadsheet: escaped, readable, ASCII in pipes, no formulas."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from cloudctl.cli import output
from cloudctl.inputs.csvout import csv_text, safe_cell

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = "x\x1b[31mred [bold]b[/bold] \u202eevil\x00"
ROWS = [
    {"id": 1, "name": "北京市", "policy": {"kinds": ["quota-increase"], "max": {"vcpus": 4, "ram": 8192}}},
    {"id": 2, "name": HOSTILE, "policy": [1, 2]},
    {"id": -3.5, "name": "=cmd|' /C calc'!A0", "policy": "-5"},
]


def test_the_unsafe_class_is_exactly_the_control_format_and_separator_categories() -> None:
    unsafe = {cp for cp in range(sys.maxunicode + 1)
              if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp", "Cs")}
    matched = {cp for cp in range(sys.maxunicode + 1) if output._UNSAFE.match(chr(cp))}
    assert matched == unsafe


def test_printable_escapes_and_keeps_the_rest() -> None:
    assert output.printable(HOSTILE) == "x\\x1b[31mred [bold]b[/bold] \\u202eevil\\x00"
    assert output.printable("北京\u3000市\ue170") == "北京\u3000市\ue170"
    assert output.printable("a\nb\x07", keep_newlines=True) == "a\nb\\x07"


def test_nested_values_read_as_text() -> None:
    assert output.readable(ROWS[0]["policy"]) == "kinds: [quota-increase], max: {vcpus: 4, ram: 8192}"
    assert output.readable([1, {"a": None}]) == "1, {a: }"
    assert output.readable(2.50) == "2.5" and output.readable(None) == ""


def test_table_in_a_pipe_is_ascii_aligned_and_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_rows(ROWS, ["id", "name", "policy"], "table", title="t [red]x")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t [red]x"
    assert set(lines[2]) <= {"-", " "}
    frame = "".join(ch for line in lines for ch in line if not ch.isalnum() and ord(ch) > 127)
    assert frame == "", "only ASCII around the values"
    assert "x\\x1b[31mred [bold]b[/bold] \\u202eevil\\x00" in lines[4]
    columns = [output._width(line[:line.index(word)]) for line, word in ((lines[3], "kinds"), (lines[4], "1, 2"))]
    assert columns[0] == columns[1]  # 北京市 is six columns wide: still aligned
    assert "\x1b" not in "\n".join(lines)


def _on_a_terminal(argv: list[str]) -> str:
    """What ARGV prints on a real pseudo-terminal (stdout), decoded."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=follower, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "200", "TERM": "xterm", "PYTHONPATH": str(ROOT)})
    os.close(follower)
    chunks = []
    while select.select([leader], [], [], 30)[0]:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode()


def test_table_on_a_terminal_shows_values_as_text() -> None:
    """rich renders on a terminal, but a value's escape sequence and markup stay inert."""
    text = _on_a_terminal([sys.executable, "-c", "from cloudctl.cli.output import emit_rows; "
                           f"emit_rows([{{'hostname': {HOSTILE!r}}}], ['hostname'], 'table')"])
    assert "\\x1b[31mred [bold]b[/bold] \\u202eevil\\x00" in text
    assert "\x1b[31mred" not in text and "\u202e" not in text and "\x00" not in text


def test_agent_list_escapes_a_hostile_hostname(tmp_path: Path) -> None:
    """The issue's case: an enrolment hostname with escape sequences (a row from before the API
    refused them), shown by `agent list` on a terminal and in a pipe."""
    from cloudctl.api.registry import create_enrolment, exchange_token
    from cloudctl.audit import Actor
    from cloudctl.divisions.importer import import_division_files
    from cloudctl.store import open_store

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = open_store(url)
    import_division_files(store, [ROOT / "tests/fixtures/divisions/provinces.csv"], Actor("t", "test"))
    enrolment = create_enrolment(store, Actor("t", "test"), "11", "access")
    exchange_token(store, enrolment.token, hostname="gw\x1b]0;owned\x07\x1b[2J[red]x[/red]")
    store.dispose()
    argv = [sys.executable, "-m", "cloudctl", "--db", url, "agent", "list"]
    for text in (_on_a_terminal(argv), subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                                      env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout):
        assert "gw\\x1b]0;owned\\x07\\x1b[2J[red]x[/red]" in text, text
        assert "\x1b]0;" not in text and "\x07" not in text


def test_csv_output_neutralises_formulas_only_in_text_cells(capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_rows(ROWS, ["id", "name", "policy"], "csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[1][2] == "kinds: [quota-increase], max: {vcpus: 4, ram: 8192}"
    assert rows[3] == ["-3.5", "'=cmd|' /C calc'!A0", "-5"]
    for text in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-1+cmd|' /C calc'!A0"):
        assert safe_cell(text) == "'" + text
    for value in (-5, -2.5, "-5", "+1.5", "-2.5e3", "", None, "a=b", "北京"):
        assert safe_cell(value) == ("" if value is None else value)
    assert csv_text(["a", "b"], [{"a": "=x", "b": 1}, ["@y", None]]) == "a,b\n'=x,1\n'@y,\n"


def test_json_output_is_valid_and_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_rows(ROWS, ["id", "name", "policy"], "json")
    text = capsys.readouterr().out
    assert json.loads(text) == ROWS
    assert not any(ch in text for ch in ("\x1b", "\u202e", "\x00"))
    assert "北京市" in text


def test_every_csv_in_the_package_is_written_through_the_safe_writer() -> None:
    """The class of defect at its root: a module that builds CSV with the csv module's own writers
    (csv.writer, csv.DictWriter) would write formulas verbatim; only inputs/csvout.py may."""
    import ast

    package = ROOT / "cloudctl"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path == package / "inputs" / "csvout.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"writer", "DictWriter"} \
                    and isinstance(node.value, ast.Name) and node.value.id == "csv":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "csv" \
                    and {a.name for a in node.names} & {"writer", "DictWriter"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "write CSV with cloudctl.inputs.csvout (csv_text, csv_writer): " + ", ".join(offenders)
