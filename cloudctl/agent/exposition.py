"""The agent's own /metrics text (Prometheus text format 0.0.4), rendered from AgentState.

Small and fixed, so it is written directly rather than through prometheus_client.
"""

from __future__ import annotations

from cloudctl.agent.runner import AgentState


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(state: AgentState) -> str:
    with state.lock:
        results = list(state.last_results)
        lines = [
            "# HELP cloudctl_agent_rounds_total Probe rounds run since the agent started.",
            "# TYPE cloudctl_agent_rounds_total counter",
            f"cloudctl_agent_rounds_total {state.rounds}",
            "# HELP cloudctl_agent_heartbeats_delivered_total Heartbeat records delivered to the API.",
            "# TYPE cloudctl_agent_heartbeats_delivered_total counter",
            f"cloudctl_agent_heartbeats_delivered_total {state.delivered}",
            "# HELP cloudctl_agent_heartbeats_spooled_total Heartbeat records spooled while the API was away.",
            "# TYPE cloudctl_agent_heartbeats_spooled_total counter",
            f"cloudctl_agent_heartbeats_spooled_total {state.spooled}",
            "# HELP cloudctl_agent_heartbeats_duplicate_total Heartbeat records the API answered as already seen.",
            "# TYPE cloudctl_agent_heartbeats_duplicate_total counter",
            f"cloudctl_agent_heartbeats_duplicate_total {state.duplicates}",
            "# HELP cloudctl_agent_seq_resyncs_total Times the sequence counter moved up to the API's last_seq.",
            "# TYPE cloudctl_agent_seq_resyncs_total counter",
            f"cloudctl_agent_seq_resyncs_total {state.resyncs}",
            "# HELP cloudctl_agent_spool_skipped_records_total Spool lines skipped: not a whole record (torn write).",
            "# TYPE cloudctl_agent_spool_skipped_records_total counter",
            f"cloudctl_agent_spool_skipped_records_total {state.spool_skipped}",
            "# HELP cloudctl_agent_spool_dropped_records_total Spooled records dropped because the spool was full.",
            "# TYPE cloudctl_agent_spool_dropped_records_total counter",
            f"cloudctl_agent_spool_dropped_records_total {state.spool_dropped}",
            "# HELP cloudctl_agent_seq Last heartbeat sequence number used.",
            "# TYPE cloudctl_agent_seq gauge",
            f"cloudctl_agent_seq {state.seq}",
            "# HELP cloudctl_agent_api_up Whether the last delivery to the central API succeeded.",
            "# TYPE cloudctl_agent_api_up gauge",
            f"cloudctl_agent_api_up {int(state.api_up)}",
            "# HELP cloudctl_agent_last_round_timestamp_seconds When the last probe round finished.",
            "# TYPE cloudctl_agent_last_round_timestamp_seconds gauge",
            f"cloudctl_agent_last_round_timestamp_seconds {state.last_round_ts}",
        ]
    series = [
        ("cloudctl_agent_probe_up", "Whether the probe target answered at least once in the last round.",
         lambda r: int(r.up)),
        ("cloudctl_agent_probe_loss_ratio", "Share of probe packets lost in the last round (0-1).",
         lambda r: r.stats.loss_ratio),
        ("cloudctl_agent_probe_rtt_min_seconds", "Minimum round-trip time in the last round.",
         lambda r: r.stats.rtt_min_s),
        ("cloudctl_agent_probe_rtt_avg_seconds", "Mean round-trip time in the last round.",
         lambda r: r.stats.rtt_avg_s),
        ("cloudctl_agent_probe_rtt_max_seconds", "Maximum round-trip time in the last round.",
         lambda r: r.stats.rtt_max_s),
        ("cloudctl_agent_probe_rtt_stddev_seconds", "Population standard deviation of the round-trip time.",
         lambda r: r.stats.rtt_stddev_s),
    ]
    for name, help_text, value in series:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for r in results:
            v = value(r)
            if v is None:
                continue
            labels = f'probe="{_label(r.name)}",kind="{r.kind}",link_id="{_label(r.link_id or "")}"'
            lines.append(f"{name}{{{labels}}} {float(v)}")
    return "\n".join(lines) + "\n"
