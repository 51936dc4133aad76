"""The spool keeps order across restarts and stays bounded."""

from __future__ import annotations

from pathlib import Path

from cloudctl.agent.spool import SEGMENT_RECORDS, Spool


def test_replay_in_order_across_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for i in range(SEGMENT_RECORDS + 10):
        spool.append({"i": i})
    reopened = Spool(tmp_path / "spool")  # an agent restart
    assert len(reopened) == SEGMENT_RECORDS + 10
    seen: list[int] = []
    for seg, batch in reopened.batches():
        seen.extend(r["i"] for r in batch)
        reopened.ack(seg)
    assert seen == list(range(SEGMENT_RECORDS + 10))
    assert len(reopened) == 0


def test_unacked_batch_is_replayed_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append({"i": 1})
    first = [r for _, b in spool.batches() for r in b]
    second = [r for _, b in spool.batches() for r in b]  # delivery failed: no ack
    assert first == second == [{"i": 1}]


def test_bounded_drops_oldest_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_records=2 * SEGMENT_RECORDS)
    total = 5 * SEGMENT_RECORDS
    for i in range(total):
        spool.append({"i": i})
    kept = [r["i"] for _, b in spool.batches() for r in b]
    assert len(kept) <= 2 * SEGMENT_RECORDS
    assert kept == sorted(kept) and kept[-1] == total - 1
    assert spool.dropped == total - len(kept)
