"""Showback against the real cloud: arithmetic checked against the raw os-simple-tenant-usage answer."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloudctl.cloud_ops.openstack_ops import CloudOps
from cloudctl.cloud_ops.usage import usage_report
from tests.cloud.helpers import admin_conn, run_cli
from tests.cloud_ops.conftest import Dept
from tests.cloud_ops.helpers import make_server, make_volume

pytestmark = pytest.mark.openstack


def _parse(t: str) -> datetime:
    d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def test_usage_report_matches_raw_usage_api_and_volume_list(applied_dept: Dept, tmp_path: Path) -> None:
    d = applied_dept
    ops = CloudOps(d.cloud)
    make_server(ops, d.project_id, "sb-1", "m1.tiny")
    make_server(ops, d.project_id, "sb-2", "m1.small")
    make_volume(ops, d.project_id, "sb-vol", 3)
    # a period that has ended: Nova counts running servers up to min(end, now), so only a past end
    # gives figures that stay the same between two reads
    time.sleep(1.5)  # whole seconds: the volume must exist before the period's end
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(hours=2)

    rows = usage_report(d.store, d.cloud, start, end)
    (row,) = rows

    # independent computation from the raw API answers
    conn = admin_conn()
    q = f"/os-simple-tenant-usage/{d.project_id}?start={start:%Y-%m-%dT%H:%M:%S}&end={end:%Y-%m-%dT%H:%M:%S}"
    raw = conn.compute.get(q, microversion="2.40").json()["tenant_usage"]
    servers = raw["server_usages"]
    assert sorted(s["name"] for s in servers) == ["sb-1", "sb-2"]
    vcpu_h = sum(s["hours"] * s["vcpus"] for s in servers)
    ram_gb_h = sum(s["hours"] * s["memory_mb"] for s in servers) / 1024
    assert row.servers == 2
    assert row.vcpu_hours == pytest.approx(vcpu_h, rel=1e-9)
    assert row.ram_gb_hours == pytest.approx(ram_gb_h, rel=1e-9)
    with d.store.connect() as c:
        from cloudctl.cloud.departments import show_department

        quotas = show_department(c, d.code)["quotas"]
    hours = (end - start).total_seconds() / 3600
    assert row.vcpu_quota == quotas["vcpus"] and row.vcpu_hours_allocated == pytest.approx(quotas["vcpus"] * hours)
    assert row.vcpu_utilisation == pytest.approx(vcpu_h / (quotas["vcpus"] * hours))
    vols = list(conn.block_storage.volumes(all_projects=True, project_id=d.project_id))
    assert row.volumes == len(vols) == 1 and row.volume_gb == 3, (row, [v.to_dict() for v in vols], start, end)
    v_h = sum(v.size * (end - max(_parse(v.created_at), start)).total_seconds() / 3600 for v in vols)
    assert row.volume_gb_hours == pytest.approx(v_h, rel=1e-9)

    # the CLI: CSV has the same figures, HTML is one self-contained page with an SVG chart
    html = tmp_path / "showback.html"
    args = ["usage", "report", "--from", start.isoformat(), "--to", end.isoformat(), "--dept", d.code,
            "--cloud", d.cloud.cloud]
    r = run_cli([*args, "--format", "csv", "--html", str(html)], d.db, timeout=300)
    assert r.returncode == 0, r.stderr
    (rec,) = list(csv.DictReader(io.StringIO(r.stdout)))
    assert float(rec["vcpu_hours"]) == pytest.approx(vcpu_h) and int(rec["servers"]) == 2
    page = html.read_text()
    assert "<svg" in page and d.code in page and "<script" not in page and "http" not in page.split("<svg")[0][-200:]
    assert page.count('class="used"') == 1
    r = run_cli([*args, "--format", "json"], d.db, timeout=300)
    assert json.loads(r.stdout)["departments"][0]["vcpu_hours"] == pytest.approx(vcpu_h)
    r = run_cli(["usage", "report", "--from", end.isoformat(), "--to", start.isoformat()], d.db)
    assert r.returncode == 2 and "--to" in r.stderr
