"""`cloudctl share report`: the exchange picture as one dict (build_report, the report's only reads),
rendered to index.html (report_html.py), shares.csv, matrix.csv, pending.csv and report.json.

Figures on the date AT: who shares what with whom (active shares), a departments x departments
matrix (rows: the owner, columns: the consumer; active shares), the requests still pending with
how long they have waited and whether they are past their deadline, the time each decided
request took, and active shares ending within `expiring_days`.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from cloudctl.clock import Clock
from cloudctl.inputs.csvout import csv_text
from cloudctl.inputs.paths import write_text_atomic
from cloudctl.sharing.model import CLASS_NAMES, CLASSES, STATES

# approval durations are grouped in these buckets (upper bounds, seconds) for the chart and the metric
DURATION_BUCKETS: tuple[tuple[float, str], ...] = (
    (3600, "< 1 h"), (4 * 3600, "1-4 h"), (86400, "4-24 h"), (2 * 86400, "1-2 d"), (7 * 86400, "2-7 d"),
    (float("inf"), "> 7 d"))


def build_report(conn: Connection, at: dt.date, clock: Clock, expiring_days: int = 30) -> dict[str, Any]:
    """Everything the report shows, as plain data (the JSON file is this dict)."""
    from cloudctl.sharing.store import list_resources, list_shares
    from cloudctl.store.tables.cloud import department

    now = clock.now()
    shares = list_shares(conn, at, clock.zone, now_stamp=clock.stamp(now))
    resources = list_resources(conn, include_retired=True)
    names = {r.code: r.name for r in conn.execute(select(department.c.code, department.c.name)
                                                   .where(department.c.status == "active"))}
    active = [s for s in shares if s["state"] == "active"]
    involved = {s["owner"] for s in active} | {s["consumer"] for s in active}
    depts = sorted(set(names) | involved)
    matrix = {a: dict.fromkeys(depts, 0) for a in depts}
    for s in active:
        matrix[s["owner"]][s["consumer"]] += 1
    pending = [{**s, "waited_seconds": max((now - dt.datetime.fromisoformat(s["requested_at"])).total_seconds(), 0)}
               for s in shares if s["state"] == "pending"]
    decided = [s for s in shares if s["approval_seconds"] is not None]
    expiring = [{**s, "days_left": (dt.date.fromisoformat(s["until"]) - at).days} for s in active
                if (dt.date.fromisoformat(s["until"]) - at).days <= expiring_days]
    durations = [s["approval_seconds"] for s in decided]
    summary = {"at": at.isoformat(), "resources": sum(r["status"] == "active" for r in resources),
               **{f"shares_{state}": sum(s["state"] == state for s in shares) for state in STATES},
               "pending_overdue": sum(s["overdue"] for s in pending), "expiring": len(expiring),
               "departments_sharing": len({s["owner"] for s in active}),
               "departments_receiving": len({s["consumer"] for s in active}),
               "median_approval_hours": round(statistics.median(durations) / 3600, 2) if durations else None}
    return {
        "at": at.isoformat(), "generated_at": clock.stamp(now), "expiring_days": expiring_days,
        "summary": summary,
        "catalogue": [{**r, "class_name": CLASS_NAMES.get(r["share_class"], "")} for r in resources],
        "classes": {c: sum(r["share_class"] == c and r["status"] == "active" for r in resources) for c in CLASSES},
        "states": dict(Counter(s["state"] for s in shares)),
        "departments": [{"code": d, "name": names.get(d, d)} for d in depts],
        "matrix": matrix,
        "active": active, "pending": pending, "decided": decided, "expiring": expiring, "shares": shares,
        "approval_buckets": bucket_counts(durations),
    }


def bucket_counts(durations: list[float]) -> list[dict[str, Any]]:
    counts = [0] * len(DURATION_BUCKETS)
    for d in durations:
        counts[next(i for i, (bound, _) in enumerate(DURATION_BUCKETS) if d < bound)] += 1
    return [{"bucket": label, "upper_seconds": None if bound == float("inf") else bound, "count": n}
            for (bound, label), n in zip(DURATION_BUCKETS, counts, strict=True)]


SHARE_CSV = ["id", "resource", "class", "owner", "consumer", "gateway", "service", "ports", "until", "state",
             "requester", "requested_at", "decided_at", "approval_seconds", "deadline_at", "overdue", "revoked_at",
             "revoke_reason", "purpose"]


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Through the one CSV writer: a purpose or a name that starts like a formula stays text."""
    return csv_text(columns, ({k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in r.items()}
                              for r in rows))


def render_shares_csv(data: dict[str, Any]) -> str:
    return _csv(data["shares"], SHARE_CSV)


def render_pending_csv(data: dict[str, Any]) -> str:
    return _csv(data["pending"], ["id", "resource", "owner", "consumer", "requester", "requested_at", "deadline_at",
                                  "waited_seconds", "overdue"])


def render_matrix_csv(data: dict[str, Any]) -> str:
    codes = [d["code"] for d in data["departments"]]
    rows = [{"owner \\ consumer": a, **data["matrix"][a]} for a in codes]
    return _csv(rows, ["owner \\ consumer", *codes])


def write_report(data: dict[str, Any], out_dir: Path) -> list[Path]:
    """index.html, report.json, shares.csv, matrix.csv, pending.csv (each written whole, then renamed)."""
    from cloudctl.sharing.report_html import render_html

    files = {"report.json": json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
             "shares.csv": render_shares_csv(data), "matrix.csv": render_matrix_csv(data),
             "pending.csv": render_pending_csv(data), "index.html": render_html(data)}
    written = []
    for name, text in files.items():
        write_text_atomic(Path(out_dir) / name, text)
        written.append(Path(out_dir) / name)
    return written
