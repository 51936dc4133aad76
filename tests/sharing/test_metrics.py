"""/metrics: data shares per state and class, and the approval duration histogram, from the store."""

from __future__ import annotations

import datetime as dt

from prometheus_client.parser import text_string_to_metric_families

from cloudctl import clock
from cloudctl.metrics.exposition import Exposition
from tests.sharing.conftest import as_json

UNTIL = (clock.current().today() + dt.timedelta(days=90)).isoformat()


def test_share_metrics(shared, cli) -> None:
    store, _ = shared
    assert cli("boss", "share", "resource", "add", "fin-payments", "--dept", "finance", "--gateway", "gw-lab",
               "--service", "fin-api", "--class", "conditional").code == 0
    ids = [as_json(cli("boss", "share", "request", "fin-payments", "--dept", d, "--purpose", "p", "--until", UNTIL,
                       "--format", "json"))["id"] for d in ("tax", "health")]
    for who in ("fin-head", "data-office", "sec-a"):
        assert cli(who, "request", "approve", str(ids[0])).code == 0
    text = Exposition(store, clock=lambda: clock.now().timestamp()).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}  # the text parses as Prometheus reads it
    shares = {(s.labels["state"], s.labels["class"]): s.value for s in families["cloudctl_data_shares"].samples}
    assert shares[("active", "conditional")] == 1 and shares[("pending", "conditional")] == 1
    assert sum(shares.values()) == 2 and {c for _, c in shares} == {"open", "conditional"}
    hist = families["cloudctl_data_share_approval_duration_seconds"]
    assert hist.type == "histogram"
    samples = {(s.name, s.labels.get("le")): s.value for s in hist.samples if s.labels.get("class") == "conditional"}
    assert samples[("cloudctl_data_share_approval_duration_seconds_count", None)] == 1
    assert samples[("cloudctl_data_share_approval_duration_seconds_bucket", "+Inf")] == 1
    assert samples[("cloudctl_data_share_approval_duration_seconds_bucket", "3600.0")] == 1  # decided in seconds
    assert 'collector="sharing"} 1' in text
