"""The exporter: values from the store, Prometheus naming (promtool), caching until data changes."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from cloudctl.api.heartbeats import record_heartbeat
from cloudctl.api.registry import AgentRecord, create_enrolment, exchange_token
from cloudctl.audit import Actor
from cloudctl.coverage.rollup import rollup_coverage
from cloudctl.metrics import Exposition, Family, render
from cloudctl.metrics.prom import parse_exposition
from tests.audit.tamper import as_database_owner
from tests.monitoring.conftest import need

NOW = 1_790_000_000.0  # 2026-09-21


def _active_agent(store, code: str = "110101001") -> AgentRecord:  # type: ignore[no-untyped-def]
    e = create_enrolment(store, Actor("op"), code, "access")
    who, _ = exchange_token(store, e.token, metrics_address="10.0.0.1:9101")
    return who


def _probe(link_id: str, up: bool, loss: float = 0.0, rtt: float | None = 0.004) -> dict:
    return {"name": link_id, "kind": "icmp", "target": "10.0.0.9", "link_id": link_id, "up": up, "sent": 5,
            "received": 5 - round(loss * 5), "loss_ratio": loss, "rtt_min_s": rtt, "rtt_avg_s": rtt,
            "rtt_max_s": rtt, "rtt_stddev_s": 0.0 if rtt is not None else None}


def test_values_follow_the_store_and_pass_promtool(seeded) -> None:  # type: ignore[no-untyped-def]
    who = _active_agent(seeded)
    record_heartbeat(seeded, who, 1, [_probe("L-ASH", True, 0.2, 0.0125)], now=NOW)
    ex = Exposition(seeded, clock=lambda: NOW)
    body = ex.text()
    samples = parse_exposition(body)

    link_up = {s[0]["link"]: s[1] for s in samples["cloudctl_link_up"]}
    assert link_up == {"L-ASH": 1.0}
    assert samples["cloudctl_link_probe_loss_ratio"] == [
        ({"link": "L-ASH", "division": "110101001", "province": "11"}, 0.2)]
    assert samples["cloudctl_link_probe_rtt_seconds"][0][1] == 0.0125
    beats = samples["cloudctl_agent_last_heartbeat_timestamp_seconds"]
    assert beats == [({"agent": who.agent_id, "division": "110101001", "role": "access"}, NOW)]
    assert samples["cloudctl_agent_heartbeats_total"][0][1] == 1.0
    assert samples["cloudctl_audit_chain_ok"] == [({}, 1.0)]

    # Coverage agrees with the roll-up the CLI and API use.
    today = date.fromtimestamp(NOW)
    summary = rollup_coverage(seeded, today, by_child=True)
    expected = {(lv.level, c.code): lv.ratio for c in summary.children or [] for lv in c.levels if lv.total}
    got = {(s[0]["level"], s[0]["province"]): s[1] for s in samples["cloudctl_coverage_ratio"]}
    assert got == expected
    assert got[("township", "11")] == 2 / 3 and got[("township", "12")] == 0.0
    states = {(s[0]["level"], s[0]["province"], s[0]["state"]): s[1] for s in samples["cloudctl_divisions"]}
    assert states[("township", "11", "covered")] == 2 and states[("township", "11", "uncovered")] == 1
    assert states[("township", "12", "uncovered")] == 2

    promtool = need("promtool")
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", "promtool linter complaints: " + r.stderr


def test_cached_until_the_data_changes(seeded) -> None:  # type: ignore[no-untyped-def]
    clock = [NOW]
    ex = Exposition(seeded, clock=lambda: clock[0], bucket_seconds=15)
    first = ex.cached_text()
    assert ex.cached_text() is first and ex.builds == 1
    who = _active_agent(seeded)  # enrolment writes audit entries: the data version moves
    second = ex.cached_text()
    assert ex.builds == 2 and "cloudctl_agents{role=\"access\",state=\"active\"} 1" in second
    assert ex.cached_text() is second
    record_heartbeat(seeded, who, 1, [_probe("L-ASH", True)], now=NOW)  # new heartbeat: rebuilt
    assert "cloudctl_link_up{" in ex.cached_text() and ex.builds == 3
    clock[0] += 15  # the next time bucket: rebuilt for time-derived values
    ex.cached_text()
    assert ex.builds == 4


def test_audit_chain_tampering_turns_the_gauge_to_zero(seeded) -> None:  # type: ignore[no-untyped-def]
    clock = [NOW]
    ex = Exposition(seeded, clock=lambda: clock[0], bucket_seconds=1, audit_full_interval=5)
    assert "cloudctl_audit_chain_ok 1\n" in ex.text()
    with seeded.begin() as conn:  # an edit behind the log's back: no new seq, so only a full check sees it
        as_database_owner(conn)  # PostgreSQL: only the owner (triggers off) can still edit audit rows
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    clock[0] += 1
    assert "cloudctl_audit_chain_ok 1\n" in ex.text()  # not yet: incremental checks only read new rows
    clock[0] += 5
    assert "cloudctl_audit_chain_ok 0\n" in ex.text()


def test_appended_rows_behind_the_head_are_seen_incrementally(seeded) -> None:  # type: ignore[no-untyped-def]
    clock = [NOW]
    ex = Exposition(seeded, clock=lambda: clock[0], bucket_seconds=1, audit_full_interval=3600)
    assert "cloudctl_audit_chain_ok 1\n" in ex.text()
    with seeded.begin() as conn:  # a forged row appended without moving the head
        as_database_owner(conn)
        conn.execute(text("INSERT INTO audit_log (seq, at, actor, command, action, object_type, object_id, "
                          "prev_hash, hash) VALUES (2, 'x', 'm', '', 'a', 'b', 'c', 'p', 'h')"))
    clock[0] += 1
    assert "cloudctl_audit_chain_ok 0\n" in ex.text()


def test_render_escapes_label_values_and_formats_numbers() -> None:
    f = Family("cloudctl_x", "gauge", "help with \\ backslash\nand newline", ("a",))
    f.add(1.0, 'quote " back \\ nl \n')
    f.add(0.5, "plain")
    f.add(float("inf"), "inf")
    out = render([f])
    assert 'cloudctl_x{a="quote \\" back \\\\ nl \\n"} 1.0\n' in out
    assert 'cloudctl_x{a="plain"} 0.5\n' in out and 'cloudctl_x{a="inf"} +Inf\n' in out
    parsed = parse_exposition(out)["cloudctl_x"]
    assert parsed[0] == ({"a": 'quote " back \\ nl \n'}, 1.0)


def test_absent_capabilities_emit_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    body = Exposition(seeded, clock=lambda: NOW).text()
    for name in ("cloudctl_department_quota", "cloudctl_gateway_publications", "cloudctl_approval_requests"):
        assert f"\n{name}{{" not in body and f"\n{name} " not in body


def test_a_failing_collector_is_reported_not_fatal(seeded) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.metrics.exposition import COLLECTORS

    def collect_broken(ctx):  # type: ignore[no-untyped-def]
        ctx.conn.execute(text("SELECT * FROM no_such_table"))

    ex = Exposition(seeded, clock=lambda: NOW, collectors=(collect_broken, *COLLECTORS))
    samples = parse_exposition(ex.text())
    success = {s[0]["collector"]: s[1] for s in samples["cloudctl_collector_success"]}
    assert success["broken"] == 0.0 and success["coverage"] == 1.0 and success["links"] == 1.0
    assert samples["cloudctl_coverage_ratio"]  # later collectors still ran


def test_target_pace_is_a_straight_line_from_setting_to_deadline(seeded) -> None:  # type: ignore[no-untyped-def]
    from cloudctl.metrics.coverage import pace_ratio

    assert pace_ratio(0.2, 1.0, 0.0, 100.0, 50.0) == pytest.approx(0.6)
    assert pace_ratio(0.2, 1.0, 0.0, 100.0, 150.0) == 1.0 and pace_ratio(0.2, 1.0, 10.0, 100.0, 0.0) == 0.2
    with seeded.begin() as conn:  # set on 2024-03-01 (township coverage then: 1/5), due 2027-03-01
        conn.execute(text("INSERT INTO coverage_target (level, region_code, ratio, by_date, set_at) "
                          "VALUES ('township', '', 1.0, '2027-03-01', '2024-03-01T00:00:00+00:00')"))
    samples = parse_exposition(Exposition(seeded, clock=lambda: NOW).text())
    key = {"level": "township", "region": "all"}
    assert samples["cloudctl_coverage_target_ratio"] == [(key, 1.0)]
    assert samples["cloudctl_coverage_target_current_ratio"] == [(key, 2 / 5)]
    start, end = datetime(2024, 3, 1, tzinfo=UTC).timestamp(), datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    expected = 1 / 5 + (1.0 - 1 / 5) * (NOW - start) / (end - start)
    assert samples["cloudctl_coverage_target_pace_ratio"] == [(key, pytest.approx(expected))]
    assert samples["cloudctl_coverage_target_deadline_timestamp_seconds"] == [(key, end)]


def test_metrics_over_http_gzip_is_one_stream_with_the_same_samples(seeded) -> None:  # type: ignore[no-untyped-def]
    import warnings

    from cloudctl.api.app import ApiSettings, create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    client = TestClient(create_app(seeded, ApiSettings(process_metrics=False)))
    for _ in range(2):  # the second answer comes from the cached compressed part
        packed = client.get("/metrics", headers={"Accept-Encoding": "gzip"})
        plain = client.get("/metrics", headers={"Accept-Encoding": "identity"})
        assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    # httpx decodes gzip with a single-member decoder: a multi-member answer would lose its tail
    got, want = parse_exposition(packed.text), parse_exposition(plain.text)
    assert set(got) == set(want) and got["cloudctl_coverage_ratio"] == want["cloudctl_coverage_ratio"]
    assert "cloudctl_exposition_builds_total" in got and "cloudctl_api_rejected_requests_total" in got
