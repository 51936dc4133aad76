"""`share report`: the figures in JSON, CSV and the page's data attributes agree with what was done."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from cloudctl import clock
from tests.sharing.conftest import as_json

UNTIL = (clock.current().today() + dt.timedelta(days=90)).isoformat()
SOON = (clock.current().today() + dt.timedelta(days=10)).isoformat()


def _share(cli, resource: str, consumer: str, until: str = UNTIL, purpose: str = "p") -> int:
    return as_json(cli("boss", "share", "request", resource, "--dept", consumer, "--purpose", purpose,
                       "--until", until, "--format", "json"))["id"]


def test_report_figures(shared, cli, tmp_path: Path) -> None:
    for name, service in (("fin-payments", "fin-api"), ("fin-notices", "fin-push")):
        assert cli("boss", "share", "resource", "add", name, "--dept", "finance", "--gateway", "gw-lab", "--service",
                   service, "--class", "conditional").code == 0
    active = _share(cli, "fin-payments", "tax", SOON)
    for who in ("fin-head", "data-office", "sec-a"):
        assert cli(who, "request", "approve", str(active)).code == 0
    pending = _share(cli, "fin-notices", "health", purpose="=cmd|' /C calc'!A0")
    rejected = _share(cli, "fin-payments", "health")
    assert cli("sec-b", "request", "reject", str(rejected), "--reason", "no legal basis").code == 0
    out = tmp_path / "report"
    summary = as_json(cli("boss", "share", "report", "--out", str(out), "--format", "json"))["summary"]
    assert (summary["shares_active"], summary["shares_pending"], summary["shares_rejected"], summary["expiring"]) \
        == (1, 1, 1, 1)
    data = json.loads((out / "report.json").read_text())
    assert data["matrix"]["finance"]["tax"] == 1 and data["matrix"]["tax"]["finance"] == 0
    assert [s["id"] for s in data["pending"]] == [pending] and data["pending"][0]["waited_seconds"] >= 0
    assert sorted(s["id"] for s in data["decided"]) == [active, rejected]
    assert all(s["approval_seconds"] >= 0 for s in data["decided"])
    assert [s["id"] for s in data["expiring"]] == [active] and data["expiring"][0]["days_left"] == 10
    assert sum(b["count"] for b in data["approval_buckets"]) == 2
    matrix = list(csv.DictReader(io.StringIO((out / "matrix.csv").read_text())))
    assert {r["owner \\ consumer"]: r["tax"] for r in matrix}["finance"] == "1"
    shares = list(csv.DictReader(io.StringIO((out / "shares.csv").read_text())))
    assert {r["id"]: r["state"] for r in shares} == {str(active): "active", str(pending): "pending",
                                                     str(rejected): "rejected"}
    # a requester's purpose that a spreadsheet would run stays text (OWASP: a leading quote)
    assert {r["id"]: r["purpose"] for r in shares}[str(pending)] == "'=cmd|' /C calc'!A0"
    html = (out / "index.html").read_text()
    assert 'data-owner="finance" data-consumer="tax" data-count="1"' in html
    assert re.search(r'class="bar" data-key="pending" data-count="1"', html)
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_overdue_requests_are_flagged(shared, cli, tmp_path: Path) -> None:
    assert cli("boss", "share", "resource", "add", "fin-payments", "--dept", "finance", "--gateway", "gw-lab",
               "--service", "fin-api", "--class", "open").code == 0
    sid = _share(cli, "fin-payments", "tax")
    with clock.pinned(clock.now() + dt.timedelta(days=3)):  # past the policy's 48 h deadline
        as_json(cli("boss", "share", "report", "--out", str(tmp_path / "r"), "--format", "json"))
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [(s["id"], s["overdue"]) for s in data["pending"]] == [(sid, True)]
    assert data["summary"]["pending_overdue"] == 1
    assert 'class="overdue"' in (tmp_path / "r" / "index.html").read_text()


@pytest.mark.browser
def test_the_page_renders_in_chromium_with_its_figures(shared, cli, tmp_path: Path) -> None:
    """The page as a reader's browser builds it: the matrix cell and the bars carry the figures, and it is not blank."""
    from tests.reports.browser import dump_dom, png_size_and_ink, screenshot

    assert cli("boss", "share", "resource", "add", "fin-payments", "--dept", "finance", "--gateway", "gw-lab",
               "--service", "fin-api", "--class", "conditional").code == 0
    sid = _share(cli, "fin-payments", "tax")
    for who in ("fin-head", "data-office", "sec-a"):
        assert cli(who, "request", "approve", str(sid)).code == 0
    out = tmp_path / "report"
    assert cli("boss", "share", "report", "--out", str(out)).code == 0
    url = (out / "index.html").as_uri()
    dom = dump_dom(url, tmp_path / "profile")
    assert 'data-owner="finance" data-consumer="tax" data-count="1"' in dom
    assert 'data-key="active" data-count="1"' in dom and f'data-id="{sid}"' in dom
    shot = screenshot(url, tmp_path / "report.png", tmp_path / "profile")
    width, height, ink = png_size_and_ink(shot)
    assert (width, height) == (1200, 2400) and ink > 0.01
