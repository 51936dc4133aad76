"""The exporter shows the newest checkpoint's row and time (nothing before the first one)."""

from __future__ import annotations

from datetime import datetime

from cloudctl.metrics import Exposition
from cloudctl.metrics.prom import parse_exposition
from tests.audit.conftest import Signer, write


def test_newest_checkpoint_is_exported(store, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    write(store, 3)
    before = parse_exposition(Exposition(store, clock=lambda: 1e9).text())
    assert "cloudctl_audit_checkpoint_seq" not in before and before["cloudctl_audit_log_entries"] == [({}, 3.0)]
    cp = signer.checkpoint(store).newest
    write(store, 2)
    samples = parse_exposition(Exposition(store, clock=lambda: 1e9).text())
    assert samples["cloudctl_audit_checkpoint_seq"] == [({}, 3.0)]
    assert samples["cloudctl_audit_checkpoint_timestamp_seconds"] == [({}, datetime.fromisoformat(cp.at).timestamp())]
    assert samples["cloudctl_audit_log_entries"] == [({}, 5.0)]
