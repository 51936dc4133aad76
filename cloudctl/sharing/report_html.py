"""The share report's page: one self-contained HTML file (inline CSS and SVG, no script, no network).
Pure: the report dict in (sharing/report.py), text out. Every chart mark carries data-* attributes with
its figure, so a test (or a script) reads the numbers back from the DOM."""

from __future__ import annotations

from html import escape
from typing import Any

from cloudctl.coverage.report.charts import FONT_FAMILY

STATE_COLOURS = {"active": "#009E73", "pending": "#E69F00", "expired": "#999999", "revoked": "#D55E00",
                 "rejected": "#CC79A7", "withdrawn": "#56B4E9"}
HEAT = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _svg(width: int, height: int, title: str, css: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{_a(title)}" '
            f"font-family='{FONT_FAMILY}' font-size=\"13\"><title>{escape(title)}</title>")


def matrix_svg(data: dict[str, Any]) -> str:
    """Departments x departments: owner rows, consumer columns, active shares per cell."""
    depts = data["departments"]
    n = max(len(depts), 1)
    cell, left, top = 44, 130, 84
    width, height = left + cell * n + 20, top + cell * n + 20
    peak = max([v for row in data["matrix"].values() for v in row.values()] + [1])
    parts = [_svg(width, height, "active shares: owner (rows) to consumer (columns)", "matrix")]
    for j, d in enumerate(depts):
        x = left + j * cell + cell / 2
        parts.append(f'<text x="{x:.0f}" y="{top - 8}" transform="rotate(-45 {x:.0f} {top - 8})" '
                     f'font-size="12">{escape(d["name"])}</text>')
    for i, a in enumerate(depts):
        y = top + i * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" font-size="12">'
                     f'{escape(a["name"])}</text>')
        for j, b in enumerate(depts):
            count = data["matrix"][a["code"]][b["code"]]
            shade = HEAT[0] if count == 0 else HEAT[min(1 + (count * 3) // peak, len(HEAT) - 1)]
            ink = "#ffffff" if shade in HEAT[3:] else "#222222"
            parts.append(f'<g class="cell" data-owner="{_a(a["code"])}" data-consumer="{_a(b["code"])}" '
                         f'data-count="{count}"><rect x="{left + j * cell}" y="{y}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="{"#eeeeee" if a == b else shade}"><title>{escape(a["name"])} → '
                         f'{escape(b["name"])}: {count}</title></rect>')
            if count:
                parts.append(f'<text x="{left + j * cell + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" '
                             f'text-anchor="middle" fill="{ink}">{count}</text>')
            parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(items: list[tuple[str, str, int]], title: str, css: str) -> str:
    """Horizontal bars of counts: (key, label, count), with the colour of the key when it has one."""
    row, left, right = 26, 120, 60
    width = 640
    height = 34 + row * max(len(items), 1)
    peak = max([c for _, _, c in items] + [1])
    parts = [_svg(width, height, title, css), f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i, (key, label, count) in enumerate(items):
        y = 28 + i * row
        w = (width - left - right) * count / peak
        parts.append(f'<g class="bar" data-key="{_a(key)}" data-count="{count}">'
                     f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 8}" '
                     f'fill="{STATE_COLOURS.get(key, "#0072B2")}"><title>{escape(label)}: {count}</title></rect>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 14}">{count}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds < 2 * 86400 else f"{seconds / 86400:.1f} d"


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], css: str, empty: str) -> str:
    if not rows:
        return f'<p class="empty {css}">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            value = r.get(key)
            if key in ("approval_seconds", "waited_seconds"):
                value = _hours(value)
            elif isinstance(value, list):
                value = ",".join(map(str, value))
            elif isinstance(value, bool):
                value = "yes" if value else ""
            cells.append(f'<td data-col="{key}">{escape("" if value is None else str(value))}</td>')
        overdue = ' class="overdue"' if r.get("overdue") else ""
        body.append(f'<tr data-id="{_a(r.get("id", ""))}"{overdue}>{"".join(cells)}</tr>')
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


CSS = """body{font-family:%s;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:20px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
tr.overdue td,td.overdue{background:#fde8e0}.empty{color:#777}.note{color:#555;font-size:12px}"""


def render_html(data: dict[str, Any]) -> str:
    s = data["summary"]
    cards = [("resources in the catalogue", s["resources"]), ("active shares", s["shares_active"]),
             ("pending requests", s["shares_pending"]), ("overdue", s["pending_overdue"]),
             (f"ending within {data['expiring_days']} days", s["expiring"]),
             ("median approval time", "-" if s["median_approval_hours"] is None else f"{s['median_approval_hours']} h")]
    states = [(k, k, data["states"].get(k, 0)) for k in STATE_COLOURS]
    classes = [(k, f"{k} {name}", data["classes"].get(k, 0)) for k, name in
               (("open", "无条件"), ("conditional", "有条件"), ("closed", "不予"))]
    buckets = [(b["bucket"], b["bucket"], b["count"]) for b in data["approval_buckets"]]
    share_cols = [("id", "share"), ("resource", "resource"), ("class", "class"), ("owner", "owner"),
                  ("consumer", "consumer"), ("service", "service"), ("ports", "ports"), ("until", "until")]
    parts = [
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        f"<title>数据共享交换 data sharing — {escape(data['at'])}</title>",
        f"<style>{CSS % FONT_FAMILY}</style></head><body>",
        f"<h1>数据共享交换 · data sharing between departments, {escape(data['at'])}</h1>",
        f'<p class="note">generated {escape(data["generated_at"])} (UTC) by cloudctl share report</p>',
        '<div class="cards">' + "".join(f'<div class="card" data-figure="{_a(label)}"><b>{escape(str(v))}</b>'
                                        f"{escape(label)}</div>" for label, v in cards) + "</div>",
        "<h2>Who shares with whom</h2>",
        '<p class="note">rows: the department whose data is shared; columns: the department receiving it; '
        "cells: active shares</p>", matrix_svg(data),
        _table(data["active"], [*share_cols, ("purpose", "purpose")], "active", "no share is in effect"),
        "<h2>Shares by state</h2>", bars_svg(states, "shares per state", "states"),
        "<h2>The catalogue</h2>", bars_svg(classes, "resources per class", "classes"),
        _table(data["catalogue"], [("name", "resource"), ("owner_dept", "owner"), ("service", "service"),
                                   ("share_class", "class"), ("class_name", "类别"), ("status", "status"),
                                   ("description", "description")], "catalogue", "the catalogue is empty"),
        "<h2>Pending and overdue requests</h2>",
        _table(data["pending"], [*share_cols[:6], ("requested_at", "asked at"), ("waited_seconds", "waiting"),
                                 ("deadline_at", "deadline"), ("overdue", "overdue")], "pending", "nothing is pending"),
        "<h2>Time each approval took</h2>", bars_svg(buckets, "decided requests by time to decision", "durations"),
        _table(data["decided"], [*share_cols[:5], ("state", "state"), ("requested_at", "asked at"),
                                 ("decided_at", "decided at"), ("approval_seconds", "took")], "decided",
               "no request has been decided yet"),
        f"<h2>Ending within {data['expiring_days']} days</h2>",
        _table(data["expiring"], [*share_cols, ("days_left", "days left")], "expiring", "no share ends soon"),
        "</body></html>\n"]
    return "\n".join(parts)
