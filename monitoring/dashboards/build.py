"""Build cloudctl's Grafana dashboards with grafana-foundation-sdk.

    python3 monitoring/dashboards/build.py [--out DIR]     (default: this directory)

Writes cloudctl-overview.json. tests/monitoring/test_dashboards.py rebuilds it, compares it
with the committed file, and checks every panel expression with promtool.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

HERE = Path(__file__).parent
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
P = 'province=~"$province"'


def q(expr: str, legend: str = "", *, instant: bool = False) -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).legend_format(legend or "__auto")
    return query.instant() if instant else query.range()


def ts(title: str, unit: str, *queries: prometheus.Dataquery, desc: str = "", w: int = 12) -> timeseries.Panel:
    p = timeseries.Panel().title(title).description(desc).unit(unit).datasource(DS).span(w).height(8)
    for query in queries:
        p = p.with_target(query)
    return p


def st(title: str, unit: str, expr: str, desc: str = "", w: int = 6) -> stat.Panel:
    return (stat.Panel().title(title).description(desc).unit(unit).datasource(DS).span(w).height(4)
            .with_target(q(expr, instant=True)))


def overview() -> dashboard.Dashboard:
    d = (dashboard.Dashboard("cloudctl — extranet, agents and cloud").uid("cloudctl-overview")
         .tags(["cloudctl"]).refresh("1m").time("now-24h", "now").timezone("utc")
         .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
         .with_variable(dashboard.QueryVariable("province").label("Province").datasource(DS)
                        .query("label_values(cloudctl_divisions, province)").multi(True).include_all(True)
                        .all_value(".*").refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)))
    d = (d.with_row(dashboard.Row("Coverage"))
         .with_panel(st("Township coverage (country)", "percentunit",
                        'level:cloudctl_divisions_covered:ratio{level="township"}',
                        "Share of townships with an active extranet link."))
         .with_panel(st("Village coverage (country)", "percentunit",
                        'level:cloudctl_divisions_covered:ratio{level="village"}'))
         .with_panel(st("Uncovered townships", "short",
                        f'sum(cloudctl_divisions{{level="township", state="uncovered", {P}}})'))
         .with_panel(st("Targets behind pace", "short",
                        "count(cloudctl_coverage_target_current_ratio < cloudctl_coverage_target_pace_ratio)"
                        " or vector(0)"))
         .with_panel(ts("Coverage by level (country)", "percentunit",
                        q("level:cloudctl_divisions_covered:ratio", "{{level}}")))
         .with_panel(ts("Targets: current against pace", "percentunit",
                        q("cloudctl_coverage_target_current_ratio", "{{level}} {{region}} now"),
                        q("cloudctl_coverage_target_pace_ratio", "{{level}} {{region}} pace")))
         .with_panel(bargauge.Panel().title("Township coverage by province").unit("percentunit").min(0).max(1)
                     .datasource(DS).span(24).height(8)
                     .with_target(q(f'sort_desc(cloudctl_coverage_ratio{{level="township", {P}}})', "{{province}}",
                                    instant=True))))
    d = (d.with_row(dashboard.Row("Links and agents"))
         .with_panel(st("Township links down", "short",
                        f"sum(province:cloudctl_links_down:count{{{P}}}) or vector(0)"))
         .with_panel(st("Silent agents (> 2 min)", "short",
                        "count(agent:cloudctl_heartbeat_age:seconds > 120) or vector(0)"))
         .with_panel(st("Heartbeats per second", "reqps", "cloudctl:agent_heartbeats:rate5m"))
         .with_panel(st("Oldest heartbeat", "s", "max(agent:cloudctl_heartbeat_age:seconds)"))
         .with_panel(ts("Links up by province", "percentunit",
                        q(f"province:cloudctl_link_up:ratio{{{P}}}", "{{province}}")))
         .with_panel(ts("Worst probe loss (top 10 links)", "percentunit",
                        q(f"topk(10, cloudctl_link_probe_loss_ratio{{{P}}})", "{{link}} {{division}}")))
         .with_panel(ts("Slowest links: mean RTT (top 10)", "s",
                        q(f"topk(10, cloudctl_link_probe_rtt_seconds{{{P}}})", "{{link}} {{division}}")))
         .with_panel(ts("Heartbeat age per agent (top 10)", "s",
                        q("topk(10, agent:cloudctl_heartbeat_age:seconds)", "{{agent}} {{role}}")))
         .with_panel(table.Panel().title("Links down now").datasource(DS).span(24).height(8)
                     .with_target(q(f"cloudctl_link_up{{{P}}} == 0", instant=True))))
    d = (d.with_row(dashboard.Row("Availability"))
         .with_panel(st("Provinces below their availability target", "short",
                        "count(cloudctl_link_availability_ratio < cloudctl_link_availability_target_ratio)"
                        " or vector(0)",
                        "Province and level pairs whose links' availability over the window (setting "
                        "availability_window) is below the target that applies: the province's own, else the "
                        "national one. LinkAvailabilityBelowTarget fires after an hour.", w=6))
         .with_panel(ts("Township link availability by province, against the target", "percentunit",
                        q(f'cloudctl_link_availability_ratio{{level="township", {P}}}', "{{province}}"),
                        q(f'cloudctl_link_availability_target_ratio{{level="township", {P}}}', "{{province}} target"),
                        desc="Up / (up + down) of each province's township links over the availability window; "
                             "beside it the target that applies (`coverage target set --metric availability`).", w=18)))
    d = (d.with_row(dashboard.Row("Cloud, gateways, approvals"))
         .with_panel(bargauge.Panel().title("Quota use (top 20 department/resource)").unit("percentunit")
                     .min(0).max(1).datasource(DS).span(12).height(8)
                     .with_target(q("topk(20, department_resource:cloudctl_quota_usage:ratio)",
                                    "{{department}} {{resource}}", instant=True)))
         .with_panel(ts("Gateway publications by state", "short",
                        q("sum by (state) (cloudctl_gateway_publications)", "{{state}}"),
                        q("sum(cloudctl_gateway_drift)", "gateways drifted")))
         .with_panel(ts("Approval requests by state", "short",
                        q("sum by (state) (cloudctl_approval_requests)", "{{state}}"),
                        q("sum by (kind) (cloudctl_approval_requests_overdue)", "{{kind}} overdue"))))
    d = (d.with_row(dashboard.Row("cloudctl itself"))
         .with_panel(st("Audit chain", "bool_yes_no", "min(cloudctl_audit_chain_ok)",
                        "1 = every audit row verifies; 0 = tampered (run `cloudctl audit verify`)."))
         .with_panel(st("Audit entries", "short", "max(cloudctl_audit_log_entries)"))
         .with_panel(st("Exporter up", "bool_yes_no", 'min(up{job="cloudctl"})'))
         .with_panel(st("Collectors failing", "short", "count(cloudctl_collector_success == 0) or vector(0)"))
         .with_panel(ts("Requests refused by the API", "reqps",
                        q("sum by (reason) (rate(cloudctl_api_rejected_requests_total[$__rate_interval]))",
                          "{{reason}}")))
         .with_panel(ts("Exposition rebuild time", "s", q("cloudctl_exposition_build_duration_seconds", "build"))))
    return d


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cloudctl-overview.json"
    path.write_text(json.dumps(overview().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n")
    return [path]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    for p in write(parser.parse_args().out):
        print(p)
